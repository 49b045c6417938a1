import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp } from './support/app';
import { createWorld, type World } from './support/world';
import { chaosRun } from './support/chaos';

// A short seeded randomized invariant run; `npm run soak` runs a long one (CHAOS_OPERATIONS). CHAOS_SEED reproduces a
// run's choices.
const operations = Number(process.env.CHAOS_OPERATIONS ?? 600);

let t: TestDatabase;
let w: World;

beforeAll(async () => {
  t = await createTestDatabase({ max: 12 });
  w = await createWorld(t.db);
});
afterAll(async () => t.drop());

describe('randomized invariant run', () => {
  it('many clients, random operations of every kind, connections killed: every invariant holds', { timeout: 60_000 + operations * 200 }, async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const report = await chaosRun(t, w, createTestApp(t.db).gql, { seed, operations, clients: operations > 1000 ? 16 : 8, killEvery: 40 });
    console.log(
      `chaos seed ${seed}: ${report.operations} operations (${report.retries} retries), ${report.faultsInjected} connections killed, ` +
        `${report.refused} refused, ${report.failed} failed, ${report.anomalies.length} anomalies\n${JSON.stringify(report.byKind)}`,
    );
    expect(report.anomalies, `seed ${seed}`).toEqual([]);
    expect(report.operations).toBe(operations);
    expect(report.faultsInjected).toBeGreaterThan(0);
    // Enough real work happened for the invariants to mean something.
    const [counts] = await t.sql`select (select count(*) from orders)::int as orders, (select count(*) from returns)::int as returns`;
    expect(counts!.orders).toBeGreaterThan(100);
    expect(counts!.returns).toBeGreaterThan(5);
  });
});
