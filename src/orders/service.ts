import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import {
  orders,
  orderLines,
  fulfilments,
  fulfilmentLines,
  tenders,
  refunds,
  orderEvents,
  orderNumberCounters,
  locations,
  customers,
  transfers,
  inventoryLevels,
} from '../../schema/index';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { DomainError, fail } from '../lib/errors';
import { newId } from '../lib/ids';
import type { Clock } from '../lib/clock';
import { actorOf, channelOf, type Viewer, type Channel } from '../access/viewer';
import { once } from '../idempotency/service';
import { reserve, sellAtTill, release, fulfil, openTransfer, resolveSkus, type GuardedLine } from '../inventory/service';
import { aggregate } from '../inventory/rules';
import { parentIds } from '../lib/paged-loader';
import {
  earnForOrder,
  redeem,
  reverseEarn,
  refundRedeemed,
  recordSpend,
  creditStoreCredit,
  debitStoreCredit,
  type LedgerContext,
} from '../loyalty/service';
import { pointsForAmount, shortfallValue } from '../loyalty/rules';
import {
  acceptTenders,
  allocateRefund,
  chooseSources,
  numberScope,
  orderNumber,
  pointsToReverse,
  REFUND_ORDER,
  type Candidate,
  type AcceptedTender,
  type Demand,
  type TenderInput,
  type TenderType,
} from './rules';

export type Order = typeof orders.$inferSelect;
type Variant = Awaited<ReturnType<typeof resolveSkus>>[number];
export type OrderLine = typeof orderLines.$inferSelect;
export type Fulfilment = typeof fulfilments.$inferSelect;
export type Tender = typeof tenders.$inferSelect;
export type Refund = typeof refunds.$inferSelect;
export type FulfilmentType = Fulfilment['type'];

export interface Address {
  name: string;
  line1: string;
  line2?: string | null;
  city: string;
  postalCode: string;
  country: string;
  latitude?: number | null;
  longitude?: number | null;
}

export interface PlaceOrderInput {
  idempotencyKey: string;
  customerId?: string | null;
  lines: { sku: string; quantity: number }[];
  fulfilment: { type: FulfilmentType; pickupLocationId?: string | null; address?: Address | null };
  tenders: TenderInput[];
}

const PENDING = ['ALLOCATED', 'IN_TRANSIT', 'READY_FOR_PICKUP'] as const;

// ---- shared by orders, pickups and returns ------------------------------------------------------------

/** Appends an order event: the customer timeline reads it and a notifier can publish it (outbox). */
export async function recordEvent(
  tx: Tx,
  e: {
    order: Pick<Order, 'id' | 'customerId'>;
    kind: string;
    channel: Channel;
    locationId: string | null;
    summary: string;
    actor: string;
    fulfilmentId?: string | null;
    returnId?: string | null;
    payload?: unknown;
    /** The use case's clock, so the timeline orders events and ledger entries on one time line. */
    at?: Date;
  },
) {
  await tx.insert(orderEvents).values({
    orderId: e.order.id,
    customerId: e.order.customerId,
    kind: e.kind,
    channel: e.channel,
    locationId: e.locationId,
    fulfilmentId: e.fulfilmentId ?? null,
    returnId: e.returnId ?? null,
    summary: e.summary,
    payload: e.payload ?? null,
    actor: e.actor,
    ...(e.at ? { createdAt: e.at } : {}),
  });
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

export interface RefundRequest {
  order: Order;
  /** Money value to give back (points tenders count at their money value). */
  amount: number;
  reason: (typeof refunds.$inferInsert)['reason'];
  /** ORIGINAL_TENDERS, or STORE_CREDIT: money parts paid out as store credit (points always go back to the ledger). */
  method: 'ORIGINAL_TENDERS' | 'STORE_CREDIT';
  returnId?: string | null;
  ctx: LedgerContext;
  /** False away from a till (a mail-in return at a warehouse): cash parts are paid as store credit. */
  cashAllowed?: boolean;
}

export interface RefundOutcome {
  refunds: Refund[];
  /** Earned points taken back from the ledger. */
  pointsReversed: number;
  /** Money kept back because earned points had already been spent. */
  deducted: number;
}

/**
 * Gives money and points back for part or all of an order, inside the caller's transaction. The split
 * over tenders is proportional (largest remainder) and capped per tender by guarded updates, so refunds
 * never exceed what a tender paid, whatever runs concurrently. Earned points on the refunded money are
 * reversed; when the shopper already spent them, the shortfall is kept back from the money refund.
 */
export async function refundOrder(tx: Tx, r: RefundRequest): Promise<RefundOutcome> {
  const outcome: RefundOutcome = { refunds: [], pointsReversed: 0, deducted: 0 };
  if (r.amount <= 0) return outcome;
  const rows = await tx.select().from(tenders).where(eq(tenders.orderId, r.order.id)).orderBy(asc(tenders.position)).for('update');
  const parts = allocateRefund(r.amount, rows);
  const isMoney = (t: Tender) => t.type !== 'LOYALTY_POINTS';
  const moneyPaid = rows.filter(isMoney).reduce((s, t) => s + t.amount, 0);
  const moneyBefore = rows.filter(isMoney).reduce((s, t) => s + t.refundedAmount, 0);
  const moneyNow = rows.reduce((s, t, i) => s + (isMoney(t) ? parts[i]! : 0), 0);
  const customerId = r.order.customerId;

  // Earned points first: what cannot be reversed is kept back from the money paid out below.
  let deduct = 0;
  if (customerId) {
    const [o] = await tx.select({ reversed: orders.pointsReversed, earned: orders.pointsEarned }).from(orders).where(eq(orders.id, r.order.id)).for('update');
    const due = pointsToReverse(o!.earned, o!.reversed, moneyPaid, moneyBefore + moneyNow);
    if (due > 0) {
      const { reversed, shortfall } = await reverseEarn(tx, customerId, due, { ...r.ctx, orderId: r.order.id, returnId: r.returnId ?? null });
      await tx.update(orders).set({ pointsReversed: sql`${orders.pointsReversed} + ${due}` }).where(eq(orders.id, r.order.id));
      outcome.pointsReversed = reversed;
      deduct = Math.min(moneyNow, shortfall > 0 ? shortfallValue(shortfall) : 0);
      outcome.deducted = deduct;
    }
    if (moneyNow > 0) await recordSpend(tx, customerId, -moneyNow, { ...r.ctx, orderId: r.order.id, returnId: r.returnId ?? null });
  }

  // Keep the deduction back from the payouts that are least like money first (cash, then card, then credit).
  const payout = [...parts];
  const byLeastPreferred = rows.map((_, i) => i).sort((a, b) => REFUND_ORDER.indexOf(rows[b]!.type) - REFUND_ORDER.indexOf(rows[a]!.type));
  for (const i of byLeastPreferred) {
    if (deduct === 0 || !isMoney(rows[i]!)) continue;
    const take = Math.min(deduct, payout[i]!);
    payout[i]! -= take;
    deduct -= take;
  }

  for (let i = 0; i < rows.length; i++) {
    const t = rows[i]!;
    const part = parts[i]!;
    if (part === 0) continue;
    const points = t.type === 'LOYALTY_POINTS' ? Math.min(pointsForAmount(part), (t.points ?? 0) - t.refundedPoints) : null;
    await takeFromTender(tx, t, part, points ?? 0);
    let type: TenderType = t.type;
    if (t.type === 'LOYALTY_POINTS') {
      await refundRedeemed(tx, customerId!, points!, { ...r.ctx, orderId: r.order.id, returnId: r.returnId ?? null });
    } else if (payout[i]! > 0 && (t.type === 'STORE_CREDIT' || r.method === 'STORE_CREDIT' || (t.type === 'CASH' && r.cashAllowed === false))) {
      if (!customerId) fail('INVALID_INPUT', 'Store credit needs a customer on the order.', ['input', 'refundMethod']);
      type = 'STORE_CREDIT';
      await creditStoreCredit(tx, customerId!, payout[i]!, t.type === 'STORE_CREDIT' ? 'TENDER_REFUND' : 'REFUND', {
        ...r.ctx,
        orderId: r.order.id,
        returnId: r.returnId ?? null,
      });
    }
    const [row] = await tx
      .insert(refunds)
      .values({
        orderId: r.order.id,
        tenderId: t.id,
        returnId: r.returnId ?? null,
        reason: r.reason,
        type,
        amount: t.type === 'LOYALTY_POINTS' ? part : payout[i]!,
        points,
        actor: r.ctx.actor,
      })
      .returning();
    outcome.refunds.push(row!);
  }
  return outcome;
}

/** Marks part of a tender as given back, guarded so it never exceeds what the tender paid. */
async function takeFromTender(tx: Tx, t: Tender, amount: number, points: number) {
  const updated = await tx
    .update(tenders)
    .set({ refundedAmount: sql`${tenders.refundedAmount} + ${amount}`, refundedPoints: sql`${tenders.refundedPoints} + ${points}` })
    .where(and(eq(tenders.id, t.id), sql`${tenders.refundedAmount} + ${amount} <= ${tenders.amount}`))
    .returning({ id: tenders.id });
  if (updated.length === 0) throw new Error(`refund would exceed tender ${t.id}`);
}

export interface CarriedTender {
  type: TenderType;
  amount: number;
  points: number | null;
}

/**
 * Exchange: `amount` of an order's payment pays for a new order instead of going back to the shopper.
 * Each tender gives its proportional share, as for a refund, and the new order records the shares as its
 * own tenders, so a later return of the new goods refunds to where the money came from. The earned points
 * on the carried money move with it: counted as reversed on this order without a ledger entry (they stay
 * in the balance), and returned as `points` for the new order's pointsEarned. Nothing is paid out.
 */
export async function carryOver(tx: Tx, order: Order, amount: number): Promise<{ tenders: CarriedTender[]; points: number }> {
  if (amount <= 0) return { tenders: [], points: 0 };
  const rows = await tx.select().from(tenders).where(eq(tenders.orderId, order.id)).orderBy(asc(tenders.position)).for('update');
  const parts = allocateRefund(amount, rows);
  const carried: CarriedTender[] = [];
  let moneyBefore = 0;
  let moneyNow = 0;
  for (let i = 0; i < rows.length; i++) {
    const t = rows[i]!;
    const part = parts[i]!;
    if (t.type !== 'LOYALTY_POINTS') {
      moneyBefore += t.refundedAmount;
      moneyNow += part;
    }
    if (part === 0) continue;
    const points = t.type === 'LOYALTY_POINTS' ? Math.min(pointsForAmount(part), (t.points ?? 0) - t.refundedPoints) : null;
    await takeFromTender(tx, t, part, points ?? 0);
    carried.push({ type: t.type, amount: part, points });
  }
  const moneyPaid = rows.filter((t) => t.type !== 'LOYALTY_POINTS').reduce((s, t) => s + t.amount, 0);
  const [o] = await tx.select({ reversed: orders.pointsReversed, earned: orders.pointsEarned }).from(orders).where(eq(orders.id, order.id)).for('update');
  const moved = pointsToReverse(o!.earned, o!.reversed, moneyPaid, moneyBefore + moneyNow);
  if (moved > 0) await tx.update(orders).set({ pointsReversed: sql`${orders.pointsReversed} + ${moved}` }).where(eq(orders.id, order.id));
  return { tenders: carried, points: moved };
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
  await tx
    .update(transfers)
    .set({ status: 'CANCELLED' })
    .where(and(eq(transfers.fulfilmentId, f.id), eq(transfers.status, 'REQUESTED')));
  const [onTheRoad] = await tx.select({ id: transfers.id }).from(transfers).where(and(eq(transfers.fulfilmentId, f.id), eq(transfers.status, 'IN_TRANSIT')));
  const held = lines.filter((l) => l.sourceLocationId === f.locationId || !onTheRoad);
  await release(
    tx,
    held.map((l) => ({ locationId: l.sourceLocationId, variantId: l.variantId, quantity: l.quantity })),
    { actor, orderId: order.id, reference: order.number },
  );
  for (const l of lines)
    await tx.update(orderLines).set({ cancelledQuantity: sql`${orderLines.cancelledQuantity} + ${l.quantity}` }).where(eq(orderLines.id, l.orderLineId));
  return lines;
}

/** "1 item", "3 items": summaries are read at the counter. */
export const items = (n: number) => `${n} item${n === 1 ? '' : 's'}`;

/** A line priced from the catalog (client prices are never trusted); `index` is its input position. */
export interface PricedLine {
  id: string;
  variant: Variant;
  quantity: number;
  total: number;
  index: number;
}

/** The order row and its lines; a carry-out is fulfilled on the spot (the return window starts now). */
export async function insertOrder(
  tx: Tx,
  o: Pick<Order, 'id' | 'number' | 'channel' | 'locationId' | 'customerId' | 'currencyCode' | 'total' | 'actor'> & {
    now: Date;
    lines: PricedLine[];
    carriedOut: boolean;
  },
) {
  await tx.insert(orders).values({
    id: o.id,
    number: o.number,
    channel: o.channel,
    locationId: o.locationId,
    customerId: o.customerId,
    status: o.carriedOut ? 'COMPLETED' : 'OPEN',
    currencyCode: o.currencyCode,
    total: o.total,
    actor: o.actor,
    createdAt: o.now,
  });
  await tx.insert(orderLines).values(
    o.lines.map((l, position) => ({
      id: l.id,
      orderId: o.id,
      position,
      variantId: l.variant.id,
      quantity: l.quantity,
      unitPrice: l.variant.price,
      total: l.total,
      fulfilledQuantity: o.carriedOut ? l.quantity : 0,
      fulfilledAt: o.carriedOut ? o.now : null,
    })),
  );
}

export async function insertTenders(tx: Tx, orderId: string, paid: readonly Pick<AcceptedTender, 'type' | 'amount' | 'points' | 'tendered'>[]) {
  if (paid.length === 0) return;
  await tx.insert(tenders).values(paid.map((t, position) => ({ orderId, position, type: t.type, amount: t.amount, points: t.points, tendered: t.tendered })));
}

/**
 * Points and store-credit tenders go through their ledgers (guarded: INSUFFICIENT_POINTS or
 * INSUFFICIENT_STORE_CREDIT at the tender's path), then the customer earns on the money part.
 * Returns the points earned, which are also stored on the order.
 */
export async function payThroughLedgers(tx: Tx, customerId: string | null, paid: readonly AcceptedTender[], ledger: LedgerContext): Promise<number> {
  if (!customerId) return 0;
  for (const t of paid) {
    if (t.type === 'LOYALTY_POINTS') await redeem(tx, customerId, t.points!, ledger, ['input', 'tenders', String(t.index), 'points']);
    if (t.type === 'STORE_CREDIT') await debitStoreCredit(tx, customerId, t.amount, ledger, ['input', 'tenders', String(t.index), 'amount']);
  }
  const moneyPaid = paid.filter((t) => t.type !== 'LOYALTY_POINTS').reduce((sum, t) => sum + t.amount, 0);
  const { points } = await earnForOrder(tx, customerId, moneyPaid, ledger);
  if (points > 0) await tx.update(orders).set({ pointsEarned: sql`${orders.pointsEarned} + ${points}` }).where(eq(orders.id, ledger.orderId!));
  return points;
}

// ---- placing an order -----------------------------------------------------------------------------------

export async function nextNumber(tx: Tx, scope: string): Promise<string> {
  const [row] = await tx
    .insert(orderNumberCounters)
    .values({ scope, last: 1 })
    .onConflictDoUpdate({ target: orderNumberCounters.scope, set: { last: sql`${orderNumberCounters.last} + 1` } })
    .returning({ last: orderNumberCounters.last });
  return orderNumber(scope, row!.last);
}

/** Where a pickup's goods come from: the pickup store when it has them all, else the nearest location that has what is missing. */
async function planPickup(tx: Tx, store: typeof locations.$inferSelect, demand: Demand[]) {
  const levels = await tx
    .select({ variantId: inventoryLevels.variantId, available: sql<number>`greatest(0, on_hand - reserved - safety_stock)` })
    .from(inventoryLevels)
    .where(and(eq(inventoryLevels.locationId, store.id), inArray(inventoryLevels.variantId, demand.map((d) => d.variantId))));
  const here = new Map(levels.map((l) => [l.variantId, Number(l.available)]));
  const atStore = demand.filter((d) => (here.get(d.variantId) ?? 0) >= d.quantity);
  const missing = demand.filter((d) => (here.get(d.variantId) ?? 0) < d.quantity);
  if (missing.length === 0) return { atStore, transfer: null };
  const candidates = await candidatesFor(tx, missing, store, false);
  const source = chooseSources(missing, candidates.filter((c) => c.locationId !== store.id), 'nearest');
  if (!source || source.length !== 1) return { atStore, transfer: null, short: missing };
  return { atStore, transfer: { fromLocationId: source[0]!.locationId, lines: source[0]!.lines } };
}

/** Locations that could send the demanded variants, with what they have and how far they are. */
async function candidatesFor(
  tx: Tx,
  demand: Demand[],
  to: { latitude: number | null; longitude: number | null } | null,
  shippingOnly: boolean,
): Promise<Candidate[]> {
  const near = to?.latitude != null && to.longitude != null ? { lat: to.latitude, lon: to.longitude } : null;
  const distance = near
    ? sql`2 * 6371.0088 * asin(least(1, sqrt(power(sin(radians(loc.latitude - ${near.lat}) / 2), 2)
        + cos(radians(${near.lat})) * cos(radians(loc.latitude)) * power(sin(radians(loc.longitude - ${near.lon}) / 2), 2))))`
    : sql`null::float8`;
  const rows = await tx.execute<{ locationId: string; type: 'STORE' | 'WAREHOUSE'; code: string; distanceKm: number | null; variantId: string; available: number }>(sql`
    select loc.id as "locationId", loc.type, loc.code, ${distance} as "distanceKm", l.variant_id as "variantId",
           greatest(0, l.on_hand - l.reserved - l.safety_stock)::int as available
      from ${inventoryLevels} l join ${locations} loc on loc.id = l.location_id
     where l.variant_id in (${sql.join(demand.map((d) => sql`${d.variantId}::uuid`), sql`, `)})
       and l.on_hand - l.reserved - l.safety_stock > 0
       ${shippingOnly ? sql`and (loc.type = 'WAREHOUSE' or loc.ships_to_customers)` : sql``}`);
  const byLocation = new Map<string, Candidate & { available: Map<string, number> }>();
  for (const r of rows) {
    const c = byLocation.get(r.locationId) ?? {
      locationId: r.locationId,
      type: r.type,
      code: r.code,
      distanceKm: r.distanceKm == null ? null : Number(r.distanceKm),
      available: new Map<string, number>(),
    };
    c.available.set(r.variantId, Number(r.available));
    byLocation.set(r.locationId, c);
  }
  return [...byLocation.values()];
}

export async function placeOrder(db: Db, viewer: Viewer, input: PlaceOrderInput, clock: Clock): Promise<{ order: Order; changeDue: number }> {
  if (viewer.kind !== 'staff' && viewer.kind !== 'customer')
    fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Orders are placed by a signed-in customer or at a store till.');
  const channel = channelOf(viewer);
  const actor = actorOf(viewer);
  const till = viewer.kind === 'staff' ? (await db.select().from(locations).where(eq(locations.id, viewer.locationId)))[0]! : null;

  let customerId: string | null = null;
  if (viewer.kind === 'customer') {
    if (input.customerId && input.customerId !== viewer.customerId)
      fail('FORBIDDEN', 'A customer orders for themself.', ['input', 'customerId']);
    customerId = viewer.customerId;
  } else if (input.customerId) {
    const [c] = await db.select({ id: customers.id }).from(customers).where(eq(customers.id, input.customerId));
    if (!c) fail('NOT_FOUND', 'No such customer.', ['input', 'customerId']);
    customerId = input.customerId;
  }

  const f = input.fulfilment;
  let pickupStore: typeof locations.$inferSelect | null = null;
  if (f.type === 'CARRY_OUT' && channel !== 'POS') fail('INVALID_INPUT', 'Carry-out is for sales at a store till.', ['input', 'fulfilment', 'type']);
  if (f.type === 'PICKUP') {
    if (!f.pickupLocationId) fail('INVALID_INPUT', 'A pickup needs pickupLocationId.', ['input', 'fulfilment', 'pickupLocationId']);
    pickupStore = (await db.select().from(locations).where(eq(locations.id, f.pickupLocationId!)))[0] ?? null;
    if (!pickupStore) fail('NOT_FOUND', 'No such location.', ['input', 'fulfilment', 'pickupLocationId']);
    if (pickupStore!.type !== 'STORE' || !pickupStore!.pickupEnabled)
      fail('INVALID_INPUT', `${pickupStore!.name} does not offer pickup.`, ['input', 'fulfilment', 'pickupLocationId']);
  }
  if (f.type === 'DELIVERY' && !f.address) fail('INVALID_INPUT', 'A delivery needs an address.', ['input', 'fulfilment', 'address']);

  const variants = await resolveSkus(db, input.lines, ['input', 'lines']);
  const currencyCode = variants[0]!.currencyCode;
  variants.forEach((v, i) => {
    if (v.currencyCode !== currencyCode) fail('INVALID_INPUT', 'All lines of an order are in one currency.', ['input', 'lines', i, 'sku']);
  });
  const priced: PricedLine[] = input.lines.map((l, i) => ({ id: newId(), variant: variants[i]!, quantity: l.quantity, total: variants[i]!.price * l.quantity, index: i }));
  const total = priced.reduce((s, l) => s + l.total, 0);
  if (!Number.isSafeInteger(total)) fail('INVALID_INPUT', 'The order total is too large.', ['input', 'lines']);
  const accepted = acceptTenders(total, input.tenders, { channel, hasCustomer: customerId !== null });

  const result = await inTransaction(db, (tx) =>
    once(tx, { actor, key: input.idempotencyKey, operation: 'placeOrder', request: input }, async () => {
      const now = clock();
      const orderId = newId();
      const field = (variantId: string) => ['input', 'lines', priced.find((l) => l.variant.id === variantId)!.index, 'quantity'];
      const demand = aggregate(priced.map((l) => ({ locationId: '', variantId: l.variant.id, quantity: l.quantity }))).map(({ variantId, quantity }) => ({ variantId, quantity }));
      const stockCtx = { actor, orderId };
      const guarded = (locationId: string, d: Demand[]): GuardedLine[] => d.map((x) => ({ ...x, locationId, field: field(x.variantId) }));

      // Locks are taken late and in one order (stock levels, then the loyalty account, then the number counter),
      // so the rows every order contends for (a hot SKU's level, the channel's counter) are held only for
      // the few statements before COMMIT.

      // 1. Where the goods come from: reads only. The guarded statements in step 3 decide.
      type Plan = { id: string; locationId: string; status: Fulfilment['status']; lines: { variantId: string; quantity: number; sourceLocationId: string }[]; transferFrom?: string };
      const plans: Plan[] = [];
      const stockEffects: (() => Promise<void>)[] = [];
      if (f.type === 'CARRY_OUT') {
        stockEffects.push(() => sellAtTill(tx, guarded(till!.id, demand), stockCtx));
        plans.push({ id: newId(), locationId: till!.id, status: 'FULFILLED', lines: demand.map((d) => ({ ...d, sourceLocationId: till!.id })) });
      } else if (f.type === 'PICKUP') {
        const plan = await planPickup(tx, pickupStore!, demand);
        if ('short' in plan && plan.short) throw new DomainError('INSUFFICIENT_STOCK', 'Not enough stock for this pickup.', field(plan.short[0]!.variantId));
        const lines = plan.atStore.map((d) => ({ ...d, sourceLocationId: pickupStore!.id }));
        const held = [...guarded(pickupStore!.id, plan.atStore)];
        if (plan.transfer) {
          held.push(...guarded(plan.transfer.fromLocationId, plan.transfer.lines));
          lines.push(...plan.transfer.lines.map((d) => ({ ...d, sourceLocationId: plan.transfer!.fromLocationId })));
        }
        stockEffects.push(() => reserve(tx, held, stockCtx));
        plans.push({ id: newId(), locationId: pickupStore!.id, status: plan.transfer ? 'IN_TRANSIT' : 'ALLOCATED', lines, transferFrom: plan.transfer?.fromLocationId });
      } else {
        const sources = chooseSources(demand, await candidatesFor(tx, demand, { latitude: f.address!.latitude ?? null, longitude: f.address!.longitude ?? null }, true));
        if (!sources) throw new DomainError('INSUFFICIENT_STOCK', 'Not enough stock to deliver this order.', ['input', 'lines']);
        stockEffects.push(() => reserve(tx, sources.flatMap((s) => guarded(s.locationId, s.lines)), stockCtx));
        for (const s of sources)
          plans.push({ id: newId(), locationId: s.locationId, status: 'ALLOCATED', lines: s.lines.map((d) => ({ ...d, sourceLocationId: s.locationId })) });
      }

      // 2. The order and its lines, fulfilments and tenders (numbered in step 5).
      await insertOrder(tx, {
        id: orderId,
        number: `pending-${orderId}`,
        channel,
        locationId: till?.id ?? null,
        customerId,
        currencyCode,
        total,
        actor,
        now,
        lines: priced,
        carriedOut: f.type === 'CARRY_OUT',
      });
      const assigned = new Map<string, number>();
      for (const p of plans) {
        await tx.insert(fulfilments).values({
          id: p.id,
          orderId,
          type: f.type,
          status: p.status,
          locationId: p.locationId,
          address: f.type === 'DELIVERY' ? f.address : null,
          createdAt: now,
        });
        // Split each variant's quantity back over the order lines that asked for it.
        const rows: (typeof fulfilmentLines.$inferInsert)[] = [];
        for (const pl of p.lines) {
          let left = pl.quantity;
          for (const l of priced.filter((x) => x.variant.id === pl.variantId)) {
            const take = Math.min(left, l.quantity - (assigned.get(l.id) ?? 0));
            if (take <= 0) continue;
            rows.push({ fulfilmentId: p.id, orderLineId: l.id, sourceLocationId: pl.sourceLocationId, quantity: take });
            assigned.set(l.id, (assigned.get(l.id) ?? 0) + take);
            left -= take;
          }
        }
        await tx.insert(fulfilmentLines).values(mergeLines(rows));
        if (p.transferFrom)
          await openTransfer(
            tx,
            { fromLocationId: p.transferFrom, toLocationId: p.locationId, lines: p.lines.filter((l) => l.sourceLocationId === p.transferFrom).map((l) => ({ ...l, locationId: p.transferFrom! })), fulfilmentId: p.id },
            { actor, orderId },
            false,
          );
      }
      await insertTenders(tx, orderId, accepted.tenders);

      // 3. Stock: one guarded statement per level; the first that finds too little abandons everything.
      for (const effect of stockEffects) await effect();

      // 4. Points and store credit, through the ledgers.
      const ledger: LedgerContext = { channel, locationId: till?.id ?? pickupStore?.id ?? null, actor, orderId, now };
      await payThroughLedgers(tx, customerId, accepted.tenders, ledger);

      // 5. The number, gap-free per channel and store: the counter row is held from here to COMMIT only.
      const number = await nextNumber(tx, numberScope(channel, till?.code ?? null));
      await tx.update(orders).set({ number }).where(eq(orders.id, orderId));
      await recordEvent(tx, {
        order: { id: orderId, customerId },
        kind: 'ORDER_PLACED',
        channel,
        locationId: till?.id ?? pickupStore?.id ?? null,
        summary: `Order ${number} placed (${f.type.toLowerCase().replace('_', '-')}, ${items(priced.reduce((s, l) => s + l.quantity, 0))})`,
        actor,
        at: now,
      });
      return { orderId, changeDue: accepted.changeDue };
    }),
  );
  const [order] = await db.select().from(orders).where(eq(orders.id, result.orderId));
  return { order: order!, changeDue: result.changeDue };
}

/** One fulfilment line per order line (a line may be assembled from two sources during planning). */
function mergeLines(rows: (typeof fulfilmentLines.$inferInsert)[]) {
  const m = new Map<string, typeof fulfilmentLines.$inferInsert>();
  for (const r of rows) {
    const x = m.get(r.orderLineId);
    if (x) x.quantity += r.quantity;
    else m.set(r.orderLineId, { ...r });
  }
  return [...m.values()];
}

// ---- after the sale ------------------------------------------------------------------------------------

export async function orderOrFail(q: Queryable, orderId: string, field: string[] = ['input', 'orderId']): Promise<Order> {
  const [o] = await q.select().from(orders).where(eq(orders.id, orderId));
  if (!o) fail('NOT_FOUND', 'No such order.', field);
  return o!;
}

/** The customer who owns it, head office, or staff at a store the order involves. */
async function requireOrderActor(q: Queryable, viewer: Viewer, order: Order, what: string) {
  if (viewer.kind === 'admin') return;
  if (viewer.kind === 'customer' && viewer.customerId === order.customerId) return;
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
  const order = await orderOrFail(db, input.orderId);
  await requireOrderActor(db, viewer, order, 'cancel');
  const actor = actorOf(viewer);
  await inTransaction(db, async (tx) => {
    const cancelled = await tx
      .update(fulfilments)
      .set({ status: 'CANCELLED' })
      .where(and(eq(fulfilments.orderId, order.id), inArray(fulfilments.status, [...PENDING])))
      .returning();
    const rest = await tx.select({ status: fulfilments.status }).from(fulfilments).where(eq(fulfilments.orderId, order.id));
    if (cancelled.length === 0 || rest.some((f) => !['CANCELLED', 'EXPIRED'].includes(f.status)))
      fail('INVALID_STATE', 'Only an order with nothing handed over or shipped can be cancelled.', ['input', 'orderId']);
    for (const f of cancelled) await releaseFulfilment(tx, f, actor, order);
    const [o] = await tx.update(orders).set({ cancelledAt: clock(), cancelReason: input.reason ?? null }).where(eq(orders.id, order.id)).returning();
    const paid = await tx.select().from(tenders).where(eq(tenders.orderId, order.id));
    const left = paid.reduce((s, t) => s + t.amount - t.refundedAmount, 0);
    const channel = channelOf(viewer);
    const locationId = viewer.kind === 'staff' ? viewer.locationId : null;
    await refundOrder(tx, { order: o!, amount: left, reason: 'CANCEL', method: 'ORIGINAL_TENDERS', ctx: { channel, locationId, actor, orderId: order.id, now: clock() } });
    await refreshOrderStatus(tx, order.id);
    await recordEvent(tx, { order, kind: 'ORDER_CANCELLED', channel, locationId, summary: `Order ${order.number} cancelled${input.reason ? `: ${input.reason}` : ''}`, actor, at: clock() });
  });
  return orderOrFail(db, order.id);
}

export async function fulfilmentOrFail(q: Queryable, id: string): Promise<Fulfilment> {
  const [f] = await q.select().from(fulfilments).where(eq(fulfilments.id, id));
  if (!f) fail('NOT_FOUND', 'No such fulfilment.', ['input', 'fulfilmentId']);
  return f!;
}

/** Marks fulfilment lines as handed over: stock leaves (reserved and onHand down) and the return window starts. */
export async function completeLines(
  tx: Tx,
  f: Fulfilment,
  order: Order,
  lines: { orderLineId: string; variantId: string; quantity: number }[],
  actor: string,
  now: Date,
) {
  await fulfil(tx, lines.map((l) => ({ locationId: f.locationId, variantId: l.variantId, quantity: l.quantity })), { actor, orderId: order.id, reference: order.number });
  for (const l of lines)
    await tx
      .update(orderLines)
      .set({ fulfilledQuantity: sql`${orderLines.fulfilledQuantity} + ${l.quantity}`, fulfilledAt: now })
      .where(eq(orderLines.id, l.orderLineId));
}

export const fulfilmentLinesWithVariant = (q: Queryable, fulfilmentId: string) =>
  q
    .select({ orderLineId: fulfilmentLines.orderLineId, quantity: fulfilmentLines.quantity, variantId: orderLines.variantId, unitPrice: orderLines.unitPrice })
    .from(fulfilmentLines)
    .innerJoin(orderLines, eq(orderLines.id, fulfilmentLines.orderLineId))
    .where(eq(fulfilmentLines.fulfilmentId, fulfilmentId));

/** A delivery leaves its location: reserved stock becomes a shipment. */
export async function shipFulfilment(db: Db, viewer: Viewer, fulfilmentId: string, clock: Clock): Promise<Fulfilment> {
  const f = await fulfilmentOrFail(db, fulfilmentId);
  if (viewer.kind !== 'admin' && !(viewer.kind === 'staff' && viewer.locationId === f.locationId))
    fail(viewer.kind === 'staff' ? 'WRONG_LOCATION' : 'FORBIDDEN', 'Shipments are sent by staff of the shipping location or head office.', ['input', 'fulfilmentId']);
  if (f.type !== 'DELIVERY') fail('INVALID_STATE', 'Only deliveries are shipped.', ['input', 'fulfilmentId']);
  const order = await orderOrFail(db, f.orderId);
  const actor = actorOf(viewer);
  await inTransaction(db, async (tx) => {
    const now = clock();
    const [moved] = await tx
      .update(fulfilments)
      .set({ status: 'SHIPPED', shippedAt: now })
      .where(and(eq(fulfilments.id, f.id), eq(fulfilments.status, 'ALLOCATED')))
      .returning();
    if (!moved) fail('INVALID_STATE', `The fulfilment is ${f.status}, not ALLOCATED.`, ['input', 'fulfilmentId']);
    await completeLines(tx, f, order, await fulfilmentLinesWithVariant(tx, f.id), actor, now);
    await refreshOrderStatus(tx, order.id);
    await recordEvent(tx, { order, kind: 'SHIPPED', channel: channelOf(viewer), locationId: f.locationId, fulfilmentId: f.id, summary: `Order ${order.number} shipped`, actor, at: now });
  });
  return fulfilmentOrFail(db, f.id);
}

// ---- reads -------------------------------------------------------------------------------------------

export const ordersByIds = (q: Queryable, ids: readonly string[]) => q.select().from(orders).where(inArray(orders.id, [...ids]));
export const linesByOrderIds = (q: Queryable, ids: readonly string[]) =>
  q.select().from(orderLines).where(inArray(orderLines.orderId, [...ids])).orderBy(asc(orderLines.position));
export const orderLinesByIds = (q: Queryable, ids: readonly string[]) => q.select().from(orderLines).where(inArray(orderLines.id, [...ids]));
export const fulfilmentsByOrderIds = (q: Queryable, ids: readonly string[]) =>
  q.select().from(fulfilments).where(inArray(fulfilments.orderId, [...ids])).orderBy(asc(fulfilments.createdAt), asc(fulfilments.id));
export const fulfilmentsByIds = (q: Queryable, ids: readonly string[]) => q.select().from(fulfilments).where(inArray(fulfilments.id, [...ids]));
export const fulfilmentLinesByFulfilmentIds = (q: Queryable, ids: readonly string[]) =>
  q.select().from(fulfilmentLines).where(inArray(fulfilmentLines.fulfilmentId, [...ids]));
export const tendersByOrderIds = (q: Queryable, ids: readonly string[]) =>
  q.select().from(tenders).where(inArray(tenders.orderId, [...ids])).orderBy(asc(tenders.position));
export const refundsByOrderIds = (q: Queryable, ids: readonly string[]) => q.select().from(refunds).where(inArray(refunds.orderId, [...ids])).orderBy(asc(refunds.id));

export async function orderByNumber(q: Queryable, number: string) {
  return (await q.select().from(orders).where(eq(orders.number, number.trim().toUpperCase())))[0] ?? null;
}

/**
 * Up to `limit` orders of each customer, newest first, before the keyset cursor (UUIDv7 ids are
 * time-ordered): one statement for a whole page of customers.
 */
export async function ordersOfCustomers(q: Queryable, customerIds: readonly string[], limit: number, before: string | null): Promise<Order[]> {
  if (customerIds.length === 0) return [];
  return q
    .select()
    .from(orders)
    .where(
      sql`${orders.id} in (select page.id from ${parentIds(customerIds)} cross join lateral (
            select id from ${orders} where customer_id = p.id ${before ? sql`and id < ${before}` : sql``}
             order by id desc limit ${limit}) page)`,
    )
    .orderBy(desc(orders.id));
}
