import { fileURLToPath } from 'node:url';
import { createBenchDatabase } from './lib/pg';
import { createBenchRetailer, writeLookupTables, gid, BENCH_ADMIN_TOKEN, type BenchRetailer } from './lib/retailer';
import { processRssBytes, startAppServer } from './lib/app-server';
import { readFileSync } from 'node:fs';
import { closedLoop, dataOf, graphqlClient, measuredOnServer, type GraphqlClient, type Outcome } from './lib/load';
import { recordStatements } from './lib/in-process';
import { pgbench } from './lib/pgbench';
import { sampleLockWaits, stockAuditFailures } from './lib/checks';
import { fmt, summarize } from './lib/stats';
import type { BenchOptions, Row, Section } from './lib/report';

export const PLACE_ORDER_SQL = fileURLToPath(new URL('./place-order.sql', import.meta.url));
export const PLACE = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) {
  order { id number total { amount } } changeDue { amount } userErrors { code field message } } }`;

const run = Math.random().toString(36).slice(2, 8);

/** One POS carry-out through GraphQL; 'refused' on INSUFFICIENT_STOCK, anything else unexpected throws. */
export async function placeCarryOut(client: GraphqlClient, token: string, key: string, lines: { sku: string; price: number }[]): Promise<Outcome> {
  const total = lines.reduce((s, l) => s + l.price, 0);
  const d = dataOf(
    await client.post(token, PLACE, {
      i: {
        idempotencyKey: key,
        lines: lines.map((l) => ({ sku: l.sku, quantity: 1 })),
        fulfilment: { type: 'CARRY_OUT' },
        tenders: [{ type: 'CARD', amount: total }],
      },
    }),
  );
  const p = d.placeOrder;
  if (p.order) return 'ok';
  if (p.userErrors[0]?.code === 'INSUFFICIENT_STOCK') return 'refused';
  throw new Error(`placeOrder: ${JSON.stringify(p.userErrors)}`);
}

/** One web pickup by a signed-in customer (reserve at the store, the W sequence, the loyalty ledger). */
export async function placeWebPickup(client: GraphqlClient, token: string, key: string, storeId: string, lines: { sku: string; price: number }[]): Promise<Outcome> {
  const d = dataOf(
    await client.post(token, PLACE, {
      i: {
        idempotencyKey: key,
        lines: lines.map((l) => ({ sku: l.sku, quantity: 1 })),
        fulfilment: { type: 'PICKUP', pickupLocationId: gid('Location', storeId) },
        tenders: [{ type: 'CARD', amount: lines.reduce((s, l) => s + l.price, 0) }],
      },
    }),
  );
  if (d.placeOrder.order) return 'ok';
  if (d.placeOrder.userErrors[0]?.code === 'INSUFFICIENT_STOCK') return 'refused';
  throw new Error(`placeOrder: ${JSON.stringify(d.placeOrder.userErrors)}`);
}

/** Two different random SKUs: the basket of the pgbench script (hot=0). */
export const basket = (r: BenchRetailer) => {
  const a = Math.floor(Math.random() * r.variants.length);
  const b = (a + 1 + Math.floor(Math.random() * (r.variants.length - 1))) % r.variants.length;
  return [r.variants[a]!, r.variants[b]!];
};

/**
 * 2. placeOrder throughput and latency: POS carry-outs of two random SKUs at the client's store (client i at
 * store i mod N, every store a till with a signed-in associate), through HTTP + GraphQL, each with its own
 * idempotency key; vs bench/place-order.sql, the same transaction's statements under pgbench.
 */
export async function benchPlaceOrder(o: BenchOptions): Promise<Section> {
  const stores = o.quick ? 8 : 16;
  const skus = o.quick ? 100 : 400;
  const durationS = o.quick ? 3 : 10;
  const warmupMs = o.quick ? 500 : 2_000;
  const levels = [16, 64];
  const b = await createBenchDatabase('place_order');
  let server: Awaited<ReturnType<typeof startAppServer>> | undefined;
  try {
    o.log(`  ${stores} stores × ${skus} SKUs, a till and an associate per store, through the services`);
    const webClients = 16;
    const r = await createBenchRetailer(b.db, { stores, skus, unitsPerLevel: 50_000, customers: webClients });
    await writeLookupTables(b.sql, b.db, r);

    // Statements per placeOrder, recorded from the app in-process (a fresh key each call).
    let n = 0;
    const { statements } = await recordStatements(b.url, (gql) =>
      gql(r.stores[0]!.staffToken, PLACE, {
        i: {
          idempotencyKey: `count-${run}-${n++}`,
          lines: [r.variants[0]!, r.variants[1]!].map((v) => ({ sku: v.sku, quantity: 1 })),
          fulfilment: { type: 'CARRY_OUT' },
          tenders: [{ type: 'CARD', amount: r.variants[0]!.price + r.variants[1]!.price }],
        },
      }),
    );
    const inTx = statements.indexOf('begin') >= 0 ? statements.lastIndexOf('commit') - statements.indexOf('begin') + 1 : NaN;

    server = await startAppServer(b.url, BENCH_ADMIN_TOKEN);
    // The server's resident memory idle (after its start-up collection, 10 s after it listens), its peak under the
    // loads below (VmHWM) and idle again after them (past its collection once a whole 10 s interval went by without a
    // request, which comes 10-20 s after the last): src/lib/memory.ts.
    const quietMs = o.quick ? 0 : 12_000;
    const afterMs = o.quick ? 0 : 22_000;
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
    await new Promise((r) => setTimeout(r, quietMs));
    const rssIdle = processRssBytes(server.pid);
    const poolMax = server.poolMax;
    const defines = { nstores: stores, nskus: skus, hot: 0, hot_store: 1, hot_sku: 1 };
    const rows: Row[] = [];
    const notes: string[] = [];
    let pgbenchCommand = '';
    for (const concurrency of levels) {
      const client = graphqlClient(server.url, concurrency);
      o.log(`  app: ${concurrency} clients × ${durationS} s`);
      const stopSampling = sampleLockWaits(b.sql, '');
      const { result: app, cpuMsPerOp, coreShare } = await measuredOnServer(server, () =>
        closedLoop({
          concurrency,
          durationMs: durationS * 1000,
          warmupMs,
          op: (c, i) => placeCarryOut(client, r.stores[c % stores]!.staffToken, `b2-${run}-${concurrency}-${c}-${i}`, basket(r)),
        }),
      );
      const counterWaits = await stopSampling();
      client.close();
      if (app.errors) throw app.firstError;
      o.log(`  pgbench: ${concurrency} clients × ${durationS} s`);
      if (!o.quick) await pgbench({ url: b.url, script: PLACE_ORDER_SQL, clients: concurrency, durationS: 1, defines }); // warm-up
      const pg = await pgbench({ url: b.url, script: PLACE_ORDER_SQL, clients: concurrency, durationS, defines });
      pgbenchCommand = pg.command;
      const a = summarize(app.latencies, app.elapsedMs, app.ok);
      const p = summarize(pg.latencies, durationS * 1000);
      rows.push(
        { metric: `orders/s, ${concurrency} clients`, figure: fmt.rate(a.perSecond), baseline: fmt.rate(pg.tps), ratio: fmt.ratio(a.perSecond / pg.tps) },
        { metric: `p50 latency, ${concurrency} clients`, figure: fmt.ms(a.p50), baseline: fmt.ms(p.p50), ratio: fmt.ratio(a.p50 / p.p50) },
        { metric: `p99 latency, ${concurrency} clients`, figure: fmt.ms(a.p99), baseline: fmt.ms(p.p99), ratio: fmt.ratio(a.p99 / p.p99) },
      );
      notes.push(
        `${concurrency} clients: app ${fmt.int(app.ok)} orders (${app.refused} refused), pgbench ${fmt.int(pg.transactions)} transactions ` +
          `(${pg.failed} failed). The app server process used ${cpuMsPerOp.toFixed(1)} ms of CPU per order, ${Math.round(coreShare * 100)}% of one core; ` +
          `on average ${counterWaits.toFixed(1)} of the app's connections were waiting for a row lock.`,
      );
    }
    // Web pickups against POS carry-outs at the same concurrency (no pgbench twin): a customer per client, all
    // numbered in the one 'W' scope, with the loyalty ledger (earn, spend, tier) in the transaction. The two take
    // turns in four slices (POS, web, web, POS) of half the duration each, back to back on the same server and
    // database: this machine's speed drifts within minutes, and runs minutes apart compared that drift.
    const webClient = graphqlClient(server.url, webClients);
    const posClient = graphqlClient(server.url, webClients);
    o.log(`  app: ${webClients} customers place web pickups against ${webClients} tills' carry-outs, in turns (POS, web, web, POS) × ${durationS / 2} s`);
    const turns = { pos: { latencies: [] as number[], ok: 0, elapsedMs: 0, cpuMs: 0, completed: 0, wallMs: 0 }, web: { latencies: [] as number[], ok: 0, elapsedMs: 0, cpuMs: 0, completed: 0, wallMs: 0 } };
    const stopWebSampling = sampleLockWaits(b.sql, '');
    for (const [slice, kind] of (['pos', 'web', 'web', 'pos'] as const).entries()) {
      const m = await measuredOnServer(server, () =>
        closedLoop({
          concurrency: webClients,
          durationMs: (durationS * 1000) / 2,
          warmupMs: slice === 0 ? warmupMs : 0,
          op: (c, i) =>
            kind === 'web'
              ? placeWebPickup(webClient, r.customers[c]!.token, `b2w-${run}-${slice}-${c}-${i}`, r.stores[c % stores]!.id, basket(r))
              : placeCarryOut(posClient, r.stores[c % stores]!.staffToken, `b2p-${run}-${slice}-${c}-${i}`, basket(r)),
        }),
      );
      if (m.result.errors) throw m.result.firstError;
      const t = turns[kind];
      t.latencies.push(...m.result.latencies);
      t.ok += m.result.ok;
      t.elapsedMs += m.result.elapsedMs;
      t.cpuMs += m.cpuMsPerOp * m.result.completed;
      t.completed += m.result.completed;
      t.wallMs += m.result.wallMs;
    }
    const webCounterWaits = await stopWebSampling();
    webClient.close();
    posClient.close();
    const w = summarize(turns.web.latencies, turns.web.elapsedMs, turns.web.ok);
    const pos = summarize(turns.pos.latencies, turns.pos.elapsedMs, turns.pos.ok);
    const cpuPerOrder = (t: typeof turns.web) => t.cpuMs / t.completed;
    const { statements: webStatements } = await recordStatements(b.url, (gql) =>
      gql(r.customers[0]!.token, PLACE, {
        i: {
          idempotencyKey: `count-web-${run}-${n++}`,
          lines: [r.variants[2]!, r.variants[3]!].map((v) => ({ sku: v.sku, quantity: 1 })),
          fulfilment: { type: 'PICKUP', pickupLocationId: gid('Location', r.stores[0]!.id) },
          tenders: [{ type: 'CARD', amount: r.variants[2]!.price + r.variants[3]!.price }],
        },
      }),
    );
    rows.push(
      { metric: `web pickups/s, ${webClients} customers (baseline: POS carry-outs, ${webClients} clients)`, figure: fmt.rate(w.perSecond), baseline: fmt.rate(pos.perSecond), ratio: fmt.ratio(w.perSecond / pos.perSecond) },
      { metric: `web pickup p99, ${webClients} customers (baseline: POS carry-outs)`, figure: fmt.ms(w.p99), baseline: fmt.ms(pos.p99), ratio: fmt.ratio(w.p99 / pos.p99) },
    );
    notes.push(
      `Web pickups by ${webClients} signed-in customers (same baskets, every order numbered in the one 'W' scope from its sequence, ` +
        `loyalty earn/spend/tier in the transaction, ${webStatements.length} statements per request): ${fmt.rate(w.perSecond)}, ` +
        `p50 ${fmt.ms(w.p50)}, p99 ${fmt.ms(w.p99)}, ${cpuPerOrder(turns.web).toFixed(1)} ms of server CPU per order; the POS carry-outs they took turns with: ` +
        `${fmt.rate(pos.perSecond)}, p50 ${fmt.ms(pos.p50)}, ${cpuPerOrder(turns.pos).toFixed(1)} ms of server CPU per order (${statements.length} statements). ` +
        `Four slices of ${durationS / 2} s back to back (POS, web, web, POS), each kind summed over its two. ` +
        `On average ${webCounterWaits.toFixed(1)} of the ${webClients} orders in flight were waiting for a row lock.`,
    );
    const peakKib = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1] ?? NaN);
    await new Promise((r) => setTimeout(r, afterMs));
    const rssAfter = processRssBytes(server.pid);
    notes.push(
      `The app server's resident memory (one process): ${mib(rssIdle)} idle before the loads${quietMs ? ` (${quietMs / 1000} s after it started)` : ''}, ` +
        `${mib(peakKib * 1024)} at its peak during them (VmHWM), ${mib(rssAfter)} idle ${afterMs / 1000} s after the last. Targets: ≤ 110 MiB idle, ≤ 180 MiB under this load.`,
    );
    await server.stop();
    server = undefined;

    const audit = await stockAuditFailures(b.db);
    notes.push(
      `Statements per placeOrder request in the app: ${statements.length} (${inTx} inside the transaction, BEGIN and COMMIT included; ` +
        `the others resolve the session token, the till, the SKUs and the active promotions before it). ` +
        `pgbench script: 1 lookup + 9 in the transaction (BEGIN … COMMIT).`,
      `App pool: ${poolMax} connections (DB_POOL_MAX); pgbench: one connection per client. pgbench command: \`${pgbenchCommand}\`.`,
      `Stock audit after the runs (levels = Σ movements, 0 ≤ reserved ≤ onHand): ${audit === 0 ? 'clean' : `${audit} levels FAIL`}.`,
    );
    return {
      title: '2. placeOrder throughput and latency (POS carry-outs; web pickups against them)',
      what:
        `Closed-loop clients place POS carry-outs of two different random SKUs (1 unit each, paid by card) at their store ` +
        `(${stores} stores × ${skus} SKUs, client i at store i mod ${stores}, a signed-in associate's session per store), through ` +
        `HTTP + GraphQL with a fresh idempotency key per order, ${durationS} s per concurrency after ${warmupMs / 1000} s of warm-up. ` +
        `Baseline: bench/place-order.sql under pgbench (same statements: idempotency key insert, guarded level UPDATEs, ` +
        `stock_movements, the store's order-number sequence, orders, order_lines, fulfilments, fulfilment_lines, tenders, ` +
        `order_events, idempotency result update) on the same database, same client count, same store/SKU distribution.`,
      figureLabel: 'HTTP + GraphQL',
      baselineLabel: 'pgbench, same SQL',
      rows,
      notes,
      ok: audit === 0,
    };
  } finally {
    await server?.stop();
    await b.drop();
  }
}
