import { randomInt } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import {
  loyaltyAccounts,
  loyaltyEntries,
  loyaltySpend,
  storeCreditAccounts,
  storeCreditEntries,
} from '../../schema/index';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { config } from '../config';
import { addDays } from '../lib/clock';
import { DomainError, fail } from '../lib/errors';
import { olderThan, parentIds, type TimeKey } from '../lib/paged-loader';
import { luhnDigit } from '../customers/rules';
import { recordOutboxEvents } from '../events/outbox';
import { globalId, newId } from '../lib/ids';
import { once, replayOr } from '../idempotency/service';
import { requireAdmin, requireStaff } from '../access/guards';
import { actorOf, channelOf, type Channel, type Viewer } from '../access/viewer';
import { recordAudit } from '../audit/service';
import { pointsEarned, tierFor, tierWindowStart, type EntryKind, type Tier } from './rules';

/*
 * The points and store-credit ledgers.
 *
 * Entries are append-only (a trigger refuses UPDATE/DELETE); the account rows are projections kept in the
 * same transaction. Every balance change is one guarded UPDATE on the projection row (`… WHERE balance +
 * Δ >= 0 RETURNING balance`), followed by the INSERT of the entry with that balance: concurrent writers
 * serialise on the row lock and nobody ever acts on a balance read earlier. The CHECK constraints
 * (balance >= 0) are the backstop.
 *
 * The tx-level functions (earnForOrder, redeem, …) are called by orders and returns inside their own
 * transaction; they never open one.
 */

/** Who, where and why a ledger change happens. */
export interface LedgerContext {
  channel: Channel;
  locationId: string | null;
  actor: string;
  orderId?: string | null;
  returnId?: string | null;
  /** The time of the change (from the caller's clock, so expiry and tiers are testable). */
  now: Date;
  /** Stored on the entry; required for adjustments. */
  reason?: string | null;
}

export type LoyaltyAccount = typeof loyaltyAccounts.$inferSelect;
export type LoyaltyEntry = typeof loyaltyEntries.$inferSelect;
export type StoreCreditAccount = typeof storeCreditAccounts.$inferSelect;
export type StoreCreditKind = 'REFUND' | 'TENDER_REFUND' | 'ADJUSTMENT';

// ---- accounts ---------------------------------------------------------------------------------------

function newLoyaltyNumber(): string {
  const body = Array.from({ length: 9 }, (_, i) => (i === 0 ? 1 + randomInt(9) : randomInt(10))).join('');
  return `${body}${luhnDigit(body)}`;
}

/** Opens the points and store-credit accounts of a new customer (same transaction as the customer). */
export async function openAccounts(tx: Tx, customerId: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const inserted = await tx
      .insert(loyaltyAccounts)
      .values({ customerId, number: newLoyaltyNumber() })
      .onConflictDoNothing()
      .returning({ number: loyaltyAccounts.number });
    if (inserted.length > 0) break;
    if (attempt > 5) throw new Error('could not allocate a loyalty number');
  }
  await tx.insert(storeCreditAccounts).values({ customerId, currencyCode: config.CURRENCY });
}

const noCustomer = (field?: string[]) => new DomainError('NOT_FOUND', 'No such customer.', field);

function assertAmount(n: number, what: string): void {
  // A caller bug, not a user error: orders and returns validate their input before calling.
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
}

const iso = (d: Date) => sql`${d.toISOString()}::timestamptz`;

async function pointsBalance(tx: Queryable, customerId: string, field?: string[]): Promise<number> {
  const [acc] = await tx
    .select({ balance: loyaltyAccounts.balance })
    .from(loyaltyAccounts)
    .where(eq(loyaltyAccounts.customerId, customerId));
  if (!acc) throw noCustomer(field);
  return acc.balance;
}

/** A customer's tier as committed (null without an account): for pricing and quotes, outside the ledger's lock. */
export async function tierOf(q: Queryable, customerId: string): Promise<Tier | null> {
  const [acc] = await q.select({ tier: loyaltyAccounts.tier }).from(loyaltyAccounts).where(eq(loyaltyAccounts.customerId, customerId));
  return (acc?.tier as Tier | undefined) ?? null;
}

/** Locks the account row, so the spend and tier read after it cannot change under this transaction. */
async function lockAccount(tx: Tx, customerId: string): Promise<{ tier: Tier }> {
  const [acc] = await tx
    .select({ tier: loyaltyAccounts.tier })
    .from(loyaltyAccounts)
    .where(eq(loyaltyAccounts.customerId, customerId))
    .for('update');
  if (!acc) throw noCustomer();
  return { tier: acc.tier as Tier };
}

/**
 * Locks the account row and reads the money spend in the tier window ending at `now`, in one statement when it can.
 * That statement's sum is read in the snapshot the statement started with, which may be older than the lock: an
 * order of the same customer may have committed its spend while this one waited. Every spend row is written
 * together with an update of the account row (movePoints, setTier), so the sum is trusted only when the row locked
 * is the version that snapshot saw (same xmin); otherwise it is read again, now under the lock.
 */
async function lockWithSpend(tx: Tx, customerId: string, now: Date): Promise<{ tier: Tier; spend: number }> {
  const [row] = await tx.execute<{ tier: Tier; spend: string; seen: boolean }>(sql`
    select a.tier,
           a.xmin = (select s.xmin from ${loyaltyAccounts} s where s.customer_id = ${customerId}) as seen,
           (select coalesce(sum(amount), 0) from ${loyaltySpend}
             where customer_id = ${customerId} and created_at > ${iso(tierWindowStart(now))} and created_at <= ${iso(now)}) as spend
      from ${loyaltyAccounts} a where a.customer_id = ${customerId} for update of a`);
  if (!row) throw noCustomer();
  return { tier: row.tier, spend: row.seen ? Number(row.spend) : await spendInWindow(tx, customerId, now) };
}

// ---- points -----------------------------------------------------------------------------------------

async function insertEntry(tx: Tx, customerId: string, kind: EntryKind, points: number, balanceAfter: number, ctx: LedgerContext) {
  await tx.insert(loyaltyEntries).values({
    customerId,
    kind,
    points,
    balanceAfter,
    channel: ctx.channel,
    locationId: ctx.locationId,
    orderId: ctx.orderId ?? null,
    returnId: ctx.returnId ?? null,
    reason: ctx.reason ?? null,
    actor: ctx.actor,
    createdAt: ctx.now,
  });
}

/**
 * Moves a balance by `delta` in one guarded statement and records the entry. Zero rows means the account
 * is unknown or too low; only then is it read, to say which. `touch` marks activity (earn, redeem,
 * adjustment) so points expire only after a period without it.
 */
/** The largest points balance: balances and entries are 32-bit columns, so growth stops well before they overflow. */
export const MAX_POINTS = 1_000_000_000;

async function movePoints(
  tx: Tx,
  customerId: string,
  kind: EntryKind,
  delta: number,
  ctx: LedgerContext,
  opts: { touch: boolean; field?: string[]; customerField?: string[]; spend?: number; tier?: Tier },
): Promise<number> {
  // One statement: the guarded balance change, its entry (written only when the guard passed) and, for an order's
  // earn, its spend row and new tier (the transaction is abandoned below when the guard fails, and that row with it).
  const rows = await tx.execute<{ balance: number }>(sql`
    with acc as (
      update ${loyaltyAccounts} set balance = balance + ${delta}::int
        -- greatest(): a caller with an older clock never moves activity back (null is ignored).
        ${opts.touch ? sql`, last_activity_at = greatest(last_activity_at, ${iso(ctx.now)})` : sql``}
        ${opts.tier ? sql`, tier = ${opts.tier}` : sql``}
       where customer_id = ${customerId}::uuid and balance + ${delta}::int between 0 and ${MAX_POINTS}
      returning balance),
    entry as (
      insert into ${loyaltyEntries} (id, customer_id, kind, points, balance_after, channel, location_id, order_id, return_id, reason, actor, created_at)
      select ${newId()}::uuid, ${customerId}::uuid, ${kind}::loyalty_entry_kind, ${delta}::int, acc.balance, ${ctx.channel}::channel,
             ${ctx.locationId}::uuid, ${ctx.orderId ?? null}::uuid, ${ctx.returnId ?? null}::uuid, ${ctx.reason ?? null}::text, ${ctx.actor}::text, ${iso(ctx.now)}
        from acc)
    ${opts.spend ? sql`, spend as (${spendInsert(tx, customerId, opts.spend, ctx).getSQL()})` : sql``}
    select balance from acc`);
  const row = rows[0];
  if (!row) {
    const balance = await pointsBalance(tx, customerId, opts.customerField);
    if (balance + delta > MAX_POINTS) throw new DomainError('INVALID_INPUT', `A points balance is at most ${MAX_POINTS}.`, opts.field);
    throw new DomainError('INSUFFICIENT_POINTS', `Not enough points: ${-delta} needed, ${balance} available.`, opts.field);
  }
  return row.balance;
}

/** Money spend in the rolling 12-month tier window ending at `now`. */
async function spendInWindow(tx: Tx, customerId: string, now: Date): Promise<number> {
  const [row] = await tx
    .select({ spend: sql<number>`coalesce(sum(${loyaltySpend.amount}), 0)`.mapWith(Number) })
    .from(loyaltySpend)
    .where(
      and(
        eq(loyaltySpend.customerId, customerId),
        sql`${loyaltySpend.createdAt} > ${iso(tierWindowStart(now))}`,
        sql`${loyaltySpend.createdAt} <= ${iso(now)}`,
      ),
    );
  return row!.spend;
}

/**
 * The INSERT of a spend row (await it, or embed its SQL). A negative amount for an order is dated at that order's
 * spend, so it leaves the rolling window together with the spend it cancels (otherwise a late return would depress
 * the tier for a year).
 */
function spendInsert(tx: Tx, customerId: string, amount: number, ctx: LedgerContext) {
  const createdAt =
    amount < 0 && ctx.orderId
      ? sql`coalesce((select min(s.created_at) from ${loyaltySpend} s where s.customer_id = ${customerId} and s.order_id = ${ctx.orderId} and s.amount > 0), ${iso(ctx.now)})`
      : ctx.now;
  return tx.insert(loyaltySpend).values({ customerId, amount, orderId: ctx.orderId ?? null, returnId: ctx.returnId ?? null, createdAt });
}

/** Sets the tier; `spent`: a spend row was just written, and the row is updated even when the tier stays (lockWithSpend). */
async function setTier(tx: Tx, customerId: string, stored: Tier, tier: Tier, spent: boolean): Promise<Tier> {
  if (spent || tier !== stored) await tx.update(loyaltyAccounts).set({ tier }).where(eq(loyaltyAccounts.customerId, customerId));
  return tier;
}

/** Records money spend (negative for returns and cancellations) and recomputes the tier from the rolling window. */
export async function recordSpend(tx: Tx, customerId: string, amountDelta: number, ctx: LedgerContext): Promise<{ tier: string }> {
  if (!Number.isSafeInteger(amountDelta)) throw new RangeError(`spend must be a safe integer, got ${amountDelta}`);
  const { tier: stored } = await lockAccount(tx, customerId);
  if (amountDelta !== 0) await spendInsert(tx, customerId, amountDelta, ctx);
  return { tier: await setTier(tx, customerId, stored, tierFor(await spendInWindow(tx, customerId, ctx.now)), amountDelta !== 0) };
}

/**
 * Points for an order's money (not points) payment, at the tier the customer had before this order;
 * then the spend is recorded and the tier recomputed. The row lock comes first, so a concurrent order of
 * the same customer waits and then sees this one's spend.
 */
export async function earnForOrder(tx: Tx, customerId: string, moneyPaid: number, ctx: LedgerContext): Promise<{ points: number }> {
  assertAmount(moneyPaid, 'moneyPaid');
  const { tier: stored, spend: spendBefore } = await lockWithSpend(tx, customerId, ctx.now);
  const points = pointsEarned(moneyPaid, tierFor(spendBefore));
  const tier = tierFor(spendBefore + moneyPaid);
  if (points > 0) {
    // The points, their entry, the spend and a new tier in one statement.
    await movePoints(tx, customerId, 'EARN', points, ctx, { touch: true, spend: moneyPaid, tier: tier !== stored ? tier : undefined });
    return { points };
  }
  if (moneyPaid > 0) await spendInsert(tx, customerId, moneyPaid, ctx);
  await setTier(tx, customerId, stored, tier, moneyPaid > 0);
  return { points };
}

/** Pays with points; INSUFFICIENT_POINTS (at `field`) when the balance is short. */
export async function redeem(tx: Tx, customerId: string, points: number, ctx: LedgerContext, field?: string[]): Promise<{ balanceAfter: number }> {
  assertAmount(points, 'points');
  if (points === 0) return { balanceAfter: await pointsBalance(tx, customerId) };
  return { balanceAfter: await movePoints(tx, customerId, 'REDEEM', -points, ctx, { touch: true, field }) };
}

/**
 * Takes back earned points, but never more than the balance holds: the shopper may already have spent
 * them. The rest is the shortfall, which the caller deducts from the money refund at the redemption rate.
 * One statement: the sub-select locks the row and returns the balance the update starts from.
 */
export async function reverseEarn(tx: Tx, customerId: string, points: number, ctx: LedgerContext): Promise<{ reversed: number; shortfall: number }> {
  assertAmount(points, 'points');
  if (points === 0) return { reversed: 0, shortfall: 0 };
  const rows = await tx.execute<{ before: number; after: number }>(sql`
    update ${loyaltyAccounts} a set balance = a.balance - least(a.balance, ${points}::int)
    from (select customer_id, balance from ${loyaltyAccounts} where customer_id = ${customerId} for update) old
    where a.customer_id = old.customer_id
    returning old.balance as before, a.balance as after`);
  const row = rows[0];
  if (!row) throw noCustomer();
  const reversed = row.before - row.after;
  if (reversed > 0) await insertEntry(tx, customerId, 'EARN_REVERSAL', -reversed, row.after, ctx);
  return { reversed, shortfall: points - reversed };
}

/** Gives back points the shopper paid with (cancel, return, expired pickup). */
export async function refundRedeemed(tx: Tx, customerId: string, points: number, ctx: LedgerContext): Promise<{ balanceAfter: number }> {
  assertAmount(points, 'points');
  if (points === 0) return { balanceAfter: await pointsBalance(tx, customerId) };
  return { balanceAfter: await movePoints(tx, customerId, 'REDEEM_REFUND', points, ctx, { touch: false }) };
}

/** A signed manual correction with a reason (ctx.reason). */
export async function adjustPoints(
  tx: Tx,
  customerId: string,
  points: number,
  ctx: LedgerContext,
  fields: { points?: string[]; customer?: string[] } = {},
): Promise<{ balanceAfter: number }> {
  if (!Number.isSafeInteger(points) || points === 0) throw new RangeError('an adjustment needs a non-zero integer');
  if (!ctx.reason) throw new RangeError('an adjustment needs a reason');
  const balanceAfter = await movePoints(tx, customerId, 'ADJUSTMENT', points, ctx, {
    touch: true,
    field: fields.points,
    customerField: fields.customer,
  });
  return { balanceAfter };
}

// ---- store credit -----------------------------------------------------------------------------------

async function moveCredit(
  tx: Tx,
  customerId: string,
  kind: 'TENDER' | StoreCreditKind,
  delta: number,
  ctx: LedgerContext,
  field?: string[],
): Promise<number> {
  const [row] = await tx
    .update(storeCreditAccounts)
    .set({ balance: sql`${storeCreditAccounts.balance} + ${delta}` })
    .where(and(eq(storeCreditAccounts.customerId, customerId), sql`${storeCreditAccounts.balance} + ${delta} >= 0`))
    .returning({ balance: storeCreditAccounts.balance });
  if (!row) {
    const [acc] = await tx
      .select({ balance: storeCreditAccounts.balance })
      .from(storeCreditAccounts)
      .where(eq(storeCreditAccounts.customerId, customerId));
    if (!acc) throw noCustomer();
    throw new DomainError('INSUFFICIENT_STORE_CREDIT', `Not enough store credit: ${-delta} needed, ${acc.balance} available.`, field);
  }
  await tx.insert(storeCreditEntries).values({
    customerId,
    kind,
    amount: delta,
    balanceAfter: row.balance,
    channel: ctx.channel,
    locationId: ctx.locationId,
    orderId: ctx.orderId ?? null,
    returnId: ctx.returnId ?? null,
    reason: ctx.reason ?? null,
    actor: ctx.actor,
    createdAt: ctx.now,
  });
  return row.balance;
}

async function creditBalance(tx: Queryable, customerId: string): Promise<number> {
  const [acc] = await tx
    .select({ balance: storeCreditAccounts.balance })
    .from(storeCreditAccounts)
    .where(eq(storeCreditAccounts.customerId, customerId));
  if (!acc) throw noCustomer();
  return acc.balance;
}

/** Adds store credit (a refund paid as credit, a credit tender given back, a correction). */
export async function creditStoreCredit(
  tx: Tx,
  customerId: string,
  amount: number,
  kind: StoreCreditKind,
  ctx: LedgerContext,
): Promise<{ balanceAfter: number }> {
  assertAmount(amount, 'amount');
  if (amount === 0) return { balanceAfter: await creditBalance(tx, customerId) };
  return { balanceAfter: await moveCredit(tx, customerId, kind, amount, ctx) };
}

/** Pays with store credit; INSUFFICIENT_STORE_CREDIT (at `field`) when the balance is short. */
export async function debitStoreCredit(
  tx: Tx,
  customerId: string,
  amount: number,
  ctx: LedgerContext,
  field?: string[],
): Promise<{ balanceAfter: number }> {
  assertAmount(amount, 'amount');
  if (amount === 0) return { balanceAfter: await creditBalance(tx, customerId) };
  return { balanceAfter: await moveCredit(tx, customerId, 'TENDER', -amount, ctx, field) };
}

// ---- audit and expiry -------------------------------------------------------------------------------

export type LedgerMismatch = {
  ledger: 'POINTS' | 'STORE_CREDIT';
  customerId: string;
  balance: number;
  sum: number;
};

/** Every account whose balance differs from the sum of its entries (points and store credit); [] = healthy. */
export async function auditLedgers(db: Queryable): Promise<LedgerMismatch[]> {
  const rows = await db.execute<LedgerMismatch>(sql`
    select 'POINTS' as ledger, a.customer_id as "customerId", a.balance::float8 as balance, coalesce(e.total, 0)::float8 as sum
      from ${loyaltyAccounts} a
      left join (select customer_id, sum(points) as total from ${loyaltyEntries} group by customer_id) e on e.customer_id = a.customer_id
     where a.balance <> coalesce(e.total, 0)
    union all
    select 'STORE_CREDIT', a.customer_id, a.balance::float8, coalesce(e.total, 0)::float8
      from ${storeCreditAccounts} a
      left join (select customer_id, sum(amount) as total from ${storeCreditEntries} group by customer_id) e on e.customer_id = a.customer_id
     where a.balance <> coalesce(e.total, 0)`);
  return [...rows];
}

const EXPIRY_BATCH = 500;

/**
 * Expires the points of every account without activity since `asOf` minus LOYALTY_EXPIRY_INACTIVE_DAYS:
 * one EXPIRY entry of −balance each. The guard is the same statement that zeroes the balance, so a second
 * (or concurrent) run finds nothing left to expire; SKIP LOCKED leaves accounts that an order is using
 * right now (their activity is about to move) to the next run. Batches keep transactions short.
 */
export async function expireLoyaltyPoints(db: Db, asOf: Date, actor = 'scheduler'): Promise<string[]> {
  const cutoff = addDays(asOf, -config.LOYALTY_EXPIRY_INACTIVE_DAYS);
  const expired: string[] = [];
  for (;;) {
    const batch = await inTransaction(db, async (tx) => {
      const rows = await tx.execute<{ customerId: string; points: number }>(sql`
        update ${loyaltyAccounts} a set balance = 0
        from (select customer_id, balance from ${loyaltyAccounts}
               where balance > 0 and coalesce(last_activity_at, created_at) < ${iso(cutoff)}
               order by customer_id limit ${EXPIRY_BATCH} for update skip locked) old
        where a.customer_id = old.customer_id
        returning a.customer_id as "customerId", old.balance as points`);
      if (rows.length > 0)
        await tx.insert(loyaltyEntries).values(
          rows.map((r) => ({
            customerId: r.customerId,
            kind: 'EXPIRY' as const,
            points: -r.points,
            balanceAfter: 0,
            channel: 'ADMIN' as const,
            reason: `No activity since before ${cutoff.toISOString()}`,
            actor,
            createdAt: asOf,
          })),
        );
      return rows.map((r) => r.customerId);
    });
    expired.push(...batch);
    if (batch.length < EXPIRY_BATCH) return expired;
  }
}

/**
 * POINTS_EXPIRING, sent before the expiry: every account whose points expire within
 * LOYALTY_EXPIRY_WARNING_DAYS of `asOf` gets one event per period of inactivity (the outbox de-duplicates on
 * the account and its last activity, so running it often is harmless). Returns how many were new.
 */
export async function warnExpiringPoints(db: Db, asOf: Date): Promise<number> {
  const inactiveDays = config.LOYALTY_EXPIRY_INACTIVE_DAYS;
  const from = addDays(asOf, -inactiveDays);
  const to = addDays(asOf, -inactiveDays + config.LOYALTY_EXPIRY_WARNING_DAYS);
  let after = '00000000-0000-0000-0000-000000000000';
  let recorded = 0;
  for (;;) {
    const rows = await db.execute<{ customerId: string; number: string; balance: number; since: string }>(sql`
      select customer_id as "customerId", number, balance, coalesce(last_activity_at, created_at) as since
        from ${loyaltyAccounts}
       where balance > 0 and coalesce(last_activity_at, created_at) >= ${iso(from)} and coalesce(last_activity_at, created_at) < ${iso(to)}
         and customer_id > ${after}
       order by customer_id limit ${EXPIRY_BATCH}`);
    if (rows.length === 0) return recorded;
    recorded += await inTransaction(db, (tx) =>
      recordOutboxEvents(
        tx,
        rows.map((r) => {
          const since = new Date(r.since);
          return {
            kind: 'POINTS_EXPIRING' as const,
            stream: `loyalty:${r.customerId}`,
            dedupeKey: `points-expiring:${r.customerId}:${since.toISOString()}`,
            payload: {
              customerId: globalId('Customer', r.customerId),
              loyaltyNumber: r.number,
              points: Number(r.balance),
              expiresAt: addDays(since, inactiveDays).toISOString(),
            },
          };
        }),
      ),
    );
    after = rows.at(-1)!.customerId;
  }
}

// ---- use cases (GraphQL) ----------------------------------------------------------------------------

function requireManagerOrAdmin(v: Viewer, what: string): void {
  if (v.kind === 'admin') return;
  requireStaff(v, what);
  if (v.role !== 'MANAGER') fail('FORBIDDEN', `Only a manager may ${what}.`);
}

export interface AdjustInput {
  idempotencyKey: string;
  customerId: string;
  points: number;
  reason: string;
}

/** A manager's (or head office's) correction with a reason; idempotent per actor and key. */
export async function adjustLoyaltyPoints(db: Db, viewer: Viewer, input: AdjustInput, now: Date): Promise<LoyaltyAccount> {
  requireManagerOrAdmin(viewer, 'adjust loyalty points');
  const actor = actorOf(viewer);
  const ctx: LedgerContext = {
    channel: channelOf(viewer),
    locationId: viewer.kind === 'staff' ? viewer.locationId : null,
    actor,
    now,
    reason: input.reason,
  };
  const { customerId, points, reason } = input;
  const scope = { actor, key: input.idempotencyKey, operation: 'adjustLoyaltyPoints', request: { customerId, points, reason } };
  await replayOr(db, scope, () =>
    inTransaction(db, (tx) =>
      once(tx, scope, async () => {
        const { balanceAfter } = await adjustPoints(tx, customerId, points, ctx, {
          points: ['input', 'points'],
          customer: ['input', 'customerId'],
        });
        await recordAudit(tx, {
          actor,
          action: 'adjustLoyaltyPoints',
          subjectId: globalId('Customer', customerId),
          before: { balance: balanceAfter - points },
          after: { balance: balanceAfter, points, reason },
        });
        return { customerId, balanceAfter };
      }),
    ),
  );
  // Read after commit (never through a request loader): the account as it is now.
  const [account] = await accountsByCustomerIds(db, [customerId]);
  return account!;
}

/** Head office: run points expiry now, or as of an explicit time (testable without sleeping). */
export async function runLoyaltyExpiry(db: Db, viewer: Viewer, asOf: Date): Promise<LoyaltyAccount[]> {
  requireAdmin(viewer, 'expire loyalty points');
  const ids = await expireLoyaltyPoints(db, asOf, actorOf(viewer));
  return ids.length ? accountsByCustomerIds(db, ids) : [];
}

// ---- reads (loaders) --------------------------------------------------------------------------------

export const accountsByCustomerIds = (db: Queryable, ids: readonly string[]) =>
  db.select().from(loyaltyAccounts).where(inArray(loyaltyAccounts.customerId, [...ids]));

export const storeCreditByCustomerIds = (db: Queryable, ids: readonly string[]) =>
  db.select().from(storeCreditAccounts).where(inArray(storeCreditAccounts.customerId, [...ids]));

export const entriesByIds = (db: Queryable, ids: readonly string[]) =>
  db.select().from(loyaltyEntries).where(inArray(loyaltyEntries.id, [...ids]));

/** Up to `first + 1` entries per customer, newest first, after the keyset cursor: one statement for all. */
export async function entriesPage(db: Queryable, customerIds: readonly string[], first: number, after: TimeKey | null): Promise<LoyaltyEntry[]> {
  if (customerIds.length === 0) return [];
  const rows = await db.execute<Omit<LoyaltyEntry, 'createdAt'> & { createdAt: string }>(sql`
    select e.id, e.customer_id as "customerId", e.kind, e.points, e.balance_after as "balanceAfter", e.channel,
           e.location_id as "locationId", e.order_id as "orderId", e.return_id as "returnId", e.reason, e.actor,
           e.created_at as "createdAt"
      from ${parentIds(customerIds)}
      cross join lateral (
        select * from ${loyaltyEntries}
         where customer_id = p.id ${olderThan(after)}
         order by created_at desc, id desc
         limit ${first + 1}
      ) e`);
  return rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt) }));
}

