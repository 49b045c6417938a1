import { createBenchDatabase } from './lib/pg';
import { BENCH_ADMIN_TOKEN } from './lib/retailer';
import { generateScaledData } from './lib/scaled-data';
import { startAppServer } from './lib/app-server';
import { dataOf, graphqlClient } from './lib/load';
import { fmt, summarize } from './lib/stats';
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import * as schema from '../schema/index';
import { availabilityFor } from '../src/inventory/service';
import pino from 'pino';
import { seedDemoIfEmpty } from '../seed/demo';
import type { BenchOptions, Row, Section } from './lib/report';

const NEAR = `query($sku: String!, $near: GeoPointInput!, $r: Float!) { variantBySku(sku: $sku) { sku
  availability(near: $near, radiusKm: $r) { location { code name } onHand reserved available distanceKm } } }`;
const ALL = `query($sku: String!) { variantBySku(sku: $sku) { sku availability { location { code name } onHand reserved available } } }`;

/** BENCH_SCALE=200x5000 overrides the size (stores x SKUs). */
function scale(quick: boolean): { stores: number; skus: number } {
  const m = /^(\d+)x(\d+)$/.exec(process.env.BENCH_SCALE ?? '');
  if (m) return { stores: Number(m[1]), skus: Number(m[2]) };
  return quick ? { stores: 50, skus: 2_000 } : { stores: 200, skus: 20_000 };
}

/**
 * The same near query on the demo retailer's data (npm start's seed: 10 locations, 96 variants), one request at a
 * time: the figure the scaled data's p99 is held against.
 */
async function demoNearLatency(requests: number, radiusKm: number) {
  const d = await createBenchDatabase('scaled_demo');
  let server: Awaited<ReturnType<typeof startAppServer>> | undefined;
  try {
    await seedDemoIfEmpty(d.db, pino({ level: 'silent' }));
    const variants = await d.sql<{ sku: string }[]>`select sku from variants`;
    const locations = await d.sql<{ latitude: number; longitude: number }[]>`select latitude, longitude from locations where latitude is not null`;
    server = await startAppServer(d.url, BENCH_ADMIN_TOKEN);
    const client = graphqlClient(server.url, 1);
    const near = () => {
      const l = locations[Math.floor(Math.random() * locations.length)]!;
      const point = { latitude: l.latitude + (Math.random() - 0.5) * 0.5, longitude: l.longitude + (Math.random() - 0.5) * 0.5 };
      return client.post(null, NEAR, { sku: variants[Math.floor(Math.random() * variants.length)]!.sku, near: point, r: radiusKm }).then((r) => dataOf(r));
    };
    for (let i = 0; i < 50; i++) await near(); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < requests; i++) {
      const t = performance.now();
      await near();
      ms.push(performance.now() - t);
    }
    client.close();
    return summarize(ms, ms.reduce((a, x) => a + x, 0));
  } finally {
    await server?.stop();
    await d.drop();
  }
}

/**
 * 5. The data scaled up (stores × SKUs, every SKU stocked at every location, with its movements) and the
 * latency of the availability query for random SKUs, one request at a time: Variant.availability(near:,
 * radiusKm:) through HTTP + GraphQL, vs availabilityFor (the one statement behind it) called directly.
 */
export async function benchScaled(o: BenchOptions): Promise<Section> {
  const { stores, skus } = scale(o.quick);
  const requests = o.quick ? 200 : 1_000;
  const radiusKm = 150;
  const b = await createBenchDatabase('scaled');
  let server: Awaited<ReturnType<typeof startAppServer>> | undefined;
  try {
    o.log(`  generating ${fmt.int(stores)} locations × ${fmt.int(skus)} SKUs = ${fmt.int(stores * skus)} levels and as many movements (set-based SQL)`);
    const gen = await generateScaledData(b.url, { stores, skus });
    o.log(`  generated in ${(gen.ms.total / 1000).toFixed(1)} s`);

    // Invariants on the generated data: every level of 100 random SKUs against its movements, and the totals.
    const variants = await b.sql<{ id: string; sku: string }[]>`select id, sku from variants order by sku`;
    const locations = await b.sql<{ latitude: number; longitude: number }[]>`select latitude, longitude from locations`;
    const sample = Array.from({ length: 100 }, () => variants[Math.floor(Math.random() * variants.length)]!.id);
    const [bad] = await b.sql<{ n: number }[]>`
      select count(*)::int as n from inventory_levels l
        left join (select location_id, variant_id, sum(on_hand_delta) as oh, sum(reserved_delta) as rs from stock_movements
                    where variant_id = any(${sample}::uuid[]) group by 1, 2) m using (location_id, variant_id)
       where l.variant_id = any(${sample}::uuid[])
         and (l.on_hand <> coalesce(m.oh, 0) or l.reserved <> coalesce(m.rs, 0) or l.reserved < 0 or l.reserved > l.on_hand)`;
    const [totals] = await b.sql<{ levels: string; moved: string }[]>`
      select (select sum(on_hand) from inventory_levels)::text as levels, (select sum(on_hand_delta) from stock_movements)::text as moved`;
    const invariantsHold = bad!.n === 0 && totals!.levels === totals!.moved;

    const randomVariant = () => variants[Math.floor(Math.random() * variants.length)]!;
    const randomPoint = () => {
      const l = locations[Math.floor(Math.random() * locations.length)]!;
      return { latitude: l.latitude + (Math.random() - 0.5) * 0.5, longitude: l.longitude + (Math.random() - 0.5) * 0.5 };
    };
    const sequential = async (n: number, op: () => Promise<number>) => {
      const ms: number[] = [];
      let rows = 0;
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        rows += await op();
        ms.push(performance.now() - t);
      }
      return { ...summarize(ms, ms.reduce((s, x) => s + x, 0)), rowsPerCall: rows / n };
    };

    server = await startAppServer(b.url, BENCH_ADMIN_TOKEN);
    const client = graphqlClient(server.url, 1);
    const gqlNear = () => {
      const v = randomVariant();
      return client
        .post(null, NEAR, { sku: v.sku, near: randomPoint(), r: radiusKm })
        .then((r) => (dataOf(r).variantBySku.availability as unknown[]).length);
    };
    const gqlAll = () => client.post(null, ALL, { sku: randomVariant().sku }).then((r) => (dataOf(r).variantBySku.availability as unknown[]).length);
    const directNear = () => availabilityFor(b.db, [randomVariant().id], { near: randomPoint(), radiusKm }).then((r) => r.length);
    const directAll = () => availabilityFor(b.db, [randomVariant().id], {}).then((r) => r.length);

    o.log(`  ${requests} sequential requests per variant of the query`);
    await sequential(50, gqlNear); // warm-up
    await sequential(50, directNear);
    const gNear = await sequential(requests, gqlNear);
    const dNear = await sequential(requests, directNear);
    const gAll = await sequential(requests, gqlAll);
    const dAll = await sequential(requests, directAll);
    client.close();
    await server.stop();
    server = undefined;
    const demo = await demoNearLatency(requests, radiusKm);
    const plans = {
      near: await explainAvailability(b.url, randomVariant().id, { near: randomPoint(), radiusKm }),
      all: await explainAvailability(b.url, randomVariant().id, {}),
    };

    const rows: Row[] = [
      { metric: `near + radiusKm: ${radiusKm}, p50`, figure: fmt.ms(gNear.p50), baseline: fmt.ms(dNear.p50), ratio: fmt.ratio(gNear.p50 / dNear.p50) },
      { metric: `near + radiusKm: ${radiusKm}, p99`, figure: fmt.ms(gNear.p99), baseline: fmt.ms(dNear.p99), ratio: fmt.ratio(gNear.p99 / dNear.p99) },
      { metric: `near: locations returned (mean)`, figure: gNear.rowsPerCall.toFixed(1), baseline: dNear.rowsPerCall.toFixed(1), ratio: '' },
      { metric: `near, p50: this data (baseline: the demo's data, same query)`, figure: fmt.ms(gNear.p50), baseline: fmt.ms(demo.p50), ratio: fmt.ratio(gNear.p50 / demo.p50) },
      { metric: `near, p99: this data (baseline: the demo's data, same query)`, figure: fmt.ms(gNear.p99), baseline: fmt.ms(demo.p99), ratio: fmt.ratio(gNear.p99 / demo.p99) },
      { metric: `all ${stores} locations, p50`, figure: fmt.ms(gAll.p50), baseline: fmt.ms(dAll.p50), ratio: fmt.ratio(gAll.p50 / dAll.p50) },
      { metric: `all ${stores} locations, p99`, figure: fmt.ms(gAll.p99), baseline: fmt.ms(dAll.p99), ratio: fmt.ratio(gAll.p99 / dAll.p99) },
    ];
    const { ms } = gen;
    return {
      title: `5. Scaled data: ${fmt.int(stores)} locations × ${fmt.int(skus)} SKUs`,
      what:
        `${fmt.int(gen.levels)} inventory levels and ${fmt.int(gen.movements)} matching RECEIPT movements (plus locations, ` +
        `${fmt.int(Math.ceil(skus / 4))} products, ${fmt.int(skus)} variants) generated with set-based SQL ` +
        `(\`INSERT … SELECT generate_series\`, two connections, secondary indexes rebuilt after the load). Then, one request ` +
        `at a time, ${requests} random SKUs: \`variantBySku(sku) { availability(near:, radiusKm: ${radiusKm}) { … distanceKm } }\` ` +
        `near a random location (jittered), and \`availability\` without near (every location), through HTTP + GraphQL vs ` +
        `availabilityFor (inventory/service.ts, the one statement behind the field) called directly on a postgres.js pool.`,
      figureLabel: 'HTTP + GraphQL',
      baselineLabel: 'availabilityFor direct',
      rows,
      notes: [
        `Generation: ${(ms.total / 1000).toFixed(1)} s (catalog ${(ms.catalog / 1000).toFixed(1)} s, levels + movements ` +
          `${(ms.levels / 1000).toFixed(1)} s, index rebuild ${(ms.indexes / 1000).toFixed(1)} s, analyze ${(ms.analyze / 1000).toFixed(1)} s); ` +
          `database size ${await dbSize(b.sql)}.`,
        `Invariants on the generated data: ${invariantsHold ? 'hold' : 'BROKEN'} (every level of 100 random SKUs = Σ its movements, ` +
          `0 ≤ reserved ≤ onHand; Σ onHand = Σ movements' Δ onHand = ${Number(totals!.levels).toLocaleString('en-US')}).`,
        `Plans of availabilityFor's statement (EXPLAIN ANALYZE on the generated data): with near + radiusKm: ${plans.near}; ` +
          `every location: ${plans.all}.`,
        `GraphQL runs 3 statements per request (variant by SKU, availabilityFor, locations by id), the baseline 1.`,
        `The demo's data: npm start's seed (10 locations, 96 variants) in its own database, the same near query through ` +
          `the same server build, ${requests} sequential requests after 50 warm-up (target: this data's p99 ≤ 1.5× the demo's).`,
      ],
      ok: invariantsHold,
    };
  } finally {
    await server?.stop();
    await b.drop();
  }
}

/** EXPLAIN ANALYZE of the statement availabilityFor sends (recorded with its parameters), as a one-line plan. */
async function explainAvailability(url: string, variantId: string, opts: Parameters<typeof availabilityFor>[2]): Promise<string> {
  const sent: { query: string; params: unknown[] }[] = [];
  const pg = postgres(url, { max: 1, onnotice: () => {}, debug: (_c, query, params) => sent.push({ query, params: params as unknown[] }) });
  try {
    await availabilityFor(drizzle(pg, { schema, casing: 'snake_case' }), [variantId], opts);
    const { query, params } = sent.find((s) => s.query.includes('inventory_levels'))!;
    const [row] = await pg.unsafe(`explain (analyze, format json) ${query}`, params as postgres.ParameterOrJSON<never>[]);
    type Node = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; 'Actual Rows': number; Plans?: Node[] };
    const top = (row!['QUERY PLAN'] as [{ Plan: Node; 'Execution Time': number }])[0];
    const show = (n: Node): string =>
      `${n['Node Type']}${n['Index Name'] ? ` using ${n['Index Name']}` : n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}` +
      (n.Plans?.length ? ` (${n.Plans.map(show).join(', ')})` : '');
    return `\`${show(top.Plan)}\`, ${top.Plan['Actual Rows']} rows in ${top['Execution Time'].toFixed(2)} ms`;
  } finally {
    await pg.end({ timeout: 5 });
  }
}

async function dbSize(sql: postgres.Sql): Promise<string> {
  const [r] = await sql<{ s: string }[]>`select pg_size_pretty(pg_database_size(current_database())) as s`;
  return r!.s;
}
