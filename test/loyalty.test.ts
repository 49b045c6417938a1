import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createWorld, type World } from './support/world';
import { overlap, values } from './support/overlap';
import { inTransaction, type Database, type Tx } from '../src/db';
import { DomainError } from '../src/lib/errors';
import { addDays } from '../src/lib/clock';
import { config } from '../src/config';
import { enrolCustomer } from '../src/customers/service';
import { startSchedulers } from '../src/schedulers';
import '../src/loyalty/jobs';
import {
  adjustPoints,
  auditLedgers,
  creditStoreCredit,
  debitStoreCredit,
  earnForOrder,
  expireLoyaltyPoints,
  recordSpend,
  redeem,
  refundRedeemed,
  reverseEarn,
  type LedgerContext,
} from '../src/loyalty/service';

let t: TestDatabase;
let w: World;
const T0 = new Date('2026-01-15T10:00:00.000Z');

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db);
});
afterAll(() => t.drop());
// The ledger invariant, after every test: balance = Σ entries (and ≥ 0, by the CHECK constraints).
afterEach(async () => {
  expect(await auditLedgers(t.db)).toEqual([]);
});

const at = (now: Date, extra: Partial<LedgerContext> = {}): LedgerContext => ({
  channel: 'POS',
  locationId: w.storeA.id,
  actor: 'test',
  now,
  ...extra,
});

let n = 0;
const newCustomer = () =>
  inTransaction(t.db, (tx) =>
    enrolCustomer(tx, { name: `Ledger ${++n}`, email: `ledger${n}-${randomUUID()}@example.com`, channel: 'WEB', actor: 'test' }),
  ).then((c) => c.id);

const give = (customerId: string, points: number, now = T0) =>
  inTransaction(t.db, (tx) => adjustPoints(tx, customerId, points, at(now, { reason: 'test balance' })));

async function account(customerId: string) {
  const [a] = await t.sql<{ balance: number; tier: string }[]>`
    select balance, tier from loyalty_accounts where customer_id = ${customerId}`;
  return a!;
}
const entries = (customerId: string) =>
  t.sql<{ kind: string; points: number; balance_after: number; order_id: string | null; channel: string; location_id: string | null }[]>`
    select kind, points, balance_after, order_id, channel, location_id from loyalty_entries
     where customer_id = ${customerId} order by created_at, id`;

/** A separate pool for a race, closed afterwards: the server's connections are shared with other test files. */
async function withPools<T>(count: number, max: number, fn: (pools: Database[]) => Promise<T>): Promise<T> {
  const pools = Array.from({ length: count }, () => t.pool({ max }));
  try {
    return await fn(pools);
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

const codeOf = (r: PromiseSettledResult<unknown>) =>
  r.status === 'rejected' && r.reason instanceof DomainError ? r.reason.errors[0]!.code : r.status;

describe('points ledger', () => {
  it('earns at the tier multiplier, links the entry to its order, channel and store', async () => {
    const c = await newCustomer();
    const orderId = randomUUID();
    const r = await inTransaction(t.db, (tx) => earnForOrder(tx, c, 12_345, at(T0, { orderId })));
    expect(r).toEqual({ points: 123 });
    expect(await entries(c)).toEqual([
      { kind: 'EARN', points: 123, balance_after: 123, order_id: orderId, channel: 'POS', location_id: w.storeA.id },
    ]);
  });

  it('refuses a redemption beyond the balance with INSUFFICIENT_POINTS at the given field, writing nothing', async () => {
    const c = await newCustomer();
    await give(c, 300);
    const tryRedeem = inTransaction(t.db, (tx) => redeem(tx, c, 301, at(T0), ['input', 'tenders', '0', 'points']));
    await expect(tryRedeem).rejects.toMatchObject({
      errors: [{ code: 'INSUFFICIENT_POINTS', field: ['input', 'tenders', '0', 'points'] }],
    });
    expect(await account(c)).toMatchObject({ balance: 300 });
    expect(await entries(c)).toHaveLength(1);
  });

  it('reverses no more than the balance holds and returns the shortfall', async () => {
    const c = await newCustomer();
    await inTransaction(t.db, (tx) => earnForOrder(tx, c, 50_000, at(T0)));
    await inTransaction(t.db, (tx) => redeem(tx, c, 400, at(T0)));
    const r = await inTransaction(t.db, (tx) => reverseEarn(tx, c, 500, at(T0)));
    expect(r).toEqual({ reversed: 100, shortfall: 400 });
    expect(await account(c)).toMatchObject({ balance: 0 });
    // nothing left to take: no entry, the whole amount is shortfall
    expect(await inTransaction(t.db, (tx) => reverseEarn(tx, c, 50, at(T0)))).toEqual({ reversed: 0, shortfall: 50 });
    await inTransaction(t.db, (tx) => refundRedeemed(tx, c, 400, at(T0)));
    expect((await entries(c)).map((e) => [e.kind, e.points, e.balance_after])).toEqual([
      ['EARN', 500, 500],
      ['REDEEM', -400, 100],
      ['EARN_REVERSAL', -100, 0],
      ['REDEEM_REFUND', 400, 400],
    ]);
  });

  it('says NOT_FOUND for a customer without an account', async () => {
    const nobody = randomUUID();
    const ops: ((tx: Tx) => Promise<unknown>)[] = [
      (tx) => redeem(tx, nobody, 1, at(T0)),
      (tx) => earnForOrder(tx, nobody, 1000, at(T0)),
      (tx) => reverseEarn(tx, nobody, 10, at(T0)),
      (tx) => creditStoreCredit(tx, nobody, 10, 'REFUND', at(T0)),
    ];
    for (const op of ops) await expect(inTransaction(t.db, op)).rejects.toMatchObject({ errors: [{ code: 'NOT_FOUND' }] });
  });

  it('rolls back with the caller: an entry never outlives a failed order', async () => {
    const c = await newCustomer();
    await give(c, 100);
    await expect(
      inTransaction(t.db, async (tx) => {
        await redeem(tx, c, 100, at(T0));
        throw new Error('tender declined');
      }),
    ).rejects.toThrow('tender declined');
    expect(await account(c)).toMatchObject({ balance: 100 });
  });
});

describe('concurrency', () => {
  it('20 parallel redemptions of 100 on a balance of 500: exactly 5 succeed', async () => {
    const c = await newCustomer();
    await give(c, 500);
    const results = await withPools(1, 20, ([pool]) =>
      Promise.allSettled(
        Array.from({ length: 20 }, () =>
          inTransaction(pool!.db, async (tx) => {
            const r = await redeem(tx, c, 100, at(T0));
            // hold the row lock a moment so the others queue up behind it and must re-check the guard
            await tx.execute(sql`select pg_sleep(0.01)`);
            return r;
          }),
        ),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(results.map(codeOf).filter((code) => code !== 'fulfilled')).toEqual(Array(15).fill('INSUFFICIENT_POINTS'));
    expect(await account(c)).toMatchObject({ balance: 0 });
    const redemptions = (await entries(c)).filter((e) => e.kind === 'REDEEM');
    expect(redemptions.map((e) => e.balance_after).sort((a, b) => b - a)).toEqual([400, 300, 200, 100, 0]);
  });

  it('a redemption racing a reversal of the same points: one consistent outcome, never below zero', async () => {
    await withPools(2, 1, async (pools) => {
      for (let round = 0; round < 8; round++) {
        const c = await newCustomer();
        await inTransaction(t.db, (tx) => earnForOrder(tx, c, 30_000, at(T0)));
        const [spend, reversal] = await overlap(t, (sql) => sql`select 1 from loyalty_accounts where customer_id = ${c} for update`, [
          () => inTransaction(pools[0]!.db, (tx) => redeem(tx, c, 200, at(T0))),
          () => inTransaction(pools[1]!.db, (tx) => reverseEarn(tx, c, 300, at(T0))),
        ]);
        expect(reversal.status).toBe('fulfilled');
        const { reversed, shortfall } = (reversal as PromiseFulfilledResult<{ reversed: number; shortfall: number }>).value;
        if (spend.status === 'fulfilled') expect({ reversed, shortfall }).toEqual({ reversed: 100, shortfall: 200 });
        else expect([codeOf(spend), reversed, shortfall]).toEqual(['INSUFFICIENT_POINTS', 300, 0]);
        expect(await account(c)).toMatchObject({ balance: 0 });
        expect(await auditLedgers(t.db)).toEqual([]);
      }
    });
  });

  it('store credit: 10 parallel debits of 100 on 450 leave 50, never below zero', async () => {
    const c = await newCustomer();
    await inTransaction(t.db, (tx) => creditStoreCredit(tx, c, 450, 'REFUND', at(T0)));
    const results = await withPools(1, 10, ([pool]) =>
      Promise.allSettled(
        Array.from({ length: 10 }, () => inTransaction(pool!.db, (tx) => debitStoreCredit(tx, c, 100, at(T0), ['input', 'tenders', '1']))),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    expect(results.map(codeOf).filter((code) => code !== 'fulfilled')).toEqual(Array(6).fill('INSUFFICIENT_STORE_CREDIT'));
    const [acc] = await t.sql<{ balance: number }[]>`select balance::int from store_credit_accounts where customer_id = ${c}`;
    expect(acc!.balance).toBe(50);
  });
});

describe('append-only ledgers', () => {
  it('the database refuses UPDATE and DELETE on loyalty and store-credit entries', async () => {
    const c = await newCustomer();
    await give(c, 10);
    await inTransaction(t.db, (tx) => creditStoreCredit(tx, c, 10, 'ADJUSTMENT', at(T0, { reason: 'goodwill' })));
    for (const table of ['loyalty_entries', 'store_credit_entries']) {
      await expect(t.sql.unsafe(`update ${table} set actor = 'tamper' where customer_id = $1`, [c])).rejects.toMatchObject({
        code: '23001',
        message: expect.stringContaining('append-only'),
      });
      await expect(t.sql.unsafe(`delete from ${table} where customer_id = $1`, [c])).rejects.toMatchObject({ code: '23001' });
    }
    expect(await entries(c)).toHaveLength(1);
  });

  it('a balance cannot go below zero even by a direct write (CHECK constraint)', async () => {
    const c = await newCustomer();
    await expect(t.sql`update loyalty_accounts set balance = -1 where customer_id = ${c}`).rejects.toMatchObject({ code: '23514' });
    await expect(t.sql`update store_credit_accounts set balance = -1 where customer_id = ${c}`).rejects.toMatchObject({ code: '23514' });
  });

  it('the audit finds a projection that disagrees with its entries', async () => {
    const c = await newCustomer();
    await give(c, 70);
    await expect(
      t.db.transaction(async (tx) => {
        await tx.execute(sql`update loyalty_accounts set balance = balance + 5 where customer_id = ${c}`);
        expect(await auditLedgers(tx)).toEqual([{ ledger: 'POINTS', customerId: c, balance: 75, sum: 70 }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
  });
});

describe('store credit', () => {
  it('credits and debits with kinds and balances, refusing an overdraft', async () => {
    const c = await newCustomer();
    await inTransaction(t.db, (tx) => creditStoreCredit(tx, c, 1000, 'REFUND', at(T0, { returnId: randomUUID() })));
    expect(await inTransaction(t.db, (tx) => debitStoreCredit(tx, c, 600, at(T0)))).toEqual({ balanceAfter: 400 });
    await expect(inTransaction(t.db, (tx) => debitStoreCredit(tx, c, 600, at(T0), ['input', 'tenders', '0']))).rejects.toMatchObject({
      errors: [{ code: 'INSUFFICIENT_STORE_CREDIT', field: ['input', 'tenders', '0'] }],
    });
    expect(await inTransaction(t.db, (tx) => creditStoreCredit(tx, c, 600, 'TENDER_REFUND', at(T0)))).toEqual({ balanceAfter: 1000 });
    const rows = await t.sql<{ kind: string; amount: string; balance_after: string }[]>`
      select kind, amount, balance_after from store_credit_entries where customer_id = ${c} order by created_at, id`;
    expect(rows.map((r) => [r.kind, Number(r.amount), Number(r.balance_after)])).toEqual([
      ['REFUND', 1000, 1000],
      ['TENDER', -600, 400],
      ['TENDER_REFUND', 600, 1000],
    ]);
  });
});

describe('tiers', () => {
  const earn = (c: string, paid: number, now: Date, orderId: string = randomUUID()) =>
    inTransaction(t.db, (tx) => earnForOrder(tx, c, paid, at(now, { orderId })));
  const spend = (c: string, delta: number, now: Date, orderId?: string) =>
    inTransaction(t.db, (tx) => recordSpend(tx, c, delta, at(now, { orderId })));

  it('go up with spend (earning at the tier held before each order) and down after returns', async () => {
    const c = await newCustomer();
    const first = randomUUID();
    expect(await earn(c, 60_000, T0, first)).toEqual({ points: 600 }); // BASE ×1, then SILVER
    expect(await account(c)).toMatchObject({ tier: 'SILVER' });
    expect(await earn(c, 10_000, addDays(T0, 1))).toEqual({ points: 125 }); // SILVER ×1.25
    const big = randomUUID();
    expect(await earn(c, 100_000, addDays(T0, 2), big)).toEqual({ points: 1250 });
    expect(await account(c)).toMatchObject({ tier: 'GOLD' }); // 170,000
    expect(await earn(c, 1_000, addDays(T0, 3))).toEqual({ points: 15 }); // GOLD ×1.5
    expect(await spend(c, -100_000, addDays(T0, 4), big)).toEqual({ tier: 'SILVER' }); // 71,000
    expect(await spend(c, -60_000, addDays(T0, 5), first)).toEqual({ tier: 'BASE' }); // 11,000
    expect(await account(c)).toMatchObject({ tier: 'BASE', balance: 600 + 125 + 1250 + 15 });
  });

  it('two orders of one customer racing across a threshold: the second earns at the tier the first reached', async () => {
    const c = await newCustomer();
    // Both wait behind the gate's lock on the account, their statements already started: the one that goes second
    // must see the spend the first committed while it waited (its statement's snapshot is older than that commit).
    const outcomes = await withPools(2, 1, ([a, b]) =>
      overlap(t, (gate) => gate`select 1 from loyalty_accounts where customer_id = ${c} for update`, [
        () => inTransaction(a!.db, (tx) => earnForOrder(tx, c, 60_000, at(T0, { orderId: randomUUID() }))),
        () => inTransaction(b!.db, (tx) => earnForOrder(tx, c, 60_000, at(T0, { orderId: randomUUID() }))),
      ]),
    );
    // BASE ×1 for the first (600), SILVER ×1.25 for the second (750), whichever went first.
    expect(values(outcomes).map((o) => o.points).sort()).toEqual([600, 750]);
    expect(await account(c)).toMatchObject({ tier: 'SILVER', balance: 1350 });
  });

  it('an order waiting on a spend that leaves the tier as it was still counts that spend', async () => {
    const c = await newCustomer();
    await withPools(2, 1, async ([a, b]) => {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let spent!: () => void;
      const afterSpend = new Promise<void>((r) => (spent = r));
      // 30,000 keeps BASE; it commits only once the order below waits on the account's lock.
      const first = inTransaction(a!.db, async (tx) => {
        await recordSpend(tx, c, 30_000, at(T0));
        spent();
        await held;
      });
      await afterSpend;
      const second = inTransaction(b!.db, (tx) => earnForOrder(tx, c, 30_000, at(T0, { orderId: randomUUID() })));
      for (let i = 0; ; i++) {
        const [row] = await t.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
        if (row!.n >= 1) break;
        if (i > 500) throw new Error('the order never waited on the account');
        await new Promise((r) => setTimeout(r, 5));
      }
      release();
      await first;
      expect(await second).toEqual({ points: 300 }); // earned at BASE: the spend before it was 30,000
    });
    // 60,000 in the window: SILVER, which a sum read before the first spend committed would have missed.
    expect(await account(c)).toMatchObject({ tier: 'SILVER', balance: 300 });
  });

  it('use a rolling 12-month window; a late return leaves the window with the spend it cancels', async () => {
    const c = await newCustomer();
    const order = randomUUID();
    await earn(c, 80_000, T0, order);
    await earn(c, 20_000, addDays(T0, 100));
    expect(await account(c)).toMatchObject({ tier: 'SILVER' }); // 100,000
    // returned 11 months later: dated at the order, so the window now holds 60,000 - and later 0, not -60,000
    expect(await spend(c, -40_000, addDays(T0, 330), order)).toEqual({ tier: 'SILVER' });
    const [neg] = await t.sql<{ created_at: string }[]>`select created_at from loyalty_spend where customer_id = ${c} and amount < 0`;
    expect(new Date(neg!.created_at).toISOString()).toBe(T0.toISOString());
    // 13 months on, the first order left the window: only 20,000 remains
    expect(await spend(c, 0, addDays(T0, 400))).toEqual({ tier: 'BASE' });
    // and nothing is left later still: a new 50,000 order reaches SILVER again, earning at BASE
    expect(await earn(c, 50_000, addDays(T0, 480))).toEqual({ points: 500 });
    expect(await account(c)).toMatchObject({ tier: 'SILVER' });
  });
});

describe('expiry', () => {
  const days = config.LOYALTY_EXPIRY_INACTIVE_DAYS;

  it('expires points after the inactivity period with one EXPIRY entry; twice = once', async () => {
    const c = await newCustomer();
    await give(c, 300, T0);
    expect(await expireLoyaltyPoints(t.db, addDays(T0, days - 1))).not.toContain(c);
    expect(await account(c)).toMatchObject({ balance: 300 });
    expect(await expireLoyaltyPoints(t.db, addDays(T0, days + 1))).toContain(c);
    expect(await expireLoyaltyPoints(t.db, addDays(T0, days + 2))).not.toContain(c);
    expect((await entries(c)).map((e) => [e.kind, e.points, e.balance_after, e.channel])).toEqual([
      ['ADJUSTMENT', 300, 300, 'POS'],
      ['EXPIRY', -300, 0, 'ADMIN'],
    ]);
  });

  it('counts earning and redeeming as activity', async () => {
    const c = await newCustomer();
    await inTransaction(t.db, (tx) => earnForOrder(tx, c, 40_000, at(T0)));
    await inTransaction(t.db, (tx) => redeem(tx, c, 100, at(addDays(T0, 200))));
    expect(await expireLoyaltyPoints(t.db, addDays(T0, days + 1))).not.toContain(c);
    // a reversal is not activity: it does not keep the points alive
    await inTransaction(t.db, (tx) => reverseEarn(tx, c, 100, at(addDays(T0, 300))));
    expect(await expireLoyaltyPoints(t.db, addDays(T0, 200 + days + 1))).toContain(c);
    expect(await account(c)).toMatchObject({ balance: 0 });
  });

  it('two concurrent runs expire each account once', async () => {
    const cs = await Promise.all(Array.from({ length: 5 }, () => newCustomer()));
    for (const c of cs) await give(c, 50, addDays(T0, 1000));
    const asOf = addDays(T0, 1000 + days + 1);
    // SKIP LOCKED would pass over a locked account, so the gate holds the table against writers instead: both
    // runs wait at their UPDATE and then start it together.
    const [a, b] = await withPools(2, 1, async ([p, q]) =>
      values(await overlap(t, (sql) => sql`lock table loyalty_accounts in share mode`, [() => expireLoyaltyPoints(p!.db, asOf), () => expireLoyaltyPoints(q!.db, asOf)])),
    );
    const all = [...a!, ...b!].filter((id) => cs.includes(id));
    expect(all.sort()).toEqual([...cs].sort());
    const [row] = await t.sql<{ count: number }[]>`
      select count(*)::int from loyalty_entries where kind = 'EXPIRY' and customer_id in ${t.sql(cs)}`;
    expect(row!.count).toBe(5);
  });

  it('runs on the server schedule', async () => {
    const c = await newCustomer();
    await give(c, 40, addDays(T0, 2000));
    const stop = startSchedulers(t.db, () => addDays(T0, 2000 + days + 1), pino({ level: 'silent' }), 20);
    try {
      await vi.waitFor(async () => expect(await account(c)).toMatchObject({ balance: 0 }), { timeout: 5000, interval: 20 });
    } finally {
      stop();
    }
    expect((await entries(c)).map((e) => e.kind)).toEqual(['ADJUSTMENT', 'EXPIRY']);
  });
});
