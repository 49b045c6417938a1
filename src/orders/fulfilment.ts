import { and, asc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { orders, orderLines, orderDiscounts, fulfilments, fulfilmentLines, tenders, variants } from '../../schema/index';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { fail } from '../lib/errors';
import type { Clock } from '../lib/clock';
import { actorOf, channelOf, isAgent, tillOf, type Viewer } from '../access/viewer';
import { isContactOf } from '../customers/service';
import { callOffTransferOf, fulfil, onTransferArrival, release, reserveHeld, type StockContext } from '../inventory/service';
import { recordEvent } from './events';
import { fulfilmentLinesWithVariant, fulfilmentOrFail, orderOrFail, PENDING, type Fulfilment, type FulfilmentStatus, type Order } from './queries';
import { refundOrder } from './settlement';
import { paidForUnits, priceKept } from '../promotions/rules';
import { asRule, promotionsByIds, releaseUsages } from '../promotions/service';

/*
 * After the sale: what happens to an order's fulfilments and lines. Pickup, returns and transfers call
 * these functions; only this domain writes orders, order lines, fulfilments and their lines.
 */

/** Locks an existing order's row: the first lock of every use case that changes an order (src/db.ts). */
export async function lockOrder(tx: Tx, orderId: string, field: string[] = ['input', 'orderId']): Promise<Order> {
  const [o] = await tx.select().from(orders).where(eq(orders.id, orderId)).for('update');
  if (!o) fail('NOT_FOUND', 'No such order.', field);
  return o;
}

/**
 * Derives the order status from its fulfilments and lines in one statement: CANCELLED when every
 * fulfilment was cancelled or expired, OPEN while one is pending, else RETURNED / PARTIALLY_RETURNED /
 * COMPLETED from the returned quantities.
 */
export async function refreshOrderStatus(tx: Tx, orderId: string): Promise<void> {
  await tx.execute(sql`
    update ${orders} o set status = (
      case
        when not exists (select 1 from ${fulfilments} f where f.order_id = o.id and f.status not in ('CANCELLED', 'EXPIRED')) then 'CANCELLED'
        when exists (select 1 from ${fulfilments} f where f.order_id = o.id and f.status in ('ALLOCATED', 'IN_TRANSIT', 'READY_FOR_PICKUP')) then 'OPEN'
        when (select sum(returned_quantity) from ${orderLines} l where l.order_id = o.id) > 0
         and (select sum(returned_quantity) from ${orderLines} l where l.order_id = o.id) = (select sum(fulfilled_quantity) from ${orderLines} l where l.order_id = o.id) then 'RETURNED'
        when (select sum(returned_quantity) from ${orderLines} l where l.order_id = o.id) > 0 then 'PARTIALLY_RETURNED'
        else 'COMPLETED'
      end)::order_status
    where o.id = ${orderId}`);
}

/**
 * Moves a fulfilment from one state to another in one guarded statement: null when it was not in `from`
 * (or `guard` failed), so of two racing transitions (a hand-over and the expiry job) exactly one wins.
 */
export async function moveFulfilment(
  tx: Tx,
  id: string,
  from: FulfilmentStatus,
  to: FulfilmentStatus,
  set: Partial<Pick<Fulfilment, 'pickupCode' | 'readyAt' | 'expiresAt' | 'collectedAt' | 'shippedAt'>> = {},
  guard?: SQL,
): Promise<Fulfilment | null> {
  const [row] = await tx
    .update(fulfilments)
    .set({ status: to, ...set })
    .where(and(eq(fulfilments.id, id), eq(fulfilments.status, from), guard))
    .returning();
  return row ?? null;
}

type LineQuantity = { orderLineId: string; variantId: string; quantity: number };

/** Marks fulfilment lines as handed over: stock leaves (reserved and onHand down) and the return window starts. */
export async function completeLines(tx: Tx, f: Fulfilment, order: Order, lines: LineQuantity[], actor: string, now: Date) {
  await fulfil(tx, lines.map((l) => ({ locationId: f.locationId, variantId: l.variantId, quantity: l.quantity })), { actor, orderId: order.id, reference: order.number });
  for (const l of lines)
    await tx
      .update(orderLines)
      .set({ fulfilledQuantity: sql`${orderLines.fulfilledQuantity} + ${l.quantity}`, fulfilledAt: now })
      .where(eq(orderLines.id, l.orderLineId));
}

/** Gives back what lines held at a location (refused, expired) and records them as never fulfilled. */
export async function releaseLines(tx: Tx, locationId: string, order: Order, lines: LineQuantity[], actor: string) {
  await release(tx, lines.map((l) => ({ locationId, variantId: l.variantId, quantity: l.quantity })), { actor, orderId: order.id, reference: order.number });
  await cancelLines(tx, lines);
}

async function cancelLines(tx: Tx, lines: { orderLineId: string; quantity: number }[]) {
  for (const l of lines)
    await tx.update(orderLines).set({ cancelledQuantity: sql`${orderLines.cancelledQuantity} + ${l.quantity}` }).where(eq(orderLines.id, l.orderLineId));
}

/**
 * What a return gives back. Without promotions: what the returned units paid (paidValue). With promotions,
 * the goods the shopper keeps are priced again with the promotions the order got: a return that breaks one
 * (buy 2 get 1 with one bought item back, a minimum subtotal no longer met) keeps back the benefit the shopper
 * would otherwise keep, so that at every step the shopper has paid exactly what the kept goods cost. Call it
 * inside the transaction that holds the order, before the units are marked as returned.
 */
export async function returnValue(tx: Tx, orderId: string, returning: readonly { orderLineId: string; quantity: number }[], now: Date): Promise<number> {
  const used = await tx.select({ promotionId: orderDiscounts.promotionId }).from(orderDiscounts).where(eq(orderDiscounts.orderId, orderId));
  if (used.length === 0) return paidValue(tx, returning);
  const lines = await tx
    .select({ id: orderLines.id, sku: variants.sku, unitPrice: orderLines.unitPrice, quantity: orderLines.quantity, gone: sql<number>`${orderLines.returnedQuantity} + ${orderLines.cancelledQuantity}` })
    .from(orderLines)
    .innerJoin(variants, eq(variants.id, orderLines.variantId))
    .where(eq(orderLines.orderId, orderId))
    .orderBy(asc(orderLines.position));
  const back = new Map<string, number>();
  for (const r of returning) back.set(r.orderLineId, (back.get(r.orderLineId) ?? 0) + r.quantity);
  const kept = lines.map((l) => ({ sku: l.sku, unitPrice: l.unitPrice, quantity: l.quantity - Number(l.gone) - (back.get(l.id) ?? 0) })).filter((l) => l.quantity > 0);
  const promos = await promotionsByIds(tx, [...new Set(used.map((u) => u.promotionId))]);
  const [paid] = await tx.select({ net: sql<number>`coalesce(sum(${tenders.amount} - ${tenders.refundedAmount}), 0)` }).from(tenders).where(eq(tenders.orderId, orderId));
  const net = Number(paid!.net);
  return Math.max(0, Math.min(net, net - priceKept(kept, promos.map(asRule), now)));
}

/**
 * What `quantity` units of each order line paid (price − discount share), counting the units already given
 * back (returned, refused, expired) so that partial refunds in any order add up to what each line paid. Call
 * it before the units are marked as given back, inside the transaction that holds the order.
 */
export async function paidValue(tx: Tx, lines: readonly { orderLineId: string; quantity: number }[]): Promise<number> {
  if (lines.length === 0) return 0;
  const rows = await tx
    .select({ id: orderLines.id, total: orderLines.total, quantity: orderLines.quantity, settled: sql<number>`${orderLines.returnedQuantity} + ${orderLines.cancelledQuantity}` })
    .from(orderLines)
    .where(inArray(orderLines.id, [...new Set(lines.map((l) => l.orderLineId))]));
  const settled = new Map(rows.map((r) => [r.id, Number(r.settled)]));
  let value = 0;
  for (const l of lines) {
    const row = rows.find((r) => r.id === l.orderLineId)!;
    value += paidForUnits(row, settled.get(l.orderLineId)!, l.quantity);
    settled.set(l.orderLineId, settled.get(l.orderLineId)! + l.quantity);
  }
  return value;
}

/**
 * Returned quantities, one guarded statement per order line (sorted, so two returns lock lines in one
 * order): two tills returning the last unit at once, the second finds no row. Returns the order line that
 * had too little left, or null when every line took its quantity.
 */
export async function markLinesReturned(tx: Tx, totals: readonly [orderLineId: string, quantity: number][]): Promise<string | null> {
  for (const [orderLineId, quantity] of [...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const updated = await tx.execute(sql`
      update ${orderLines} set returned_quantity = returned_quantity + ${quantity}
       where id = ${orderLineId} and returned_quantity + ${quantity} <= fulfilled_quantity
   returning id`);
    if (updated.length === 0) return orderLineId;
  }
  return null;
}

/** Releases what a fulfilment still holds: at the pickup store, or at a transfer's source until it ships. */
async function releaseFulfilment(tx: Tx, f: Fulfilment, actor: string, order: Order) {
  const lines = await tx
    .select({ orderLineId: fulfilmentLines.orderLineId, sourceLocationId: fulfilmentLines.sourceLocationId, quantity: fulfilmentLines.quantity, variantId: orderLines.variantId })
    .from(fulfilmentLines)
    .innerJoin(orderLines, eq(orderLines.id, fulfilmentLines.orderLineId))
    .where(eq(fulfilmentLines.fulfilmentId, f.id));
  // A transfer not yet shipped is called off (its lines stay reserved at the source, released below);
  // lines on a transfer already on the road hold nothing: the goods join the store's stock on arrival.
  const { onTheRoad } = await callOffTransferOf(tx, f.id);
  const held = lines.filter((l) => l.sourceLocationId === f.locationId || !onTheRoad);
  await release(
    tx,
    held.map((l) => ({ locationId: l.sourceLocationId, variantId: l.variantId, quantity: l.quantity })),
    { actor, orderId: order.id, reference: order.number },
  );
  await cancelLines(tx, lines);
}

/** The customer who owns it, head office, or staff at a store the order involves. */
async function requireOrderActor(q: Queryable, viewer: Viewer, order: Order, what: string) {
  if (viewer.kind === 'admin') return;
  if (viewer.kind === 'customer' && viewer.customerId === order.customerId) return;
  if (viewer.kind === 'staff' && isAgent(viewer)) {
    if (order.customerId && (await isContactOf(q, viewer.staffId, order.customerId))) return;
    fail('NOT_FOUND', 'No such order.', ['input', 'orderId']);
  }
  if (viewer.kind === 'staff') {
    const fs = await q.select({ locationId: fulfilments.locationId }).from(fulfilments).where(eq(fulfilments.orderId, order.id));
    if (order.locationId === viewer.locationId || fs.some((f) => f.locationId === viewer.locationId)) return;
    fail('WRONG_LOCATION', `Staff can only ${what} orders of their own store.`, ['input', 'orderId']);
  }
  // A customer asking about someone else's order learns nothing about it.
  fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'NOT_FOUND', viewer.kind === 'anonymous' ? 'Sign in first.' : 'No such order.', ['input', 'orderId']);
}

/** Cancel before anything left a store: reservations released, tenders refunded, earned points reversed. */
export async function cancelOrder(db: Db, viewer: Viewer, input: { orderId: string; reason?: string | null }, clock: Clock): Promise<Order> {
  await requireOrderActor(db, viewer, await orderOrFail(db, input.orderId), 'cancel');
  const actor = actorOf(viewer);
  await inTransaction(db, async (tx) => {
    const order = await lockOrder(tx, input.orderId);
    const cancelled = await tx
      .update(fulfilments)
      .set({ status: 'CANCELLED' })
      .where(and(eq(fulfilments.orderId, order.id), inArray(fulfilments.status, [...PENDING])))
      .returning();
    const rest = await tx.select({ status: fulfilments.status }).from(fulfilments).where(eq(fulfilments.orderId, order.id));
    if (cancelled.length === 0 || rest.some((f) => !['CANCELLED', 'EXPIRED'].includes(f.status)))
      fail('INVALID_STATE', 'Only an order with nothing handed over or shipped can be cancelled.', ['input', 'orderId']);
    for (const f of cancelled) await releaseFulfilment(tx, f, actor, order);
    await releaseUsages(tx, order.id, clock());
    const [o] = await tx.update(orders).set({ cancelledAt: clock(), cancelReason: input.reason ?? null }).where(eq(orders.id, order.id)).returning();
    const paid = await tx.select().from(tenders).where(eq(tenders.orderId, order.id));
    const left = paid.reduce((s, t) => s + t.amount - t.refundedAmount, 0);
    const channel = channelOf(viewer);
    const locationId = viewer.kind === 'staff' ? viewer.locationId : null;
    await refundOrder(tx, { order: o!, amount: left, reason: 'CANCEL', method: 'ORIGINAL_TENDERS', till: tillOf(viewer), ctx: { channel, locationId, actor, orderId: order.id, now: clock() } });
    await refreshOrderStatus(tx, order.id);
    await recordEvent(tx, { order, kind: 'ORDER_CANCELLED', channel, locationId, summary: `Order ${order.number} cancelled${input.reason ? `: ${input.reason}` : ''}`, actor, at: clock() });
  });
  return orderOrFail(db, input.orderId);
}

/** A delivery leaves its location: reserved stock becomes a shipment. */
export async function shipFulfilment(db: Db, viewer: Viewer, fulfilmentId: string, clock: Clock): Promise<Fulfilment> {
  const f = await fulfilmentOrFail(db, fulfilmentId);
  if (viewer.kind !== 'admin' && !(viewer.kind === 'staff' && viewer.locationId === f.locationId))
    fail(viewer.kind === 'staff' ? 'WRONG_LOCATION' : 'FORBIDDEN', 'Shipments are sent by staff of the shipping location or head office.', ['input', 'fulfilmentId']);
  if (f.type !== 'DELIVERY') fail('INVALID_STATE', 'Only deliveries are shipped.', ['input', 'fulfilmentId']);
  const actor = actorOf(viewer);
  await inTransaction(db, async (tx) => {
    const now = clock();
    const order = await lockOrder(tx, f.orderId);
    const moved = await moveFulfilment(tx, f.id, 'ALLOCATED', 'SHIPPED', { shippedAt: now });
    if (!moved) fail('INVALID_STATE', `The fulfilment is ${f.status}, not ALLOCATED.`, ['input', 'fulfilmentId']);
    await completeLines(tx, f, order, await fulfilmentLinesWithVariant(tx, f.id), actor, now);
    await refreshOrderStatus(tx, order.id);
    await recordEvent(tx, { order, kind: 'SHIPPED', channel: channelOf(viewer), locationId: f.locationId, fulfilmentId: f.id, summary: `Order ${order.number} shipped`, actor, at: now });
  });
  return fulfilmentOrFail(db, f.id);
}

/**
 * A ship-to-store transfer arrived at the pickup store: hold the goods for the order there and make the
 * pickup ready to prepare. When the pickup ended while in transit, the goods simply join the store's stock.
 * Runs inside receiveTransfer's transaction, which holds the transfer; cancelOrder never waits on a
 * transfer on the road (it calls off only REQUESTED ones), so the two cannot wait on each other.
 */
async function holdShipToStoreArrival(tx: Tx, transfer: { id: string; fulfilmentId: string | null }, ctx: StockContext, lines: { locationId: string; variantId: string; quantity: number }[]) {
  if (!transfer.fulfilmentId) return;
  const f = await moveFulfilment(tx, transfer.fulfilmentId, 'IN_TRANSIT', 'ALLOCATED');
  if (!f) return;
  await reserveHeld(tx, lines, { ...ctx, orderId: f.orderId });
  await tx.update(fulfilmentLines).set({ sourceLocationId: f.locationId }).where(eq(fulfilmentLines.fulfilmentId, f.id));
}
onTransferArrival(holdShipToStoreArrival);

/** A web or app order finished at a till (collected at the pickup desk) is credited to that associate. */
export async function creditAssociate(tx: Tx, orderId: string, staffId: string) {
  await tx.update(orders).set({ salesAssociateId: staffId }).where(and(eq(orders.id, orderId), isNull(orders.salesAssociateId)));
}

// ---- erasure ------------------------------------------------------------------------------------------

/** Whether the customer has an order still waiting to be handed over or shipped (its address is still needed). */
export async function hasPendingFulfilments(q: Queryable, customerId: string): Promise<boolean> {
  const [row] = await q
    .select({ id: fulfilments.id })
    .from(fulfilments)
    .innerJoin(orders, eq(orders.id, fulfilments.orderId))
    .where(and(eq(orders.customerId, customerId), inArray(fulfilments.status, [...PENDING])))
    .limit(1);
  return row !== undefined;
}

/** An erased customer's delivery addresses leave the order book; the orders, lines, tenders and refunds stay. */
export const eraseDeliveryAddresses = (tx: Tx, customerId: string) =>
  tx
    .update(fulfilments)
    .set({ address: null })
    .where(and(sql`${fulfilments.address} is not null`, inArray(fulfilments.orderId, tx.select({ id: orders.id }).from(orders).where(eq(orders.customerId, customerId)))));
