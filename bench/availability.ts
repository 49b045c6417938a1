import postgres from 'postgres';
import { createBenchDatabase } from './lib/pg';
import { createBenchRetailer, BENCH_ADMIN_TOKEN } from './lib/retailer';
import { startAppServer } from './lib/app-server';
import { closedLoop, dataOf, graphqlClient, measuredOnServer } from './lib/load';
import { recordStatements } from './lib/in-process';
import { fmt, summarize } from './lib/stats';
import type { BenchOptions, Section } from './lib/report';

export const AVAILABILITY = `query($sku: String!) { variantBySku(sku: $sku) { sku
  availability { location { code name } onHand reserved available } } }`;

/**
 * 1. Availability of one SKU across all locations: the real app over HTTP + GraphQL (anonymous, as a web
 * shopper asks) against the very statements that request runs, recorded from the app and replayed through
 * postgres.js (prepared, as the app's driver does) with the same concurrency and pool size.
 */
export async function benchAvailability(o: BenchOptions): Promise<Section> {
  const stores = o.quick ? 10 : 20;
  const skus = o.quick ? 50 : 200;
  const concurrency = 16;
  const durationMs = o.quick ? 3_000 : 10_000;
  const warmupMs = o.quick ? 500 : 2_000;
  const b = await createBenchDatabase('availability');
  let server: Awaited<ReturnType<typeof startAppServer>> | undefined;
  let pg: postgres.Sql | undefined;
  try {
    o.log(`  ${stores} stores × ${skus} SKUs through the services`);
    const r = await createBenchRetailer(b.db, { stores, skus, unitsPerLevel: 25, staff: false });
    const pick = () => r.variants[Math.floor(Math.random() * r.variants.length)]!;

    // The statements one request runs, recorded from the app itself: the baseline replays exactly these.
    const { statements } = await recordStatements(b.url, (gql) => gql(null, AVAILABILITY, { sku: r.variants[0]!.sku }));
    if (statements.length !== 3) throw new Error(`expected 3 statements per availability request, saw ${statements.length}:\n${statements.join('\n')}`);
    const [bySku, availability, locationsById] = statements as [string, string, string];

    server = await startAppServer(b.url, BENCH_ADMIN_TOKEN);
    const poolMax = server.poolMax;
    const client = graphqlClient(server.url, concurrency);
    o.log(`  app: ${concurrency} clients × ${durationMs / 1000} s over HTTP (pool ${poolMax})`);
    const { result: app, cpuMsPerOp, coreShare } = await measuredOnServer(server, () =>
      closedLoop({
        concurrency,
        durationMs,
        warmupMs,
        op: async () => {
          const d = dataOf(await client.post(null, AVAILABILITY, { sku: pick().sku }));
          if (d.variantBySku.availability.length !== stores) throw new Error('availability: wrong number of locations');
          return 'ok';
        },
      }),
    );
    client.close();
    await server.stop();
    server = undefined;

    pg = postgres(b.url, { max: poolMax, onnotice: () => {} });
    o.log(`  baseline: the same 3 statements through postgres.js, ${concurrency} clients × ${durationMs / 1000} s`);
    const base = await closedLoop({
      concurrency,
      durationMs,
      warmupMs,
      op: async () => {
        const [variant] = await pg!.unsafe(bySku, [pick().sku], { prepare: true });
        const levels = await pg!.unsafe(availability, [variant!.id], { prepare: true });
        const ids = [...new Set(levels.map((l) => l.locationId as string))];
        const locs = await pg!.unsafe(locationsById, ids, { prepare: true });
        if (locs.length !== stores) throw new Error('baseline: wrong number of locations');
        return 'ok';
      },
    });
    if (app.errors || base.errors) throw app.firstError ?? base.firstError;

    const a = summarize(app.latencies, app.elapsedMs);
    const s = summarize(base.latencies, base.elapsedMs);
    return {
      title: '1. Availability of one SKU across all locations',
      what:
        `\`variantBySku(sku) { availability { location { code name } onHand reserved available } }\` for a random SKU of ${skus}, ` +
        `each stocked at all ${stores} stores, anonymous, ${concurrency} closed-loop clients on keep-alive HTTP/1.1 for ` +
        `${durationMs / 1000} s after ${warmupMs / 1000} s of warm-up, against the app served by @hono/node-server in its own process ` +
        `(pool of ${poolMax}). Baseline: the 3 statements that request runs (variant by SKU, availabilityFor, ` +
        `locations by id; recorded from the app) replayed through postgres.js, prepared, same concurrency and pool size. ` +
        `The app runs as npm start does, with the anonymous response cache (RESPONSE_CACHE_TTL_MS=${process.env.RESPONSE_CACHE_TTL_MS ?? '30000'}): ` +
        `after the first read of each SKU its answer comes from memory (no writes happen during the run, so nothing drops it), ` +
        `while the baseline runs its statements every time; the statement count below is that of a read that misses.`,
      figureLabel: 'HTTP + GraphQL',
      baselineLabel: 'postgres.js, same SQL',
      rows: [
        { metric: 'requests/s', figure: fmt.rate(a.perSecond), baseline: fmt.rate(s.perSecond), ratio: fmt.ratio(a.perSecond / s.perSecond) },
        { metric: 'p50 latency', figure: fmt.ms(a.p50), baseline: fmt.ms(s.p50), ratio: fmt.ratio(a.p50 / s.p50) },
        { metric: 'p99 latency', figure: fmt.ms(a.p99), baseline: fmt.ms(s.p99), ratio: fmt.ratio(a.p99 / s.p99) },
        { metric: 'SQL statements per request', figure: '3', baseline: '3', ratio: fmt.ratio(1) },
      ],
      notes: [
        `${fmt.int(a.count)} requests vs ${fmt.int(s.count)} baseline lookups measured.`,
        `The app server process used ${cpuMsPerOp.toFixed(2)} ms of CPU per request (${Math.round(coreShare * 100)}% of one core during the run): ` +
          `it is one Node.js process, so about ${fmt.int(1000 / cpuMsPerOp)} requests/s is its ceiling on one core.`,
      ],
      ok: true,
    };
  } finally {
    await server?.stop();
    await pg?.end({ timeout: 5 });
    await b.drop();
  }
}
