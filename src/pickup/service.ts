import { randomInt, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import { fulfilments, fulfilmentLines, locations, orderLines, orders } from '../../schema/index';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { fail } from '../lib/errors';
import { addDays, type Clock } from '../lib/clock';
import { actorOf, channelOf, type StaffViewer, type Viewer } from '../access/viewer';
import type { StockLine } from '../inventory/rules';
import { release, reserveHeld, type Transfer } from '../inventory/service';
import {
  completeLines,
  fulfilmentLinesWithVariant,
  fulfilmentOrFail,
  fulfilmentsByIds,
  items,
  orderOrFail,
  recordEvent,
  refreshOrderStatus,
  refundOrder,
  type Fulfilment,
} from '../orders/service';
import { PICKUP_CODE_LENGTH } from '../orders/rules';

/**
 * A ship-to-store transfer arrived at the pickup store: hold the goods for the order there and make the
 * pickup ready to prepare. When the pickup ended while in transit, the goods simply join the store's stock.
 */
export async function holdShipToStoreArrival(tx: Tx, transfer: Transfer, lines: StockLine[], actor: string): Promise<void> {
  if (!transfer.fulfilmentId) return;
  const [f] = await tx
    .update(fulfilments)
    .set({ status: 'ALLOCATED' })
    .where(and(eq(fulfilments.id, transfer.fulfilmentId), eq(fulfilments.status, 'IN_TRANSIT')))
    .returning();
  if (!f) return;
  await reserveHeld(tx, lines, { actor, orderId: f.orderId, transferId: transfer.id, reference: `pickup ${f.id}` });
  await tx.update(fulfilmentLines).set({ sourceLocationId: f.locationId }).where(eq(fulfilmentLines.fulfilmentId, f.id));
}

// ---- click-and-collect life cycle -------------------------------------------------------------------------

/** Staff of the pickup store (admin anywhere). */
function requirePickupStaff(viewer: Viewer, f: Fulfilment, what: string) {
  if (viewer.kind === 'admin') return;
  if (viewer.kind !== 'staff') fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', `Only store staff ${what}.`);
  if ((viewer as StaffViewer).locationId !== f.locationId)
    fail('WRONG_LOCATION', `This pickup belongs to another store.`, ['input', 'fulfilmentId']);
}

async function pickupOrFail(db: Queryable, id: string) {
  const f = await fulfilmentOrFail(db, id);
  if (f.type !== 'PICKUP') fail('INVALID_STATE', 'This fulfilment is not a pickup.', ['input', 'fulfilmentId']);
  return f;
}

const newPickupCode = () => String(randomInt(10 ** PICKUP_CODE_LENGTH)).padStart(PICKUP_CODE_LENGTH, '0');

/** The store has picked the goods: a pickup code, the hold period, and a PICKUP_READY event (notification outbox). */
export async function markReadyForPickup(db: Db, viewer: Viewer, fulfilmentId: string, clock: Clock): Promise<Fulfilment> {
  const f = await pickupOrFail(db, fulfilmentId);
  requirePickupStaff(viewer, f, 'prepare pickups');
  const order = await orderOrFail(db, f.orderId);
  const [store] = await db.select().from(locations).where(eq(locations.id, f.locationId));
  const actor = actorOf(viewer);
  await inTransaction(db, async (tx) => {
    const now = clock();
    const [ready] = await tx
      .update(fulfilments)
      .set({ status: 'READY_FOR_PICKUP', pickupCode: newPickupCode(), readyAt: now, expiresAt: addDays(now, store!.pickupHoldDays) })
      .where(and(eq(fulfilments.id, f.id), eq(fulfilments.status, 'ALLOCATED')))
      .returning();
    if (!ready)
      fail('INVALID_STATE', f.status === 'IN_TRANSIT' ? 'The goods are still on their way to the store.' : `The pickup is ${f.status}.`, ['input', 'fulfilmentId']);
    await recordEvent(tx, {
      order,
      kind: 'PICKUP_READY',
      channel: channelOf(viewer),
      locationId: f.locationId,
      fulfilmentId: f.id,
      summary: `Order ${order.number} is ready for pickup at ${store!.name} until ${ready!.expiresAt!.toISOString().slice(0, 10)}`,
      payload: { expiresAt: ready!.expiresAt },
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
  const expected = Buffer.from(f.pickupCode ?? '');
  const given = Buffer.from(input.pickupCode.trim());
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    fail('WRONG_PICKUP_CODE', 'That is not the pickup code of this order.', ['input', 'pickupCode']);

  const lines = await fulfilmentLinesWithVariant(db, f.id);
  const refused = new Map<string, number>();
  input.refusedLines.forEach((r, i) => {
    const line = lines.find((l) => l.orderLineId === r.orderLineId);
    if (!line) fail('INVALID_INPUT', 'That line is not part of this pickup.', ['input', 'refusedLines', i, 'orderLineId']);
    const total = (refused.get(r.orderLineId) ?? 0) + r.quantity;
    if (total > line!.quantity) fail('INVALID_INPUT', `At most ${line!.quantity} can be refused.`, ['input', 'refusedLines', i, 'quantity']);
    refused.set(r.orderLineId, total);
  });
  const order = await orderOrFail(db, f.orderId);
  const actor = actorOf(viewer);
  await inTransaction(db, async (tx) => {
    const now = clock();
    const [done] = await tx
      .update(fulfilments)
      .set({ status: 'COLLECTED', collectedAt: now })
      .where(and(eq(fulfilments.id, f.id), eq(fulfilments.status, 'READY_FOR_PICKUP'), gt(fulfilments.expiresAt, now)))
      .returning();
    if (!done) fail('INVALID_STATE', 'The pickup is no longer waiting to be collected (expired or handed over).', ['input', 'fulfilmentId']);
    const taken = lines.map((l) => ({ ...l, quantity: l.quantity - (refused.get(l.orderLineId) ?? 0) })).filter((l) => l.quantity > 0);
    const back = lines.map((l) => ({ ...l, quantity: refused.get(l.orderLineId) ?? 0 })).filter((l) => l.quantity > 0);
    await completeLines(tx, f, order, taken, actor, now);
    if (back.length) {
      await release(tx, back.map((l) => ({ locationId: f.locationId, variantId: l.variantId, quantity: l.quantity })), { actor, orderId: order.id, reference: order.number });
      for (const l of back)
        await tx.update(orderLines).set({ cancelledQuantity: sql`${orderLines.cancelledQuantity} + ${l.quantity}` }).where(eq(orderLines.id, l.orderLineId));
      await refundOrder(tx, {
        order,
        amount: back.reduce((s, l) => s + l.unitPrice * l.quantity, 0),
        reason: 'PICKUP_REFUSED',
        method: 'ORIGINAL_TENDERS',
        ctx: { channel: 'POS', locationId: f.locationId, actor, orderId: order.id, now },
      });
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
    const [gone] = await tx
      .update(fulfilments)
      .set({ status: 'EXPIRED' })
      .where(and(eq(fulfilments.id, f.id), eq(fulfilments.status, 'READY_FOR_PICKUP'), lte(fulfilments.expiresAt, asOf)))
      .returning();
    if (!gone) return false;
    const [order] = await tx.select().from(orders).where(eq(orders.id, f.orderId));
    const lines = await fulfilmentLinesWithVariant(tx, f.id);
    await release(tx, lines.map((l) => ({ locationId: f.locationId, variantId: l.variantId, quantity: l.quantity })), { actor, orderId: f.orderId, reference: order!.number });
    for (const l of lines)
      await tx.update(orderLines).set({ cancelledQuantity: sql`${orderLines.cancelledQuantity} + ${l.quantity}` }).where(eq(orderLines.id, l.orderLineId));
    await refundOrder(tx, {
      order: order!,
      amount: lines.reduce((s, l) => s + l.unitPrice * l.quantity, 0),
      reason: 'PICKUP_EXPIRED',
      method: 'ORIGINAL_TENDERS',
      ctx: { channel: 'ADMIN', locationId: f.locationId, actor, orderId: f.orderId, now: asOf },
    });
    await refreshOrderStatus(tx, f.orderId);
    await recordEvent(tx, {
      order: order!,
      kind: 'PICKUP_EXPIRED',
      channel: 'ADMIN',
      locationId: f.locationId,
      fulfilmentId: f.id,
      summary: `Order ${order!.number} was not collected in time: released and refunded`,
      actor,
      at: asOf,
    });
    return true;
  });
}

/** Every pickup whose hold ended at or before `asOf`: reservation released, tenders refunded, earned points reversed. */
export async function expirePickups(db: Db, asOf: Date, actor = 'system:pickup-expiry'): Promise<Fulfilment[]> {
  const due = await db
    .select()
    .from(fulfilments)
    .where(and(eq(fulfilments.type, 'PICKUP'), eq(fulfilments.status, 'READY_FOR_PICKUP'), lte(fulfilments.expiresAt, asOf)))
    .orderBy(asc(fulfilments.expiresAt))
    .limit(1000);
  const expired: Fulfilment[] = [];
  for (const f of due) if (await expireOne(db, f, asOf, actor)) expired.push(f);
  return expired.length ? fulfilmentsByIds(db, expired.map((f) => f.id)) : [];
}

/** A store's pickups, oldest first. */
export async function pickupQueue(q: Queryable, locationId: string, status: Fulfilment['status'] | null) {
  return q
    .select()
    .from(fulfilments)
    .where(
      and(
        eq(fulfilments.locationId, locationId),
        eq(fulfilments.type, 'PICKUP'),
        status ? eq(fulfilments.status, status) : inArray(fulfilments.status, ['ALLOCATED', 'IN_TRANSIT', 'READY_FOR_PICKUP']),
      ),
    )
    .orderBy(asc(fulfilments.createdAt), asc(fulfilments.id))
    .limit(500);
}
