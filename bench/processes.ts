import { createBenchDatabase } from './lib/pg';
import { createBenchRetailer, BENCH_ADMIN_TOKEN, type BenchRetailer } from './lib/retailer';
import { startAppServer, type AppServer } from './lib/app-server';
import { closedLoop, graphqlClient } from './lib/load';
import { stockAuditFailures } from './lib/checks';
import { fmt, summarize } from './lib/stats';
import { basket, placeCarryOut } from './place-order';

/*
 * `npx tsx bench/processes.ts` (not part of npm run bench): benchmark 2's POS carry-outs through one server
 * process (pool of 20) and then through two on the same database (pool of 10 each, client i on process i mod 2),
 * same clients, same data, back to back. Prints orders/s, p50/p99, server CPU per order (both processes summed)
 * and the ratio, then audits the stock. On a 2-core machine that also runs PostgreSQL and the load generator, a
 * second process can only take CPU the first one leaves: the figure is a floor for machines with cores to spare.
 */
const concurrency = Number(process.env.CLIENTS ?? 16);
const durationMs = Number(process.env.SECONDS ?? 10) * 1000;
const run = Math.random().toString(36).slice(2, 8);

async function measure(r: BenchRetailer, servers: AppServer[], label: string) {
  const clients = servers.map((s) => graphqlClient(s.url, Math.ceil(concurrency / servers.length)));
  const cpu0 = servers.reduce((t, s) => t + s.cpuSeconds(), 0);
  const result = await closedLoop({
    concurrency,
    durationMs,
    warmupMs: 2_000,
    op: (c, i) => placeCarryOut(clients[c % servers.length]!, r.stores[c % r.stores.length]!.staffToken, `p-${run}-${label}-${c}-${i}`, basket(r)),
  });
  const cpu = servers.reduce((t, s) => t + s.cpuSeconds(), 0) - cpu0;
  for (const c of clients) c.close();
  if (result.errors) throw result.firstError;
  return { ...summarize(result.latencies, result.elapsedMs, result.ok), cpuMsPerOrder: (cpu * 1000) / result.completed };
}

const b = await createBenchDatabase('processes');
const servers: AppServer[] = [];
try {
  const r = await createBenchRetailer(b.db, { stores: 16, skus: 400, unitsPerLevel: 50_000 });
  servers.push(await startAppServer(b.url, BENCH_ADMIN_TOKEN, { BENCH_POOL_MAX: '20' }));
  const one = await measure(r, servers, 'one');
  await servers.pop()!.stop();
  servers.push(await startAppServer(b.url, BENCH_ADMIN_TOKEN, { BENCH_POOL_MAX: '10' }), await startAppServer(b.url, BENCH_ADMIN_TOKEN, { BENCH_POOL_MAX: '10' }));
  const two = await measure(r, servers, 'two');
  const row = (name: string, f: (x: typeof one) => string) => console.log(`${name.padEnd(28)}${f(one).padStart(14)}${f(two).padStart(14)}`);
  console.log(`\nPOS carry-outs, ${concurrency} clients × ${durationMs / 1000} s`);
  console.log(`${''.padEnd(28)}${'1 process'.padStart(14)}${'2 processes'.padStart(14)}`);
  row('orders/s', (x) => fmt.rate(x.perSecond));
  row('p50 latency', (x) => fmt.ms(x.p50));
  row('p99 latency', (x) => fmt.ms(x.p99));
  row('server CPU per order', (x) => `${x.cpuMsPerOrder.toFixed(1)} ms`);
  console.log(`ratio (2 ÷ 1): ${fmt.ratio(two.perSecond / one.perSecond)}; stock audit failures: ${await stockAuditFailures(b.db)}`);
} finally {
  for (const s of servers) await s.stop();
  await b.drop();
}
process.exit(0);
