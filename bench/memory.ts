import { createBenchDatabase } from './lib/pg';
import { createBenchRetailer, BENCH_ADMIN_TOKEN } from './lib/retailer';
import { processRssBytes, processTree, startAppServer } from './lib/app-server';
import { closedLoop, dataOf, graphqlClient } from './lib/load';
import { stockAuditFailures } from './lib/checks';
import { basket, placeCarryOut } from './place-order';
import { AVAILABILITY } from './availability';

/*
 * `npx tsx bench/memory.ts` (not part of npm run bench): is the server's memory flat under a long steady load?
 * The app server as npm start runs it (compiled, --expose-gc, live events, schedulers, webhook dispatcher) under 8
 * clients doing POS carry-outs and 8 reading availability anonymously (a sale drops the response cache, so reads
 * keep reaching the database), for MINUTES (10); the resident memory of its processes is sampled every 5 s and
 * printed per minute, then the first and last minutes are compared.
 */
const minutes = Number(process.env.MINUTES ?? 10);
const run = Math.random().toString(36).slice(2, 8);
const b = await createBenchDatabase('memory');
let server: Awaited<ReturnType<typeof startAppServer>> | undefined;
try {
  const r = await createBenchRetailer(b.db, { stores: 16, skus: 400, unitsPerLevel: 50_000 });
  server = await startAppServer(b.url, BENCH_ADMIN_TOKEN, {}, { background: true });
  await new Promise((done) => setTimeout(done, 12_000)); // past the start-up collection
  const rss = () => processTree(server!.pid).reduce((t, p) => t + processRssBytes(p), 0) / 2 ** 20;
  const idle = rss();
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rss()), 5_000);
  const client = graphqlClient(server.url, 16);
  let orders = 0;
  let reads = 0;
  const result = await closedLoop({
    concurrency: 16,
    durationMs: minutes * 60_000,
    op: async (c, i) => {
      if (c % 2) {
        await dataOf(await client.post(null, AVAILABILITY, { sku: r.variants[i % r.variants.length]!.sku }));
        reads++;
        return 'ok';
      }
      const o = await placeCarryOut(client, r.stores[c % r.stores.length]!.staffToken, `m-${run}-${c}-${i}`, basket(r));
      orders++;
      return o;
    },
  });
  clearInterval(sampler);
  client.close();
  if (result.errors) throw result.firstError;
  const perMinute = Array.from({ length: minutes }, (_, m) => samples.slice(m * 12, m * 12 + 12));
  const mean = (xs: number[]) => xs.reduce((t, x) => t + x, 0) / xs.length;
  console.log(`idle before the load: ${idle.toFixed(0)} MiB; ${orders} orders, ${reads} reads in ${minutes} min`);
  perMinute.forEach((xs, m) => console.log(`minute ${m + 1}: mean ${mean(xs).toFixed(0)} MiB, max ${Math.max(...xs).toFixed(0)} MiB`));
  const first = mean(perMinute[0]!);
  const last = mean(perMinute.at(-1)!);
  console.log(`last minute ÷ first minute: ${(last / first).toFixed(2)}×; peak ${Math.max(...samples).toFixed(0)} MiB; stock audit failures: ${await stockAuditFailures(b.db)}`);
} finally {
  await server?.stop();
  await b.drop();
}
process.exit(0);
