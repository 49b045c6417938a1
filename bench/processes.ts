import { createBenchDatabase } from './lib/pg';
import { createBenchRetailer, BENCH_ADMIN_TOKEN } from './lib/retailer';
import { processRssBytes, startAppServer, type AppServer } from './lib/app-server';
import { closedLoop, graphqlClient } from './lib/load';
import { stockAuditFailures } from './lib/checks';
import { fmt, summarize } from './lib/stats';
import { basket, placeCarryOut } from './place-order';
import type { BenchOptions, Section } from './lib/report';

/**
 * 9. N stateless server processes on one database: benchmark 2's POS carry-outs through one server process (pool of
 * 20) against two (pool of 10 each, client i on process i mod 2), same clients, same data. Both set-ups run at once
 * and take turns in four slices (one, two, two, one), so the machine's drift falls on both alike.
 */
export async function benchProcesses(o: BenchOptions): Promise<Section> {
  const concurrency = 16;
  const sliceMs = o.quick ? 1_500 : 5_000;
  const run = Math.random().toString(36).slice(2, 8);
  const b = await createBenchDatabase('processes');
  const servers: AppServer[] = [];
  try {
    o.log(`  16 stores × 400 SKUs; one process (pool 20) and two (pool 10 each), in turns (one, two, two, one) × ${sliceMs / 1000} s`);
    const r = await createBenchRetailer(b.db, { stores: 16, skus: 400, unitsPerLevel: 50_000 });
    const one = [await startAppServer(b.url, BENCH_ADMIN_TOKEN, { BENCH_POOL_MAX: '20' })];
    const two = [await startAppServer(b.url, BENCH_ADMIN_TOKEN, { BENCH_POOL_MAX: '10' }), await startAppServer(b.url, BENCH_ADMIN_TOKEN, { BENCH_POOL_MAX: '10' })];
    servers.push(...one, ...two);
    const totals = new Map([one, two].map((s) => [s, { latencies: [] as number[], ok: 0, elapsedMs: 0, cpu: 0, completed: 0, peakRss: 0 }]));
    for (const [slice, set] of [one, two, two, one].entries()) {
      const t = totals.get(set)!;
      const clients = set.map((s) => graphqlClient(s.url, Math.ceil(concurrency / set.length)));
      const cpu0 = set.reduce((sum, s) => sum + s.cpuSeconds(), 0);
      const rss = setInterval(() => (t.peakRss = Math.max(t.peakRss, set.reduce((sum, s) => sum + processRssBytes(s.pid), 0))), 200);
      const result = await closedLoop({
        concurrency,
        durationMs: sliceMs,
        warmupMs: slice < 2 ? (o.quick ? 500 : 2_000) : 0,
        op: (c, i) => placeCarryOut(clients[c % set.length]!, r.stores[c % r.stores.length]!.staffToken, `p-${run}-${slice}-${c}-${i}`, basket(r)),
      });
      clearInterval(rss);
      t.cpu += set.reduce((sum, s) => sum + s.cpuSeconds(), 0) - cpu0;
      for (const c of clients) c.close();
      if (result.errors) throw result.firstError;
      t.latencies.push(...result.latencies);
      t.ok += result.ok;
      t.elapsedMs += result.elapsedMs;
      t.completed += result.completed;
    }
    const figures = (set: AppServer[]) => {
      const t = totals.get(set)!;
      return { ...summarize(t.latencies, t.elapsedMs, t.ok), cpuMs: (t.cpu * 1000) / t.completed, peakMiB: t.peakRss / 2 ** 20 };
    };
    const a = figures(one);
    const z = figures(two);
    const audit = await stockAuditFailures(b.db);
    return {
      title: '9. Two server processes on one database against one',
      what:
        `${concurrency} closed-loop clients place benchmark 2's POS carry-outs through one server process (pool of 20), and through two ` +
        `(pool of 10 each, client i on process i mod 2) on the same database; both set-ups run at once and take turns in four slices of ` +
        `${sliceMs / 1000} s (one, two, two, one), each summed over its two. Baseline: the one process.`,
      figureLabel: 'two processes',
      baselineLabel: 'one process',
      rows: [
        { metric: `orders/s, ${concurrency} clients`, figure: fmt.rate(z.perSecond), baseline: fmt.rate(a.perSecond), ratio: fmt.ratio(z.perSecond / a.perSecond) },
        { metric: 'p50 latency', figure: fmt.ms(z.p50), baseline: fmt.ms(a.p50), ratio: fmt.ratio(z.p50 / a.p50) },
        { metric: 'p99 latency', figure: fmt.ms(z.p99), baseline: fmt.ms(a.p99), ratio: fmt.ratio(z.p99 / a.p99) },
        { metric: 'server CPU per order (processes summed)', figure: `${z.cpuMs.toFixed(1)} ms`, baseline: `${a.cpuMs.toFixed(1)} ms`, ratio: fmt.ratio(z.cpuMs / a.cpuMs) },
        { metric: 'resident memory at the peak (processes summed)', figure: `${z.peakMiB.toFixed(0)} MiB`, baseline: `${a.peakMiB.toFixed(0)} MiB`, ratio: fmt.ratio(z.peakMiB / a.peakMiB) },
      ],
      notes: [
        `${fmt.int(z.count)} orders through two processes, ${fmt.int(a.count)} through one.`,
        'Two cores run the servers, PostgreSQL and the load generator: a second process only gets what the first leaves, so the ratio is a ' +
          'floor for machines with cores to spare. The processes share nothing but the database (each its own pool and LISTEN connection).',
        `Stock audit after the runs (levels = Σ movements, 0 ≤ reserved ≤ onHand): ${audit === 0 ? 'clean' : `${audit} levels FAIL`}.`,
      ],
      ok: audit === 0,
    };
  } finally {
    for (const s of servers) await s.stop();
    await b.drop();
  }
}
