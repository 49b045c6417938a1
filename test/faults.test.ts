import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createWorld, admin, type World } from './support/world';
import { expectStockInvariants } from './support/invariants';
import { overlap } from './support/overlap';
import { inTransaction, type Database, type Tx } from '../src/db';
import { receiveStock, reserve } from '../src/inventory/service';
import { ADMIN_TOKEN, createTestApp } from './support/app';

// A transaction rolls back whole or is retried whole, whatever fails underneath it.
let t: TestDatabase;
let w: World;
let variantId: string;

const level = async () => {
  const [r] = await t.sql`select on_hand, reserved from inventory_levels where location_id = ${w.storeA.id} and variant_id = ${variantId}`;
  return { onHand: r!.on_hand as number, reserved: r!.reserved as number };
};
const movements = async () => Number((await t.sql`select count(*) from stock_movements`)[0]!.count);

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db);
  await receiveStock(t.db, admin, { idempotencyKey: 'faults', locationId: w.storeA.id, lines: [{ sku: 'MER-S', quantity: 10 }] });
  variantId = (await t.sql`select id from variants where sku = 'MER-S'`)[0]!.id as string;
});
afterAll(async () => {
  await expectStockInvariants(t.db);
  await t.drop();
});

describe('faults', () => {
  // A backend killed under a transaction (failover, an admin's pg_terminate_backend, a server timeout): the caller
  // gets an error, nothing of the transaction stays, and the pool's connection serves the next caller as new.
  const pidOf = async (tx: Tx) => ((await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`)) as unknown as [{ pid: number }])[0].pid;
  /** Settles with what `p` did, or says it was still pending after `ms`: a statement the driver lost hangs forever. */
  const within = (p: Promise<unknown>, ms = 3000) =>
    Promise.race([
      p.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      new Promise((r) => setTimeout(() => r('still pending'), ms)),
    ]);
  /** The pool answers a new statement (not, say, the killed backend's error) and then closes promptly: nothing left pending on it. */
  async function expectPoolRecovered(pool: Database) {
    expect(await within(pool.sql`select 42 as answer`)).toEqual({ value: [{ answer: 42 }] });
    const start = Date.now();
    await pool.close();
    expect(Date.now() - start).toBeLessThan(1000);
  }

  it('a connection killed mid-transaction leaves nothing behind and the caller gets an error', async () => {
    const pool = t.pool({ max: 1 });
    const before = { level: await level(), movements: await movements() };
    await expect(
      inTransaction(pool.db, async (tx) => {
        await reserve(tx, [{ locationId: w.storeA.id, variantId, quantity: 3 }], { actor: 'test' });
        await t.sql`select pg_terminate_backend(${await pidOf(tx)})`;
        await reserve(tx, [{ locationId: w.storeA.id, variantId, quantity: 1 }], { actor: 'test' });
      }),
    ).rejects.toThrow();
    expect({ level: await level(), movements: await movements() }).toEqual(before);
    await expectPoolRecovered(pool);
  });

  it('a statement in flight when its connection is killed fails, and so does the transaction', async () => {
    const pool = t.pool({ max: 1 });
    const before = { level: await level(), movements: await movements() };
    let pid = 0;
    const outcome = inTransaction(pool.db, async (tx) => {
      await reserve(tx, [{ locationId: w.storeA.id, variantId, quantity: 3 }], { actor: 'test' });
      pid = await pidOf(tx);
      await tx.execute(sql`select pg_sleep(10)`);
    });
    // The kill can fail it before `within` below looks at it: handled from now on (within still sees the rejection).
    outcome.catch(() => {});
    // Kill it once the sleep is running.
    for (let i = 0; ; i++) {
      const [r] = await t.sql`select 1 from pg_stat_activity where pid = ${pid} and state = 'active' and query like '%pg_sleep%'`;
      if (r) break;
      if (i > 200) throw new Error('the statement never started');
      await new Promise((r) => setTimeout(r, 10));
    }
    await t.sql`select pg_terminate_backend(${pid})`;
    expect(await within(outcome)).toMatchObject({ error: expect.anything() });
    expect({ level: await level(), movements: await movements() }).toEqual(before);
    await expectPoolRecovered(pool);
  });

  it('a callback that goes on after its connection was killed is refused, not run on the next connection', async () => {
    const pool = t.pool({ max: 1 });
    const before = { level: await level(), movements: await movements() };
    let gaveUp!: () => void;
    const callerGaveUp = new Promise<void>((r) => (gaveUp = r));
    let reconnected: unknown;
    let late: unknown;
    const outcome = inTransaction(pool.db, async (tx) => {
      await reserve(tx, [{ locationId: w.storeA.id, variantId, quantity: 3 }], { actor: 'test' });
      await t.sql`select pg_terminate_backend(${await pidOf(tx)})`;
      // The caller has its error; the pool has since reconnected its one connection for someone else.
      await callerGaveUp;
      reconnected = await within(pool.sql`select 1 as one`);
      // This callback knows none of that and carries on with its transaction.
      late = await within(reserve(tx, [{ locationId: w.storeA.id, variantId, quantity: 1 }], { actor: 'test' }));
    });
    expect(await within(outcome)).toMatchObject({ error: expect.anything() });
    gaveUp();
    await expect.poll(() => late, { timeout: 5000 }).toBeDefined();
    expect(reconnected).toEqual({ value: [{ one: 1 }] });
    expect(late).toMatchObject({ error: expect.anything() });
    expect({ level: await level(), movements: await movements() }).toEqual(before);
    await expectPoolRecovered(pool);
  });

  it('a statement timeout rolls the whole transaction back', async () => {
    const before = { level: await level(), movements: await movements() };
    await expect(
      inTransaction(t.db, async (tx) => {
        await reserve(tx, [{ locationId: w.storeA.id, variantId, quantity: 2 }], { actor: 'test' });
        await tx.execute(sql`set local statement_timeout = '50ms'`);
        await tx.execute(sql`select pg_sleep(1)`);
      }),
    ).rejects.toMatchObject({ cause: { code: '57014' } });
    expect({ level: await level(), movements: await movements() }).toEqual(before);
  });

  it('a serialization failure is retried whole: one effect', async () => {
    const before = await level();
    let attempts = 0;
    await inTransaction(t.db, async (tx) => {
      attempts++;
      await reserve(tx, [{ locationId: w.storeA.id, variantId, quantity: 1 }], { actor: 'test' });
      if (attempts === 1) await tx.execute(sql`do $$ begin raise exception 'simulated' using errcode = '40001'; end $$`);
    });
    expect(attempts).toBe(2);
    expect(await level()).toEqual({ onHand: before.onHand, reserved: before.reserved + 1 });
  });

  it('a deadlock between two transactions resolves: both succeed after the retry', async () => {
    const other = (await t.sql`select id from variants where sku = 'MER-M'`)[0]!.id as string;
    await receiveStock(t.db, admin, { idempotencyKey: 'faults-2', locationId: w.storeA.id, lines: [{ sku: 'MER-M', quantity: 10 }] });
    const pool = t.pool({ max: 4 });
    // Locks taken in opposite orders on purpose (the services sort keys; this bypasses that to force 40P01).
    let attempts = 0;
    const lockBoth = (first: string, second: string) =>
      inTransaction(pool.db, async (tx) => {
        attempts++;
        await tx.execute(sql`update inventory_levels set reserved = reserved where location_id = ${w.storeA.id} and variant_id = ${first}`);
        await tx.execute(sql`select pg_sleep(0.2)`);
        await tx.execute(sql`update inventory_levels set reserved = reserved where location_id = ${w.storeA.id} and variant_id = ${second}`);
      });
    // Both start together: each waits for its first row behind the gate, takes it on release, then wants the other's.
    const both = await overlap(t, (s) => s`select 1 from inventory_levels where location_id = ${w.storeA.id} and variant_id in (${variantId}, ${other}) for update`, [
      () => lockBoth(variantId, other),
      () => lockBoth(other, variantId),
    ]);
    expect(both.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    // One of them was chosen as the deadlock victim and ran again.
    expect(attempts).toBe(3);
    await pool.close();
  });

  it('the database down, then back: /readyz answers 503, then 200 without a restart, and requests work again', async () => {
    const pool = t.pool({ max: 2 });
    const { app } = createTestApp(pool.db);
    const gql = () => app.request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ locations { code } }' }) });
    expect((await app.request('/readyz')).status).toBe(200);
    const name = new URL(t.url).pathname.slice(1);
    const admin = postgres(t.url.replace(/\/[^/]+$/, '/postgres'), { max: 1, onnotice: () => {} });
    // Down: no new connections, and every open one killed.
    await admin.unsafe(`alter database ${name} allow_connections false`);
    try {
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`;
      expect((await app.request('/readyz')).status).toBe(503);
      const failed = (await (await gql()).json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(failed.errors[0]).toMatchObject({ message: 'The database is unavailable right now: try again shortly.', extensions: { code: 'SERVICE_UNAVAILABLE' } });
      // With a token, resolving it needs the database first: 503, the same clear error.
      const signedIn = await app.request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN.replace(/./, 'x')}` }, body: JSON.stringify({ query: '{ locations { code } }' }) });
      expect(signedIn.status).toBe(503);
      expect(((await signedIn.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await admin.unsafe(`alter database ${name} allow_connections true`);
      await admin.end();
    }
    // Back: the same process, the same pool.
    expect((await app.request('/readyz')).status).toBe(200);
    const ok = (await (await gql()).json()) as { data: { locations: unknown[] } };
    expect(ok.data.locations.length).toBeGreaterThan(0);
    await pool.close();
  });
});
