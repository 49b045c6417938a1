import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cleanUpOnInterrupt, createBenchDatabase, createEmptyDatabase, dropAllCreated, pgServer, serverFacts } from './lib/pg';
import { createBenchRetailer, skuOf, BENCH_ADMIN_TOKEN, type BenchRetailer } from './lib/retailer';
import { processTree, startAppServer, stopAllServers } from './lib/app-server';
import { closedLoop, dataOf, graphqlClient, measuredOnServer, type GraphqlClient, type Outcome } from './lib/load';
import { partCpuSeconds, startRssSampler, mib, type ProcessGroup, type RssSampler } from './lib/memory';
import { stockAuditFailures } from './lib/checks';
import { fmt, summarize, type Summary } from './lib/stats';
import { markdownTable, textTable, type Row, type Section } from './lib/report';
import { AVAILABILITY } from './availability';
import { PLACE, placeWebPickup } from './place-order';
import { CART_CHECKOUT, placeCartCheckout } from './carts';
import {
  drainJobs,
  installVendure,
  jobsByQueue,
  pendingJobs,
  peersCacheDir,
  populateVendure,
  stopAllVendure,
  vendureCheckout,
  vendureOn,
  vendureStockCheck,
  VENDURE_ADMIN_AVAILABILITY,
  VENDURE_CHECKOUT,
  VENDURE_SHOP_AVAILABILITY,
  VENDURE_VERSION,
} from './lib/vendure';

/*
 * npm run bench:peers: Unichannel against Vendure (from npm, on this machine, in the same run), the same loads
 * through the same load generator (lib/load.ts) at the same concurrency on comparable data, the servers taking
 * turns (the other paused): availability reads, checkouts, and each server's resident memory (all its
 * processes) idle and under load. A full run writes bench/PEERS.md.
 *   PEERS_QUICK=1          a smoke run (short windows, small data); PEERS.md is not written
 *   PEERS_OUT=<file>       write the report there instead (also for a quick run)
 *   PEERS_CACHE_DIR=<dir>  where Vendure is installed (default $TMPDIR/unichannel-peers)
 */

const quick = ['1', 'true', 'yes'].includes((process.env.PEERS_QUICK ?? '').toLowerCase());
const cfg = {
  stores: quick ? 5 : 20,
  skus: quick ? 50 : 200,
  variantsPerProduct: 5,
  unitsPerLevel: 50_000,
  clients: 16,
  durationMs: quick ? 5_000 : 10_000,
  // Checkouts get a longer window: a Vendure checkout (six requests, 16 shoppers) takes seconds here, and a
  // window of a few rounds would count whole rounds or none.
  checkoutMs: quick ? 10_000 : 30_000,
  warmupMs: quick ? 500 : 2_000,
  idleMs: quick ? 1_000 : 3_000,
  // Quiet before the idle sample: past Unichannel's collection once a whole 10 s interval went by without a request
  // (10-20 s after the last: src/lib/memory.ts settleHeap), which is how an idle server of it stands; Vendure gets
  // the same quiet.
  quietMs: quick ? 2_000 : 22_000,
};
const priceOf = (n: number) => 500 + ((n * 7919) % 20_000); // lib/retailer.ts' prices, in cents
const runId = Math.random().toString(36).slice(2, 8);
let keys = 0;
/** A fresh idempotency key per order (warm-up and measured loops count their clients' operations from 0 alike). */
const nextKey = () => `peers-${runId}-${keys++}`;
const log = (m: string) => console.log(m);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const interrupted = cleanUpOnInterrupt('the servers', () => {
  resumeAll();
  return Promise.all([stopAllServers(), stopAllVendure()]);
});

/** Two different random SKU numbers (0-based): the basket of every checkout, on both servers. */
function basket(): [number, number] {
  const a = Math.floor(Math.random() * cfg.skus);
  const b = (a + 1 + Math.floor(Math.random() * (cfg.skus - 1))) % cfg.skus;
  return [a, b];
}

type Op = (client: number, i: number) => Promise<Outcome>;
interface Load {
  key: string;
  label: string;
  op: Op;
  durationMs?: number;
}
interface Measured extends Summary {
  cpuMsPerOp: number;
  /** The same per part (Vendure: server, worker). */
  cpuMsPerOpParts: number[];
  coreShare: number;
}
interface PhaseResult {
  results: Record<string, Measured>;
  idle: { total: number; parts: number[]; samples: number };
  peak: { total: number; parts: number[]; samples: number };
  parts: string[];
}

/*
 * Both servers stay up through the run and take turns: while one warms up or is measured, the other is paused
 * (SIGSTOP on every process of its tree, SIGCONT after), so neither takes CPU from the other's windows (not even
 * Vendure's job queue polling), and each pair of windows is measured back to back, through the same spell of
 * whatever else this shared machine runs.
 */
const paused = new Set<number>();
function signalGroup(g: ProcessGroup, signal: 'SIGSTOP' | 'SIGCONT') {
  for (const root of Object.values(g.roots))
    for (const pid of processTree(root)) {
      try {
        process.kill(pid, signal);
        if (signal === 'SIGSTOP') paused.add(pid);
        else paused.delete(pid);
      } catch {
        // gone
      }
    }
}
function resumeAll() {
  for (const pid of [...paused]) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
    paused.delete(pid);
  }
}

/** A server under test: its processes, its loads, its memory sampler (from its warm-up on). */
class Contender {
  private sampler?: RssSampler;
  private t0 = 0;
  results: Record<string, Measured> = {};
  idle?: PhaseResult['idle'];
  other?: Contender;
  constructor(
    readonly name: string,
    readonly procs: ProcessGroup & { cpuSeconds(): number },
    /** New connections for the clients (a server paused past its keep-alive timeout closes the old ones on waking). */
    readonly reconnect: () => void,
    readonly loads: Load[],
    /** Waits until the server is quiet (Vendure: its job queue empty). */
    readonly settle: () => Promise<void> = async () => {},
  ) {}

  /** This server runs, the other one is paused. */
  focus() {
    signalGroup(this.procs, 'SIGCONT');
    if (this.other) signalGroup(this.other.procs, 'SIGSTOP');
    this.reconnect();
  }

  /** Warm-up (every load for warmupMs), a quiet moment (settle, then quietMs), then the idle memory (median over idleMs). */
  async warmUpAndIdle() {
    this.focus();
    this.sampler = startRssSampler(this.procs, 200);
    this.t0 = performance.now();
    log(`  ${this.name}: warm-up (${this.loads.length} loads × ${cfg.warmupMs / 1000} s)`);
    for (const l of this.loads) {
      const w = await closedLoop({ concurrency: cfg.clients, durationMs: 0, warmupMs: cfg.warmupMs, op: l.op });
      if (w.errors) throw w.firstError;
    }
    await this.settle();
    await sleep(cfg.quietMs);
    const from = performance.now();
    await sleep(cfg.idleMs);
    this.idle = this.sampler.median(from, performance.now());
    log(`  ${this.name}: idle ${mib(this.idle.total)} (${this.sampler.names.map((n, i) => `${n} ${mib(this.idle!.parts[i]!)}`).join(', ')})`);
  }

  /** One load: warmupMs, then durationMs measured (operations that ended in the window), CPU of every process. */
  async measure(key: string) {
    const l = this.loads.find((x) => x.key === key)!;
    this.focus();
    const durationMs = l.durationMs ?? cfg.durationMs;
    log(`  ${this.name}: ${l.label}, ${cfg.clients} clients × ${durationMs / 1000} s`);
    const parts0 = partCpuSeconds(this.procs);
    const m = await measuredOnServer(this.procs, () =>
      closedLoop({ concurrency: cfg.clients, durationMs, warmupMs: cfg.warmupMs, count: 'ended', op: l.op }),
    );
    const cpuMsPerOpParts = partCpuSeconds(this.procs).map((x, i) => ((x - parts0[i]!) * 1000) / m.result.completed);
    if (m.result.errors) throw m.result.firstError;
    const r = { ...summarize(m.result.latencies, m.result.elapsedMs, m.result.ok), cpuMsPerOp: m.cpuMsPerOp, cpuMsPerOpParts, coreShare: m.coreShare };
    this.results[key] = r;
    log(`    ${fmt.rate(r.perSecond)}, p50 ${fmt.ms(r.p50)}, p99 ${fmt.ms(r.p99)}, ${r.cpuMsPerOp.toFixed(1)} ms CPU per operation`);
    return r;
  }

  /** Ends the memory sampling: the peak is the highest sum from the warm-up to now. */
  finish(): PhaseResult {
    this.sampler!.stop();
    const peak = this.sampler!.peak(this.t0, performance.now());
    log(`  ${this.name}: peak ${mib(peak.total)} (${this.sampler!.names.map((n, i) => `${n} ${mib(peak.parts[i]!)}`).join(', ')})`);
    return { results: this.results, idle: this.idle!, peak, parts: this.sampler!.names };
  }
}

async function main() {
  const started = new Date();
  const t0 = performance.now();
  const load0 = os.loadavg();
  const pg = await serverFacts();
  const command = `${quick ? 'PEERS_QUICK=1 ' : ''}npm run bench:peers`;
  log(`Unichannel vs Vendure ${VENDURE_VERSION}${quick ? ' (quick)' : ''}: ${cfg.clients} clients, ${cfg.durationMs / 1000} s windows (checkouts ${cfg.checkoutMs / 1000} s) after ${cfg.warmupMs / 1000} s of warm-up`);

  const install = await installVendure(log);
  log(`  Vendure ${install.versions['@vendure/core']} in ${install.dir} (${install.installSeconds === null ? 'cached' : `installed in ${install.installSeconds.toFixed(0)} s`})`);

  // The data of both, before anything is measured.
  log(`  Unichannel: ${cfg.stores} stores × ${cfg.skus} SKUs × ${fmt.int(cfg.unitsPerLevel)} units, ${cfg.clients} customers, through the services`);
  const tu = performance.now();
  const u = await createBenchDatabase('peers_unichannel');
  const r: BenchRetailer = await createBenchRetailer(u.db, { stores: cfg.stores, skus: cfg.skus, unitsPerLevel: cfg.unitsPerLevel, customers: cfg.clients, staff: false, variantsPerProduct: cfg.variantsPerProduct });
  const unichannelSetupS = (performance.now() - tu) / 1000;
  const vdb = await createEmptyDatabase('peers_vendure');
  const vendure = vendureOn(install, vdb.url);
  const shop = await populateVendure(vendure, { stores: cfg.stores, skus: cfg.skus, unitsPerLevel: cfg.unitsPerLevel, variantsPerProduct: cfg.variantsPerProduct, priceOf }, cfg.clients, log);
  for (let n = 1; n <= cfg.skus; n++) if (r.variants[n - 1]!.price !== priceOf(n)) throw new Error('Unichannel bench prices differ from the Vendure catalog');

  // Unichannel: the app server as the other benchmarks start it, with what npm start runs beside the API.
  // Vendure: its server and its worker, started afresh after the set-up.
  const server = await startAppServer(u.url, BENCH_ADMIN_TOKEN, {}, { background: true });
  let uniClient = graphqlClient(server.url, cfg.clients);
  let procs: Awaited<ReturnType<typeof vendure.start>> | undefined;
  let admin: GraphqlClient | undefined;
  let shopClient: GraphqlClient | undefined;
  let uni: PhaseResult;
  let ven: PhaseResult;
  let jobs0: Record<string, number>;
  let jobsAtEnd: number;
  let drained: { waitedMs: number; left: number };
  try {
    const pick = () => r.variants[Math.floor(Math.random() * cfg.skus)]!;
    const reconnectU = () => {
      uniClient.close();
      uniClient = graphqlClient(server.url, cfg.clients);
    };
    const U = new Contender('Unichannel', { roots: { server: server.pid }, cpuSeconds: () => server.cpuSeconds() }, reconnectU, [
      {
        key: 'read',
        label: 'availability reads',
        op: async () => {
          const d = dataOf(await uniClient.post(null, AVAILABILITY, { sku: pick().sku }));
          if (d.variantBySku.availability.length !== cfg.stores) throw new Error('availability: wrong number of locations');
          return 'ok';
        },
      },
      {
        key: 'checkout',
        label: 'web pickups (placeOrder)',
        durationMs: cfg.checkoutMs,
        op: (c) => placeWebPickup(uniClient, r.customers[c]!.token, nextKey(), r.stores[c % cfg.stores]!.id, basket().map((n) => r.variants[n]!)),
      },
      {
        key: 'cart',
        label: 'cart checkouts (createCart, setCartFulfilment, checkoutCart)',
        durationMs: cfg.checkoutMs,
        op: (c) => placeCartCheckout(uniClient, r.customers[c]!.token, nextKey(), r.stores[c % cfg.stores]!.id, basket().map((n) => r.variants[n]!)),
      },
    ]);
    log('\n== Unichannel: warm-up and idle memory ==');
    await U.warmUpAndIdle();

    log('\n== Vendure: start, warm-up and idle memory ==');
    signalGroup(U.procs, 'SIGSTOP');
    procs = await vendure.start();
    jobs0 = await jobsByQueue(vendure.databaseUrl);
    const vendureUrl = procs.url;
    const reconnectV = () => {
      admin?.close();
      shopClient?.close();
      admin = graphqlClient(vendureUrl, cfg.clients, '/admin-api');
      shopClient = graphqlClient(vendureUrl, cfg.clients, '/shop-api');
    };
    const drain = async () => {
      const d = await drainJobs(vendure.databaseUrl, 120_000);
      if (d.left) log(`  Vendure: ${d.left} jobs still queued after ${(d.waitedMs / 1000).toFixed(0)} s`);
      return d;
    };
    const V = new Contender(
      'Vendure',
      procs,
      reconnectV,
      [
        {
          key: 'read',
          label: 'availability reads, Admin API productVariants by SKU',
          op: async () => {
            const d = dataOf(await admin!.post(shop.adminToken, VENDURE_ADMIN_AVAILABILITY, { sku: skuOf(1 + Math.floor(Math.random() * cfg.skus)) }));
            if (d.productVariants.items[0]?.stockLevels.length !== cfg.stores) throw new Error('Vendure availability: wrong number of stock locations');
            return 'ok';
          },
        },
        {
          key: 'shopRead',
          label: 'stock reads, Shop API product(slug)',
          op: async () => {
            const d = dataOf(await shopClient!.post(null, VENDURE_SHOP_AVAILABILITY, { slug: shop.slugs[Math.floor(Math.random() * shop.slugs.length)] }));
            if (d.product?.variants.length !== cfg.variantsPerProduct) throw new Error('Vendure product: wrong number of variants');
            return 'ok';
          },
        },
        {
          key: 'checkout',
          label: 'checkouts (6 Shop API requests)',
          durationMs: cfg.checkoutMs,
          op: (c) => vendureCheckout(shopClient!, shop.shopperTokens[c]!, shop.shippingMethodId, basket().map((n) => shop.variantIds[n]!)),
        },
      ],
      async () => void (await drain()),
    );
    U.other = V;
    V.other = U;
    await V.warmUpAndIdle();

    // The windows, each pair back to back: reads (Vendure's two, then Unichannel's), checkouts (Unichannel's two,
    // then Vendure's, whose worker is left to finish its queue before the end).
    log('\n== Availability reads ==');
    await V.measure('read');
    await V.measure('shopRead');
    await U.measure('read');
    log('\n== Checkouts ==');
    await U.measure('checkout');
    await U.measure('cart');
    await V.measure('checkout');
    jobsAtEnd = await pendingJobs(vendure.databaseUrl);
    drained = await drain();
    log('');
    uni = U.finish();
    ven = V.finish();
  } finally {
    resumeAll();
    uniClient.close();
    admin?.close();
    shopClient?.close();
    await Promise.all([server.stop(), procs?.stop()]);
  }
  const uniAudit = await stockAuditFailures(u.db);
  await u.drop();
  const venStock = await vendureStockCheck(vendure.databaseUrl);
  const jobs1 = await jobsByQueue(vendure.databaseUrl);
  const jobsDuringRun = Object.entries(jobs1)
    .map(([q, n]) => [q, n - (jobs0[q] ?? 0)] as const)
    .filter(([, n]) => n > 0);
  await vdb.drop();

  // The report.
  const seconds = (performance.now() - t0) / 1000;
  const load1 = os.loadavg();
  const U = uni.results;
  const V = ven.results;
  const row = (metric: string, a: number, b: number, f: (x: number) => string): Row => ({ metric, figure: f(a), baseline: f(b), ratio: fmt.ratio(a / b) });
  const vIdx = (part: string) => ven.parts.indexOf(part);
  const rows: Row[] = [
    row('availability reads/s (Vendure: Admin API, variant by SKU, stock per location)', U.read!.perSecond, V.read!.perSecond, fmt.rate),
    row('availability read p50', U.read!.p50, V.read!.p50, fmt.ms),
    row('availability read p99', U.read!.p99, V.read!.p99, fmt.ms),
    row('availability reads/s (Vendure: Shop API, product by slug, stockLevel)', U.read!.perSecond, V.shopRead!.perSecond, fmt.rate),
    row('availability read p50 (Vendure: Shop API)', U.read!.p50, V.shopRead!.p50, fmt.ms),
    row('availability read p99 (Vendure: Shop API)', U.read!.p99, V.shopRead!.p99, fmt.ms),
    row('checkouts/s (Unichannel: web pickup placeOrder, 1 request; Vendure: 6 requests)', U.checkout!.perSecond, V.checkout!.perSecond, fmt.rate),
    row('checkout p50', U.checkout!.p50, V.checkout!.p50, fmt.ms),
    row('checkout p99', U.checkout!.p99, V.checkout!.p99, fmt.ms),
    row('checkouts/s (Unichannel: cart, 3 requests; Vendure: 6 requests)', U.cart!.perSecond, V.checkout!.perSecond, fmt.rate),
    row('checkout p99 (Unichannel: cart)', U.cart!.p99, V.checkout!.p99, fmt.ms),
    row('server CPU per availability read (Vendure: Admin API)', U.read!.cpuMsPerOp, V.read!.cpuMsPerOp, (x) => `${x.toFixed(2)} ms`),
    row('server CPU per checkout (Unichannel: placeOrder)', U.checkout!.cpuMsPerOp, V.checkout!.cpuMsPerOp, (x) => `${x.toFixed(1)} ms`),
    row('resident memory, idle after warm-up (all processes)', uni.idle.total, ven.idle.total, mib),
    row('resident memory, peak under load (all processes)', uni.peak.total, ven.peak.total, mib),
    {
      metric: 'stock counts after the run agree with the stock movements',
      figure: uniAudit === 0 ? 'yes' : `no: ${uniAudit} levels`,
      baseline: venStock.ok ? 'yes' : `no: ${fmt.int(venStock.allocations - venStock.allocated)} allocated units lost`,
      ratio: '',
    },
  ];
  const uniDone = { reads: U.read!.count, checkouts: U.checkout!.count + U.cart!.count };
  const venDone = { reads: V.read!.count + V.shopRead!.count, checkouts: V.checkout!.count };
  const perPart = (p: PhaseResult, which: 'idle' | 'peak') => p.parts.map((n, i) => `${n} ${mib(p[which].parts[i]!)}`).join(', ');
  const notes = [
    `Measured: Unichannel ${fmt.int(U.read!.count)} reads, ${fmt.int(U.checkout!.count)} placeOrder checkouts, ${fmt.int(U.cart!.count)} cart checkouts; ` +
      `Vendure ${fmt.int(V.read!.count)} Admin API reads, ${fmt.int(V.shopRead!.count)} Shop API reads, ${fmt.int(V.checkout!.count)} checkouts. No errors on either side (a failed request stops the run).`,
    `Unichannel is one process (idle ${mib(uni.idle.total)}, peak ${mib(uni.peak.total)}). Vendure is two, as its starter runs it: idle ${perPart(ven, 'idle')}; peak ${perPart(ven, 'peak')} ` +
      `(each part's own highest; the peak of the sum is ${mib(ven.peak.total)}). Vendure's server alone against Unichannel: idle ${fmt.ratio(uni.idle.total / ven.idle.parts[vIdx('server')]!)}, ` +
      `peak ${fmt.ratio(uni.peak.total / ven.peak.parts[vIdx('server')]!)}. Both peaks come from the same windows, not the same work: V8 grows a ` +
      `process's heap with what it allocates and collects lazily (Node's default heap limit), and in them Unichannel completed ` +
      `${fmt.int(uniDone.reads)} reads and ${fmt.int(uniDone.checkouts)} checkouts, Vendure ${fmt.int(venDone.reads)} reads and ${fmt.int(venDone.checkouts)} checkouts.`,
    `Server CPU share during the loads (100% = one core; the machine has ${os.availableParallelism()}): Unichannel reads ${Math.round(U.read!.coreShare * 100)}%, placeOrder ${Math.round(U.checkout!.coreShare * 100)}%, ` +
      `cart ${Math.round(U.cart!.coreShare * 100)}%; Vendure (server + worker) Admin reads ${Math.round(V.read!.coreShare * 100)}%, Shop reads ${Math.round(V.shopRead!.coreShare * 100)}%, ` +
      `checkouts ${Math.round(V.checkout!.coreShare * 100)}%. Server CPU per cart checkout: ${U.cart!.cpuMsPerOp.toFixed(1)} ms; per Vendure Shop API read: ${V.shopRead!.cpuMsPerOp.toFixed(2)} ms. ` +
      `Vendure's CPU per checkout by process: ${ven.parts.map((n, i) => `${n} ${V.checkout!.cpuMsPerOpParts[i]!.toFixed(1)} ms`).join(', ')}; per Admin API read: ` +
      `${ven.parts.map((n, i) => `${n} ${V.read!.cpuMsPerOpParts[i]!.toFixed(2)} ms`).join(', ')}.`,
    `Cross-check by Little's law (a closed loop of ${cfg.clients} clients completes ${cfg.clients} ÷ mean latency operations per second): ` +
      `Unichannel placeOrder ${fmt.rate(cfg.clients / (U.checkout!.mean / 1000))}, cart ${fmt.rate(cfg.clients / (U.cart!.mean / 1000))}, ` +
      `Vendure ${fmt.rate(cfg.clients / (V.checkout!.mean / 1000))} checkouts; reads Unichannel ${fmt.rate(cfg.clients / (U.read!.mean / 1000))}, ` +
      `Vendure Admin API ${fmt.rate(cfg.clients / (V.read!.mean / 1000))}, Shop API ${fmt.rate(cfg.clients / (V.shopRead!.mean / 1000))}.`,
    `Vendure's worker updates the search index after every sale (DefaultSearchPlugin reindexes the variants of each StockMovementEvent): ` +
      `${jobsDuringRun.map(([q, n]) => `${fmt.int(n)} ${q}`).join(', ') || 'no'} jobs for ${fmt.int(venStock.orders)} orders (warm-up included); ` +
      `${fmt.int(jobsAtEnd)} were still queued when the checkout window ended, ` +
      `done ${(drained.waitedMs / 1000).toFixed(1)} s later${drained.left ? ` (${drained.left} left after the 120 s limit)` : ''}. The worker's CPU is in Vendure's figures.`,
    `Stock after the runs: Unichannel's audit (levels = Σ movements, 0 ≤ reserved ≤ onHand) ${uniAudit === 0 ? 'clean' : `${uniAudit} levels FAIL`}; ` +
      `Vendure ${fmt.int(venStock.orders)} orders PaymentSettled, ${fmt.int(venStock.units)} units ordered, ${fmt.int(venStock.allocated)} allocated on stock levels, ` +
      `${fmt.int(venStock.allocations)} in ALLOCATION movements, ${venStock.negative} levels allocated beyond on hand: ` +
      (venStock.ok
        ? 'consistent.'
        : `INCONSISTENT: ${fmt.int(venStock.allocations - venStock.allocated)} allocated units lost. Vendure ${VENDURE_VERSION}'s StockLevelService.updateStockAllocatedForLocation ` +
          'reads a level and writes back its allocated count plus the change, with no lock, so concurrent checkouts of the same variant at the same location overwrite ' +
          'each other (a known race: vendurehq/vendure#4930, merged upstream, takes a row lock there instead; 3.7.3 does not have it).'),
    `Set-up (not measured): Unichannel's data through its services in ${unichannelSetupS.toFixed(0)} s; Vendure's populate in ${shop.populateSeconds.toFixed(0)} s and its stock locations, levels and shoppers through its APIs in ${shop.setupSeconds.toFixed(0)} s.`,
  ];
  const section: Section = {
    title: 'Results',
    what: '',
    figureLabel: 'Unichannel',
    baselineLabel: `Vendure ${VENDURE_VERSION}`,
    rows,
    notes,
    // Unichannel's invariants decide the exit code; Vendure's stock figures are a finding about the peer.
    ok: uniAudit === 0,
  };
  log(`\n${textTable(section)}`);
  for (const n of notes) log(`  - ${n}`);
  log(`\nratio = Unichannel ÷ Vendure; ${seconds.toFixed(0)} s in all`);

  // PEERS_OUT writes the report elsewhere (e.g. to look at a quick run's).
  const out = process.env.PEERS_OUT ?? (quick ? null : fileURLToPath(new URL('./PEERS.md', import.meta.url)));
  if (out) {
    const commit = gitDescribe();
    const md = [
      '# Unichannel vs Vendure',
      '',
      `Generated by \`${command}\` (bench/peers.ts). Both servers ran on this machine in the same run, each on its own database on`,
      'the same PostgreSQL, loaded by the same closed-loop generator (bench/lib/load.ts, keep-alive HTTP/1.1, one socket per client)',
      'at the same concurrency. They took turns: while one was warmed up or measured, every process of the other was paused',
      '(SIGSTOP, then SIGCONT), and the windows of each comparison ran back to back. Ratios are Unichannel ÷ Vendure: above 1 is',
      'more for Unichannel (better for rates), below 1 is less (better for latency, CPU and memory).',
      '',
      '| | |',
      '|---|---|',
      `| date | ${started.toISOString()} |`,
      `| command | \`${command}\` |`,
      `| machine | ${os.availableParallelism()} × ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()} |`,
      `| PostgreSQL | ${pg.version.replace(/ on .*$/, '')} (${Object.entries(pg.settings).map(([k, v]) => `${k}=${v}`).join(', ')}), ${pgServer().server.replace(/\/\/[^@/]*@/, '//')} |`,
      `| Node.js | ${process.version} (both servers) |`,
      `| Unichannel | ${commit}: bench/server.ts (src/app.ts on @hono/node-server) compiled by scripts/build-server.mjs and run by plain node, one process, pool of 20, with the live events listener, schedulers and webhook dispatcher running as under \`npm start\` |`,
      `| Vendure | @vendure/core ${install.versions['@vendure/core']} (${Object.entries(install.versions).filter(([k]) => k !== '@vendure/core').map(([k, v]) => `${k} ${v}`).join(', ')}; ${install.packages} packages from bench/peers/vendure/package-lock.json), server and worker processes, TypeORM's default pool (10 per process) |`,
      `| load average (1/5/15 min) | ${load0.map((x) => x.toFixed(2)).join(' / ')} at start, ${load1.map((x) => x.toFixed(2)).join(' / ')} at the end |`,
      `| duration | ${seconds.toFixed(0)} s (Vendure ${install.installSeconds === null ? 'already installed' : `installed in ${install.installSeconds.toFixed(0)} s`}) |`,
      '',
      'The servers, the load generator (this process) and PostgreSQL share the same cores; other work on the machine shows in the',
      'load average above, and figures move by ±20% from run to run here: compare the two servers within one run.',
      '',
      '## Results',
      '',
      markdownTable({ ...section, figureLabel: 'Unichannel', baselineLabel: `Vendure ${VENDURE_VERSION}` }).replace('| ratio |', '| Unichannel ÷ Vendure |'),
      '',
      ...notes.map((n) => `- ${n}`),
      '',
      '## What was measured',
      '',
      `- **Data.** Unichannel: ${cfg.stores} stores × ${cfg.skus} SKUs (${cfg.skus / cfg.variantsPerProduct} products of ${cfg.variantsPerProduct} variants), ${fmt.int(cfg.unitsPerLevel)} units of every SKU at every store, ` +
        `${cfg.clients} signed-in web customers, built through the services (bench/lib/retailer.ts). Vendure: the same SKUs, titles and prices ` +
        `(${cfg.skus / cfg.variantsPerProduct} products of ${cfg.variantsPerProduct} variants, imported from a CSV by \`populate\` from '@vendure/core/cli' with the default stock location ` +
        `renamed to the first store), ${cfg.stores - 1} more stock locations and ${fmt.int(cfg.unitsPerLevel)} units of every variant at each (Admin API \`createStockLocation\`, ` +
        `\`updateProductVariants\`), a 20% standard tax, one shipping method (5.00) and the dummy payment handler settling at once; ${cfg.clients} shoppers registered and signed in through the Shop API.`,
      `- **Availability reads.** ${cfg.clients} closed-loop clients for ${cfg.durationMs / 1000} s after ${cfg.warmupMs / 1000} s of warm-up, a random SKU (Vendure's Shop API: a random product) per request. ` +
        `Unichannel answers an anonymous shopper with every store's on hand, reserved and available for the SKU. The closest Vendure query ` +
        `returning the same data is the Admin API's \`productVariants\` filtered by SKU with \`stockLevels\` (on hand and allocated per stock location), ` +
        `sent with the superadmin's bearer token: that is the headline ratio. Vendure's Shop API does not expose per-location stock; its anonymous twin, ` +
        `\`product(slug:) { variants { stockLevel } }\` (IN_STOCK / LOW_STOCK / OUT_OF_STOCK per variant, for the product's ${cfg.variantsPerProduct} variants), is the second row.`,
      `- **Checkouts.** ${cfg.clients} signed-in shoppers, each its own session, buy two different random SKUs (1 unit each) per order, for ${cfg.checkoutMs / 1000} s after ${cfg.warmupMs / 1000} s of warm-up. ` +
        `Unichannel: a web pickup at the client's store with \`placeOrder\` (one request: stock reserved, the order numbered, paid by card, ` +
        `loyalty points earned) and, second, the same basket through a cart (\`createCart\`, \`setCartFulfilment\`, \`checkoutCart\`). Vendure: the Shop API's active order ` +
        `as its storefronts place it: \`addItemToOrder\` twice, \`setOrderShippingAddress\`, \`setOrderShippingMethod\`, \`transitionOrderToState("ArrangingPayment")\`, ` +
        `\`addPaymentToOrder\` (the dummy handler settles: the order ends PaymentSettled with its stock allocated). Latency is the whole checkout, all its requests.`,
      `- **Memory.** VmRSS of every process of each server (the process tree of Unichannel's server; of Vendure's server and of its worker), summed, ` +
        `sampled every 200 ms: idle = the median over ${cfg.idleMs / 1000} s after a warm-up of every load and ${cfg.quietMs / 1000} s of quiet (Vendure: once its job queue was empty; Unichannel collects its heap once 10-20 s after its last request), ` +
        `peak = the highest sum from the warm-up to the end of the last load.`,
      `- **Windows.** Operations are measured when they end inside the window, whenever they started (\`closedLoop\`'s \`count: 'ended'\`: ` +
        'a checkout that takes seconds is not left out for straddling an edge). Order: Vendure\'s two reads, Unichannel\'s reads; Unichannel\'s ' +
        'placeOrder and cart checkouts, Vendure\'s checkouts (then its job queue is left to empty).',
      `- **CPU.** user + system time of those processes over each load (warm-up included) ÷ operations completed.`,
      `- **Vendure's set-up** (bench/peers/vendure/): config.cjs keeps what Vendure's own starter (\`@vendure/create\` ${VENDURE_VERSION}) configures from @vendure/core: ` +
        `DefaultSchedulerPlugin, DefaultJobQueuePlugin (database queue), DefaultSearchPlugin (\`bufferUpdates: false, indexStockStatus: true\`), the dummy payment handler, ` +
        `bearer and cookie sessions, the starter's production CORS and CSRF settings; logging at warn. Left out: the e-mail plugin, the asset server, the dashboard and GraphiQL ` +
        `(separate packages the loads do not use; they would add memory and, for e-mail, work per order). During the set-up only, search index updates ` +
        `are buffered (\`bufferUpdates: true\`) and flushed as one job at its end (\`runPendingSearchIndexUpdates\`), instead of one job per stock adjustment. The schema was created by TypeORM's \`synchronize\` ` +
        `in the populate step (fine for a benchmark; a shop would run migrations); the server and worker start with synchronize off. NODE_ENV=production and ` +
        `VENDURE_DISABLE_TELEMETRY=true for Vendure; NODE_ENV=production for Unichannel.`,
      '',
      '## The exact queries',
      '',
      'Unichannel, availability (anonymous; variables `{ "sku": "BENCH-000123" }`):',
      '',
      '```graphql',
      AVAILABILITY,
      '```',
      '',
      'Unichannel, web pickup (customer\'s bearer token; one `lines` entry per SKU, quantity 1; a `CARD` tender of the total; a fresh idempotency key):',
      '',
      '```graphql',
      PLACE,
      '```',
      '',
      'Unichannel, cart checkout (the same basket; pickup at the client\'s store):',
      '',
      '```graphql',
      ...Object.values(CART_CHECKOUT),
      '```',
      '',
      'Vendure, availability, Admin API (superadmin\'s bearer token; `{ "sku": "BENCH-000123" }`):',
      '',
      '```graphql',
      VENDURE_ADMIN_AVAILABILITY,
      '```',
      '',
      'Vendure, stock, Shop API (anonymous; `{ "slug": "bench-product-25" }`):',
      '',
      '```graphql',
      VENDURE_SHOP_AVAILABILITY,
      '```',
      '',
      'Vendure, checkout, Shop API (shopper\'s bearer token from `login`; in this order, `addItemToOrder` once per SKU; the address is a fixed US one):',
      '',
      '```graphql',
      ...Object.values(VENDURE_CHECKOUT),
      '```',
      '',
    ].join('\n');
    writeFileSync(out, md);
    log(`written: ${out}`);
  } else log('bench/PEERS.md not written (quick run; PEERS_OUT=<file> writes its report).');
  log(`Vendure stays installed in ${peersCacheDir()} for the next run (rm -rf it to reinstall).`);
  process.exit(section.ok ? 0 : 1);
}

function gitDescribe(): string {
  try {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8' }).trim() !== '';
    return `commit ${sha}${dirty ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'commit unknown';
  }
}

main().catch(async (err) => {
  if (!interrupted()) console.error(err);
  resumeAll();
  await Promise.all([stopAllServers(), stopAllVendure()]).catch(() => {});
  await dropAllCreated();
  process.exit(1);
});
