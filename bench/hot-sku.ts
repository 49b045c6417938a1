import { createBenchDatabase } from './lib/pg';
import { createBenchRetailer, writeLookupTables, BENCH_ADMIN_TOKEN } from './lib/retailer';
import { startAppServer } from './lib/app-server';
import { closedLoop, graphqlClient } from './lib/load';
import { pgbench } from './lib/pgbench';
import { oversellCheck, stockAuditFailures } from './lib/checks';
import { fmt, summarize } from './lib/stats';
import { receiveStock } from '../src/inventory/service';
import { PLACE_ORDER_SQL, placeCarryOut } from './place-order';
import type { BenchOptions, Section } from './lib/report';

const run = Math.random().toString(36).slice(2, 8);

/**
 * 3. Every client buys one unit of ONE hot SKU at one store (a flash sale at the flagship's tills) until it
 * is sold out: the guarded UPDATE of a single inventory level decides, so this measures the row lock's
 * queue. The app sells SKU 1's stock, pgbench (bench/place-order.sql with hot=1) an equal stock of SKU 2 at
 * the same store. Then units sold are checked against units received: no oversell, levels = Σ movements.
 */
export async function benchHotSku(o: BenchOptions): Promise<Section> {
  const clients = 64;
  const units = o.quick ? 300 : 1_000;
  const maxS = o.quick ? 5 : 15;
  const b = await createBenchDatabase('hot_sku');
  let server: Awaited<ReturnType<typeof startAppServer>> | undefined;
  try {
    o.log(`  1 store, SKU 1 (app) and SKU 2 (pgbench) with ${units} units each, SKU 3 for warm-up`);
    const r = await createBenchRetailer(b.db, { stores: 1, skus: 3, unitsPerLevel: 0 });
    const store = r.stores[0]!;
    const [hotApp, hotPgbench, warm] = r.variants as [(typeof r.variants)[0], (typeof r.variants)[0], (typeof r.variants)[0]];
    for (const [v, q] of [[hotApp, units], [hotPgbench, units], [warm, 1_000_000]] as const)
      await receiveStock(b.db, { kind: 'admin' }, { idempotencyKey: `hot-${v.sku}`, locationId: store.id, lines: [{ sku: v.sku, quantity: q }] });
    await writeLookupTables(b.sql, b.db, r);

    server = await startAppServer(b.url, BENCH_ADMIN_TOKEN);
    const poolMax = server.poolMax;
    const client = graphqlClient(server.url, clients);
    // Warm the server (JIT, pool connections, prepared statements) on another SKU first.
    await closedLoop({ concurrency: clients, durationMs: o.quick ? 500 : 1_500, op: (c, i) => placeCarryOut(client, store.staffToken, `warm-${run}-${c}-${i}`, [warm]) });
    o.log(`  app: ${clients} clients buy SKU 1 until sold out (at most ${maxS} s)`);
    const app = await closedLoop({
      concurrency: clients,
      durationMs: maxS * 1000,
      op: async (c, i) => ((await placeCarryOut(client, store.staffToken, `hot-${run}-${c}-${i}`, [hotApp])) === 'refused' ? 'stop' : 'ok'),
    });
    client.close();
    await server.stop();
    server = undefined;
    if (app.errors) throw app.firstError;

    // pgbench cannot stop at sold-out: every client runs a fixed number of transactions, a few more in total than the stock.
    const perClient = Math.ceil(units / clients) + 1;
    o.log(`  pgbench: ${clients} clients × ${perClient} transactions on SKU 2`);
    const pg = await pgbench({
      url: b.url,
      script: PLACE_ORDER_SQL,
      clients,
      transactionsPerClient: perClient,
      defines: { nstores: 1, nskus: 3, hot: 1, hot_store: 1, hot_sku: hotPgbench.n },
    });

    const appCheck = await oversellCheck(b.sql, store.id, hotApp.id);
    const pgCheck = await oversellCheck(b.sql, store.id, hotPgbench.id);
    const audit = await stockAuditFailures(b.db);
    const oversells = appCheck.oversells + pgCheck.oversells;
    const consistent = appCheck.consistent && pgCheck.consistent && audit === 0;

    const a = summarize(app.latencies, app.elapsedMs, app.ok);
    const p = summarize(pg.latencies, 0);
    const attempts = clients * perClient;
    const pgElapsedMs = (attempts / pg.tps) * 1000;
    const pgRate = (pgCheck.sold * 1000) / pgElapsedMs;
    return {
      title: '3. One hot SKU: every client buys the same item until it is sold out',
      what:
        `${clients} closed-loop clients at one store's tills each buy 1 unit of the same SKU (${units} units in stock) through ` +
        `HTTP + GraphQL until they get INSUFFICIENT_STOCK (at most ${maxS} s). Baseline: bench/place-order.sql with hot=1 ` +
        `(the same statements, one line) under pgbench with ${clients} clients × ${perClient} transactions on a second SKU ` +
        `with the same stock at the same store; a transaction that finds no stock rolls back. Throughput = units sold ÷ time to ` +
        `sell out (pgbench: ÷ its run time).`,
      figureLabel: 'HTTP + GraphQL',
      baselineLabel: 'pgbench, same SQL',
      rows: [
        { metric: 'orders/s until sold out', figure: fmt.rate(a.perSecond), baseline: fmt.rate(pgRate), ratio: fmt.ratio(a.perSecond / pgRate) },
        { metric: 'p50 latency', figure: fmt.ms(a.p50), baseline: fmt.ms(p.p50), ratio: fmt.ratio(a.p50 / p.p50) },
        { metric: 'p99 latency', figure: fmt.ms(a.p99), baseline: fmt.ms(p.p99), ratio: fmt.ratio(a.p99 / p.p99) },
        { metric: 'units sold / received', figure: `${appCheck.sold} / ${appCheck.received}`, baseline: `${pgCheck.sold} / ${pgCheck.received}`, ratio: '' },
        { metric: 'time to sell out', figure: appCheck.on_hand === 0 ? `${(app.elapsedMs / 1000).toFixed(2)} s` : `not sold out in ${maxS} s`, baseline: pgCheck.on_hand === 0 ? `${(pgElapsedMs / 1000).toFixed(2)} s` : 'not sold out', ratio: '' },
        { metric: 'refused (INSUFFICIENT_STOCK)', figure: String(app.refused), baseline: String(attempts - pgCheck.sold), ratio: '' },
        { metric: 'oversells', figure: String(appCheck.oversells), baseline: String(pgCheck.oversells), ratio: '' },
      ],
      notes: [
        `oversells: ${oversells}`,
        `Invariants after both runs: ${consistent ? 'hold' : 'BROKEN'} (0 ≤ reserved ≤ onHand, onHand = received − sold = Σ movements for both hot levels; stock audit of every level ${audit === 0 ? 'clean' : `failed for ${audit}`}).`,
        `One level row decides every sale: it stays locked from its guarded UPDATE to COMMIT, so the sell-out rate is about ` +
          `1 ÷ that lock's hold time: ≈ ${(1000 / a.perSecond).toFixed(1)} ms per order in the app (the statements after the UPDATE each ` +
          `wait for a turn of the server's event loop) vs ≈ ${(1000 / pgRate).toFixed(1)} ms in pgbench.`,
        `The app's ${clients} clients share one associate's session at one store, through the app's pool of ${poolMax} connections; pgbench holds ${clients} connections.`,
      ],
      ok: oversells === 0 && consistent,
    };
  } finally {
    await server?.stop();
    await b.drop();
  }
}
