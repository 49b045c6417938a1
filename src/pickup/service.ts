import { randomInt, timingSafeEqual } from 'node:crypto';
import { config } from '../config';
import { eq, gt, lte } from 'drizzle-orm';
import { fulfilments, locations } from '../../schema/index';
import { inTransaction, type Db, type Queryable } from '../db';
import { fail } from '../lib/errors';
import { addDays, type Clock } from '../lib/clock';
import { lockedUntil, sharedLimiter } from '../lib/limits';
import { actorOf, channelOf, tillOf, type Viewer } from '../access/viewer';
import { completeLines, creditAssociate, lockOrder, moveFulfilment, paidValue, refreshOrderStatus, releaseLines } from '../orders/fulfilment';
import { refundOrder } from '../orders/settlement';
import { items, recordEvent } from '../orders/events';
import { fulfilmentLinesWithVariant, fulfilmentOrFail, fulfilmentsByIds, pickupsAt, pickupsDue, type Fulfilment } from '../orders/queries';

/*
 * Click-and-collect: who may prepare and hand over a pickup, the pickup code and the hold period. The
 * fulfilment's rows belong to the order book; this domain decides and calls its functions.
 */

/** Short code the shopper shows at the counter. */
export const PICKUP_CODE_LENGTH = 6;
const newPickupCode = () => String(randomInt(10 ** PICKUP_CODE_LENGTH)).padStart(PICKUP_CODE_LENGTH, '0');

/*
 * Wrong pickup codes are counted per pickup and per caller (in PostgreSQL, for every server process, like gift-card codes):
 * a 6-digit code falls to a few hundred thousand guesses, so after PICKUP_CODE_MAX_FAILURES wrong codes for one
 * pickup (or PICKUP_CODE_MAX_FAILURES_PER_CALLER from one caller across pickups) every attempt is LOCKED, the
 * right code too, until PICKUP_CODE_LOCK_MINUTES pass or a manager of the store clears the pickup's lock.
 */
const wrongForPickup = (db: Db) => sharedLimiter(db, 'pickup-code', config.PICKUP_CODE_MAX_FAILURES, config.PICKUP_CODE_LOCK_MINUTES * 60);
const wrongFromCaller = (db: Db) => sharedLimiter(db, 'pickup-code-caller', config.PICKUP_CODE_MAX_FAILURES_PER_CALLER, config.PICKUP_CODE_LOCK_MINUTES * 60);

/** Until when wrong codes lock these pickups' hand-overs (locked ones only), in one statement. */
export const pickupCodeLocks = async (q: Queryable, fulfilmentIds: readonly string[]) =>
  (await lockedUntil(q, 'pickup-code', config.PICKUP_CODE_MAX_FAILURES, fulfilmentIds)).map((l) => ({ fulfilmentId: l.key, until: l.until }));

async function refuseIfLocked(db: Db, fulfilmentId: string, caller: string) {
  const [byPickup, byCaller] = await Promise.all([wrongForPickup(db).get(fulfilmentId), wrongFromCaller(db).get(caller)]);
  const lock = [byPickup, byCaller].find((s) => s && s.remainingPoints <= 0);
  if (lock)
    fail(
      'LOCKED',
      `Too many wrong pickup codes${lock === byPickup ? ' for this pickup' : ''}: try again in ${Math.ceil(lock.msBeforeNext / 60000)} minutes, or ask a manager of the store to clear it.`,
      ['input', 'pickupCode'],
    );
}

/** A manager of the pickup store (or head office) lifts the lock after wrong codes, e.g. once the shopper shows ID. */
export async function clearPickupCodeLock(db: Db, viewer: Viewer, fulfilmentId: string): Promise<Fulfilment> {
  const f = await pickupOrFail(db, fulfilmentId);
  requirePickupStaff(viewer, f, 'clear pickup locks');
  if (viewer.kind === 'staff' && viewer.role !== 'MANAGER') fail('FORBIDDEN', 'Only a manager may clear a pickup lock.');
  await wrongForPickup(db).delete(f.id);
  return f;
}

/** Staff of the pickup store (admin anywhere). */
function requirePickupStaff(viewer: Viewer, f: Fulfilment, what: string) {
  if (viewer.kind === 'admin') return;
  if (viewer.kind !== 'staff') fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', `Only store staff ${what}.`);
  if (viewer.locationId !== f.locationId) fail('WRONG_LOCATION', `This pickup belongs to another store.`, ['input', 'fulfilmentId']);
}

async function pickupOrFail(db: Queryable, id: string) {
  const f = await fulfilmentOrFail(db, id);
  if (f.type !== 'PICKUP') fail('INVALID_STATE', 'This fulfilment is not a pickup.', ['input', 'fulfilmentId']);
  return f;
}

/** The store has picked the goods: a pickup code, the hold period, and a PICKUP_READY event (notification outbox). */
export async function markReadyForPickup(db: Db, viewer: Viewer, fulfilmentId: string, clock: Clock): Promise<Fulfilment> {
  const f = await pickupOrFail(db, fulfilmentId);
  requirePickupStaff(viewer, f, 'prepare pickups');
  const [store] = await db.select().from(locations).where(eq(locations.id, f.locationId));
  const actor = actorOf(viewer);
  await inTransaction(db, async (tx) => {
    const now = clock();
    const order = await lockOrder(tx, f.orderId);
    const ready = await moveFulfilment(tx, f.id, 'ALLOCATED', 'READY_FOR_PICKUP', { pickupCode: newPickupCode(), readyAt: now, expiresAt: addDays(now, store!.pickupHoldDays) });
    if (!ready)
      fail('INVALID_STATE', f.status === 'IN_TRANSIT' ? 'The goods are still on their way to the store.' : `The pickup is ${f.status}.`, ['input', 'fulfilmentId']);
    await recordEvent(tx, {
      order,
      kind: 'PICKUP_READY',
      channel: channelOf(viewer),
      locationId: f.locationId,
      fulfilmentId: f.id,
      summary: `Order ${order.number} is ready for pickup at ${store!.name} until ${ready.expiresAt!.toISOString().slice(0, 10)}`,
      payload: { expiresAt: ready.expiresAt },
      actor,
      at: now,
    });
  });
  return fulfilmentOrFail(db, f.id);
}

/**
 * Hand-over at the POS of the pickup store with the shopper's code. Refused lines are released and refunded.
 * The status change READY_FOR_PICKUP → COLLECTED is one guarded statement, so a hand-over racing the expiry
 * job has exactly one winner.
 */
export async function collectPickup(
  db: Db,
  viewer: Viewer,
  input: { fulfilmentId: string; pickupCode: string; refusedLines: { orderLineId: string; quantity: number }[] },
  clock: Clock,
): Promise<Fulfilment> {
  const f = await pickupOrFail(db, input.fulfilmentId);
  if (viewer.kind !== 'staff' && viewer.kind !== 'admin')
    fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Pickups are handed over at a store till.');
  requirePickupStaff(viewer, f, 'hand over pickups');
  if (f.status !== 'READY_FOR_PICKUP') fail('INVALID_STATE', `The pickup is ${f.status}.`, ['input', 'fulfilmentId']);
  const caller = actorOf(viewer);
  await refuseIfLocked(db, f.id, caller);
  const expected = Buffer.from(f.pickupCode ?? '');
  const given = Buffer.from(input.pickupCode.trim());
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    await Promise.all([wrongForPickup(db).penalty(f.id, 1), wrongFromCaller(db).penalty(caller, 1)]);
    fail('WRONG_PICKUP_CODE', 'That is not the pickup code of this order.', ['input', 'pickupCode']);
  }

  const lines = await fulfilmentLinesWithVariant(db, f.id);
  const refused = new Map<string, number>();
  input.refusedLines.forEach((r, i) => {
    const line = lines.find((l) => l.orderLineId === r.orderLineId);
    if (!line) fail('INVALID_INPUT', 'That line is not part of this pickup.', ['input', 'refusedLines', i, 'orderLineId']);
    const total = (refused.get(r.orderLineId) ?? 0) + r.quantity;
    if (total > line.quantity) fail('INVALID_INPUT', `At most ${line.quantity} can be refused.`, ['input', 'refusedLines', i, 'quantity']);
    refused.set(r.orderLineId, total);
  });
  const actor = actorOf(viewer);
  await inTransaction(db, async (tx) => {
    const now = clock();
    const order = await lockOrder(tx, f.orderId);
    const done = await moveFulfilment(tx, f.id, 'READY_FOR_PICKUP', 'COLLECTED', { collectedAt: now }, gt(fulfilments.expiresAt, now));
    if (!done) fail('INVALID_STATE', 'The pickup is no longer waiting to be collected (expired or handed over).', ['input', 'fulfilmentId']);
    const taken = lines.map((l) => ({ ...l, quantity: l.quantity - (refused.get(l.orderLineId) ?? 0) })).filter((l) => l.quantity > 0);
    const back = lines.map((l) => ({ ...l, quantity: refused.get(l.orderLineId) ?? 0 })).filter((l) => l.quantity > 0);
    await completeLines(tx, f, order, taken, actor, now);
    if (viewer.kind === 'staff') await creditAssociate(tx, order.id, viewer.staffId);
    if (back.length) {
      const amount = await paidValue(tx, back);
      await releaseLines(tx, f.locationId, order, back, actor);
      const ctx = { channel: 'POS' as const, locationId: f.locationId, actor, orderId: order.id, now };
      await refundOrder(tx, { order, amount, reason: 'PICKUP_REFUSED', method: 'ORIGINAL_TENDERS', till: tillOf(viewer), ctx });
    }
    await refreshOrderStatus(tx, order.id);
    const n = taken.reduce((s, l) => s + l.quantity, 0);
    await recordEvent(tx, {
      order,
      kind: 'PICKUP_COLLECTED',
      channel: 'POS',
      locationId: f.locationId,
      fulfilmentId: f.id,
      summary: `Order ${order.number}: ${items(n)} collected${back.length ? `, ${items(back.reduce((s, l) => s + l.quantity, 0))} refused and refunded` : ''}`,
      actor,
      at: now,
    });
  });
  return fulfilmentOrFail(db, f.id);
}

/** Expires one pickup whose hold ended, in its own transaction; false when it was collected or expired meanwhile. */
async function expireOne(db: Db, f: Fulfilment, asOf: Date, actor: string): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const order = await lockOrder(tx, f.orderId);
    const gone = await moveFulfilment(tx, f.id, 'READY_FOR_PICKUP', 'EXPIRED', {}, lte(fulfilments.expiresAt, asOf));
    if (!gone) return false;
    const lines = await fulfilmentLinesWithVariant(tx, f.id);
    const amount = await paidValue(tx, lines);
    await releaseLines(tx, f.locationId, order, lines, actor);
    const ctx = { channel: 'ADMIN' as const, locationId: f.locationId, actor, orderId: f.orderId, now: asOf };
    await refundOrder(tx, { order, amount, reason: 'PICKUP_EXPIRED', method: 'ORIGINAL_TENDERS', till: null, ctx });
    await refreshOrderStatus(tx, f.orderId);
    await recordEvent(tx, {
      order,
      kind: 'PICKUP_EXPIRED',
      channel: 'ADMIN',
      locationId: f.locationId,
      fulfilmentId: f.id,
      summary: `Order ${order.number} was not collected in time: released and refunded`,
      actor,
      at: asOf,
    });
    return true;
  });
}

/** Every pickup whose hold ended at or before `asOf`: reservation released, tenders refunded, earned points reversed. */
export async function expirePickups(db: Db, asOf: Date, actor = 'system:pickup-expiry'): Promise<Fulfilment[]> {
  const expired: Fulfilment[] = [];
  for (const f of await pickupsDue(db, asOf, 1000)) if (await expireOne(db, f, asOf, actor)) expired.push(f);
  return expired.length ? fulfilmentsByIds(db, expired.map((f) => f.id)) : [];
}

/** A store's pickups, oldest first. */
export const pickupQueue = (q: Queryable, locationId: string, status: Fulfilment['status'] | null) => pickupsAt(q, locationId, status);
