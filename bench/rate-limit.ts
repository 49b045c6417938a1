import pino from 'pino';
import { createApp } from '../src/app';
import { systemClock } from '../src/lib/clock';
import { RateLimiterDrizzle } from 'rate-limiter-flexible';
import { rateLimits } from '../schema/index';
import { LeasedLimiter, type RequestLimits } from '../src/lib/rate-limit';
import { createBenchDatabase, dropAllCreated } from './lib/pg';
import { connect, type Database } from '../src/db';
import { BENCH_ADMIN_TOKEN } from './lib/retailer';

/*
 * What the request rate limits cost (src/lib/rate-limit.ts), run on its own: `npx tsx bench/rate-limit.ts`
 * (not part of `npm run bench`, whose servers run without limits). A tight loop of anonymous `{ __typename }`
 * requests through app.request in one process, from one client address, with the limits off, on (leased blocks
 * of 20, the default) and on with a block of 1 (a statement per request, what a plain RateLimiterDrizzle costs).
 * The limits are set high so that nothing is refused: this is the price of counting. The settings take turns
 * request by request, so that the machine's drift spreads over all of them. RATE_BENCH_N (2000) × RATE_BENCH_ROUNDS
 * (3) requests per setting. Wall time moves with whatever else the machine runs; the process's CPU time per request
 * (user + system, this process only: PostgreSQL's side is the statements counted) moves less.
 */

/** Runs `f` n times in a row: mean wall and CPU time (this process) per call, in µs. */
async function timed(n: number, f: () => Promise<unknown>) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < n; i++) await f();
  const used = process.cpuUsage(cpu);
  return { wallUs: ((performance.now() - started) * 1000) / n, cpuUs: (used.user + used.system) / n };
}

const N = Number(process.env.RATE_BENCH_N ?? 2000);
const ROUNDS = Number(process.env.RATE_BENCH_ROUNDS ?? 3);
const high = 1_000_000_000;

async function main() {
  const database = await createBenchDatabase('ratelimit', { max: 2 });
  const pools: Database[] = [];
  try {
    const settings: [string, RequestLimits | undefined][] = [
      ['off', undefined],
      ['on, block 20', { perIp: high, perCaller: high, block: 20 }],
      ['on, block 1', { perIp: high, perCaller: high, block: 1 }],
    ];
    const apps = settings.map(([label, rateLimits]) => {
      const counted = { statements: 0 };
      // Each setting on its own pool, whose statements on the shared count are counted.
      const pool = connect(database.url, { max: 5, onQuery: (q) => void (q.includes('rate_limits') && counted.statements++) });
      pools.push(pool);
      const app = createApp({ db: pool.db, adminToken: BENCH_ADMIN_TOKEN, clock: systemClock, log: pino({ level: 'silent' }), production: true, rateLimits });
      return { label, app, counted, ms: [] as number[], cpuUs: 0 };
    });
    const body = JSON.stringify({ query: '{ __typename }' });
    const env = { incoming: { socket: { remoteAddress: '198.51.100.1' } } };
    const one = async (a: (typeof apps)[number]) => {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const res = await a.app.request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body }, env);
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      await res.arrayBuffer();
      const used = process.cpuUsage(cpu);
      a.cpuUs += used.user + used.system;
      return performance.now() - started;
    };
    for (const a of apps) for (let i = 0; i < 300; i++) await one(a); // warm-up: JIT, pools, the first leases
    for (const a of apps) {
      a.counted.statements = 0;
      a.cpuUs = 0;
    }
    // Interleaved request by request, so that the machine's drift (other work on it) falls on every setting alike,
    // in a rotating order, so that no setting always follows the one that allocates most (its garbage is collected
    // during the next request).
    for (let i = 0; i < N * ROUNDS; i++) for (let j = 0; j < apps.length; j++) {
      const a = apps[(i + j) % apps.length]!;
      a.ms.push(await one(a));
    }
    const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
    const pct = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) * p)]!;
    const base = sum(apps[0]!.ms);
    const baseCpu = apps[0]!.cpuUs;
    console.log(`${N * ROUNDS} anonymous { __typename } requests per setting in-process, from one address, interleaved:`);
    for (const a of apps) {
      const total = sum(a.ms);
      console.log(
        `  ${a.label.padEnd(13)} mean ${((total * 1000) / a.ms.length).toFixed(0).padStart(5)} µs  p50 ${(pct(a.ms, 0.5) * 1000).toFixed(0).padStart(5)} µs  p99 ${(pct(a.ms, 0.99) * 1000).toFixed(0).padStart(6)} µs  ` +
          `time ×${(total / base).toFixed(3)}  CPU ${(a.cpuUs / a.ms.length).toFixed(0).padStart(4)} µs (×${(a.cpuUs / baseCpu).toFixed(3)})  ${String(a.counted.statements).padStart(5)} statements on rate_limits`,
      );
    }
    // The parts alone, without HTTP or GraphQL. One statement on the shared count (what block 1 pays per request):
    const store = new RateLimiterDrizzle({ storeClient: pools[2]!.db, schema: rateLimits, keyPrefix: 'bench-stmt', points: high, duration: 60 });
    const stmt = await timed(1000, () => store.consume('198.51.100.3', 1));
    console.log(`  one RateLimiterDrizzle.consume (INSERT … ON CONFLICT, autocommit): ${stmt.wallUs.toFixed(0)} µs wall, ${stmt.cpuUs.toFixed(0)} µs CPU in this process`);
    // A point taken from memory (block 1000: a statement per thousand calls, noise in the average):
    const limiter = new LeasedLimiter(pools[2]!.db, 'bench-take', high, 60, 1000);
    const take = await timed(200_000, () => limiter.take('198.51.100.4'));
    console.log(`  LeasedLimiter.take() with the point in memory: ${(take.wallUs * 1000).toFixed(0)} ns wall, ${(take.cpuUs * 1000).toFixed(0)} ns CPU per call`);
  } finally {
    for (const p of pools) await p.close();
    await database.drop();
    await dropAllCreated();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
