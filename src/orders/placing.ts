import { eq, sql } from 'drizzle-orm';
import { orders, orderLines, fulfilments, fulfilmentLines, tenders, locations, customers } from '../../schema/index';
import { inTransaction, type Db, type Tx } from '../db';
import { fail } from '../lib/errors';
import { newId } from '../lib/ids';
import type { Clock } from '../lib/clock';
import { actorOf, channelOf, type Viewer, type Channel } from '../access/viewer';
import { once, replayOr } from '../idempotency/service';
import { resolveSkus, type Variant } from '../catalog/service';
import { pointOfAddress } from '../locations/geocode';
import { reserve, sellAtTill, openTransfer, type GuardedLine } from '../inventory/service';
import { sourceDemand } from '../inventory/sourcing';
import { aggregate, type Demand } from '../inventory/rules';
import type { LedgerContext } from '../loyalty/service';
import { acceptTenders, numberScope, orderNumber, type AcceptedTender, type TenderInput } from './rules';
import { recordEvent, items } from './events';
import { addPointsEarned, payThroughLedgers, type CarriedTender } from './settlement';
import { orderOrFail, type Fulfilment, type FulfilmentType, type Order } from './queries';

type Location = typeof locations.$inferSelect;

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

export interface FulfilmentInput {
  type: FulfilmentType;
  pickupLocationId?: string | null;
  address?: Address | null;
}

export interface PlaceOrderInput {
  idempotencyKey: string;
  customerId?: string | null;
  lines: { sku: string; quantity: number }[];
  fulfilment: FulfilmentInput;
  tenders: TenderInput[];
}

/** A line priced from the catalog (client prices are never trusted); `index` is its input position. */
export interface PricedLine {
  id: string;
  variant: Variant;
  quantity: number;
  total: number;
  index: number;
}

/** Prices lines from the catalog in one currency; `path` is where the lines are in the input. */
export function priceLines(variants: Variant[], lines: { quantity: number }[], path: string[], currencyCode = variants[0]!.currencyCode) {
  variants.forEach((v, i) => {
    if (v.currencyCode !== currencyCode) fail('INVALID_INPUT', `Every line is priced in ${currencyCode}.`, [...path, i, 'sku']);
  });
  const priced: PricedLine[] = lines.map((l, i) => ({ id: newId(), variant: variants[i]!, quantity: l.quantity, total: variants[i]!.price * l.quantity, index: i }));
  const total = priced.reduce((s, l) => s + l.total, 0);
  if (!Number.isSafeInteger(total)) fail('INVALID_INPUT', 'The order total is too large.', path);
  return { priced, total, currencyCode };
}

// ---- numbers ------------------------------------------------------------------------------------------

/*
 * Order numbers come from one PostgreSQL sequence per scope (W, M, S<store code>): nextval never waits for
 * another transaction, so no order queues on another's number. A rolled-back order leaves a gap, which is
 * fine (PRODUCT.md §3: they are not fiscal numbers). A scope's sequence is created on its first order,
 * starting after the highest number already used in that scope.
 */
const sequenceName = (scope: string) => `order_number_${scope.toLowerCase()}`;
const ensured = new WeakMap<Db, Set<string>>();

/** Creates the scope's sequence once per process and database; outside the order's transaction. */
export async function ensureNumbering(db: Db, scope: string): Promise<void> {
  const known = ensured.get(db) ?? new Set<string>();
  ensured.set(db, known);
  if (known.has(scope)) return;
  const [row] = await db.execute<{ next: string }>(sql`
    select coalesce(max(substring(number from ${scope.length + 2})::bigint), 0) + 1 as next
      from ${orders} where number like ${`${scope.replace(/[\\%_]/g, (c) => `\\${c}`)}-%`}`);
  try {
    await db.execute(sql.raw(`create sequence if not exists "${sequenceName(scope)}" as bigint start with ${Number(row!.next)}`));
  } catch (err) {
    // Two processes creating it at the same instant: the other one won, which is all we need.
    const code = (err as { code?: string; cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P07') throw err;
  }
  known.add(scope);
}

async function nextNumber(tx: Tx, scope: string): Promise<string> {
  const [row] = await tx.execute<{ n: string }>(sql`select nextval(${sequenceName(scope)}) as n`);
  return orderNumber(scope, Number(row!.n));
}

// ---- writing an order -------------------------------------------------------------------------------------

/** One fulfilment to create: where, in which state, and how its stock is taken. */
export interface FulfilmentPlan {
  id: string;
  type: FulfilmentType;
  locationId: string;
  status: Fulfilment['status'];
  address: Address | null;
  lines: { variantId: string; quantity: number; sourceLocationId: string }[];
  /** SELL: off the till's shelf now; RESERVE: held for the shopper at each line's source. */
  stock: 'SELL' | 'RESERVE';
  /** Ship-to-store: a transfer from here to the pickup store, its stock already reserved by the order. */
  transferFrom: string | null;
}

/**
 * Plans the fulfilments of one fulfilment input (reads only): a carry-out at the till, a pickup at a store
 * (ship-to-store from the nearest location when the store lacks something), or a delivery sourced by
 * inventory (possibly split). `field` blames a line's quantity when stock is short.
 */
export async function planFulfilments(
  tx: Tx,
  f: { type: FulfilmentType; till: Location | null; pickupStore: Location | null; address: Address | null; point: { latitude: number; longitude: number } | null },
  demand: Demand[],
  field: (variantId: string) => (string | number)[],
): Promise<FulfilmentPlan[]> {
  const plan = (locationId: string, status: Fulfilment['status'], lines: FulfilmentPlan['lines'], extra: Partial<FulfilmentPlan> = {}): FulfilmentPlan => ({
    id: newId(),
    type: f.type,
    locationId,
    status,
    address: f.address,
    lines,
    stock: 'RESERVE',
    transferFrom: null,
    ...extra,
  });
  const from = (locationId: string, d: Demand[]) => d.map((x) => ({ ...x, sourceLocationId: locationId }));
  if (f.type === 'CARRY_OUT') return [plan(f.till!.id, 'FULFILLED', from(f.till!.id, demand), { stock: 'SELL' })];
  if (f.type === 'PICKUP') {
    const store = f.pickupStore!;
    const sourced = await sourceDemand(tx, demand, { type: 'PICKUP', storeId: store.id, latitude: store.latitude, longitude: store.longitude });
    if (!sourced.allocations) fail('INSUFFICIENT_STOCK', 'Not enough stock for this pickup.', field(sourced.short[0]!.variantId));
    const sources = sourced.allocations;
    const elsewhere = sources.find((s) => s.locationId !== store.id) ?? null;
    return [plan(store.id, elsewhere ? 'IN_TRANSIT' : 'ALLOCATED', sources.flatMap((s) => from(s.locationId, s.lines)), { transferFrom: elsewhere?.locationId ?? null })];
  }
  const sourced = await sourceDemand(tx, demand, { type: 'DELIVERY', ...f.point! });
  if (!sourced.allocations) fail('INSUFFICIENT_STOCK', 'Not enough stock to deliver this order.', ['input', 'lines']);
  return sourced.allocations.map((s) => plan(s.locationId, 'ALLOCATED', from(s.locationId, s.lines)));
}

export interface NewOrder {
  id: string;
  channel: Channel;
  actor: string;
  now: Date;
  /** The selling store (POS). */
  till: Location | null;
  customerId: string | null;
  currencyCode: string;
  total: number;
  lines: PricedLine[];
  plans: FulfilmentPlan[];
  /** Paid now: points and store credit go through the ledgers; the customer earns on the money part. */
  paid: AcceptedTender[];
  /** Paid by value carried from another order (an exchange): recorded, not charged again. */
  carried?: { tenders: CarriedTender[]; points: number };
  /** Where the line quantities are in the input, to blame when stock is short. */
  field: (variantId: string) => (string | number)[];
  returnId?: string | null;
  /** The ORDER_PLACED summary, given the number. */
  summary: (number: string) => string;
}

/**
 * Writes a new order, inside the caller's transaction: the order, its lines, fulfilments and tenders,
 * then the contended rows in the lock order of src/db.ts (stock levels, then the customer's ledgers), the
 * number last, and the ORDER_PLACED event. placeOrder, exchanges (and carts, offline sales) all come here.
 */
export async function writeOrder(tx: Tx, o: NewOrder): Promise<{ number: string }> {
  const carriedOut = o.plans.every((p) => p.type === 'CARRY_OUT');
  await tx.insert(orders).values({
    id: o.id,
    number: `pending-${o.id}`,
    channel: o.channel,
    locationId: o.till?.id ?? null,
    customerId: o.customerId,
    status: carriedOut ? 'COMPLETED' : 'OPEN',
    currencyCode: o.currencyCode,
    total: o.total,
    actor: o.actor,
    createdAt: o.now,
  });
  const sold = new Set(o.plans.filter((p) => p.type === 'CARRY_OUT').flatMap((p) => p.lines.map((l) => l.variantId)));
  await tx.insert(orderLines).values(
    o.lines.map((l, position) => ({
      id: l.id,
      orderId: o.id,
      position,
      variantId: l.variant.id,
      quantity: l.quantity,
      unitPrice: l.variant.price,
      total: l.total,
      // A carry-out is fulfilled on the spot: the return window starts now.
      fulfilledQuantity: sold.has(l.variant.id) ? l.quantity : 0,
      fulfilledAt: sold.has(l.variant.id) ? o.now : null,
    })),
  );
  const assigned = new Map<string, number>();
  for (const p of o.plans) {
    await tx.insert(fulfilments).values({ id: p.id, orderId: o.id, type: p.type, status: p.status, locationId: p.locationId, address: p.address, createdAt: o.now });
    // Split each variant's quantity back over the order lines that asked for it; one row per order line.
    const rows = new Map<string, typeof fulfilmentLines.$inferInsert>();
    for (const pl of p.lines) {
      let left = pl.quantity;
      for (const l of o.lines.filter((x) => x.variant.id === pl.variantId)) {
        const take = Math.min(left, l.quantity - (assigned.get(l.id) ?? 0));
        if (take <= 0) continue;
        const row = rows.get(l.id);
        if (row) row.quantity += take;
        else rows.set(l.id, { fulfilmentId: p.id, orderLineId: l.id, sourceLocationId: pl.sourceLocationId, quantity: take });
        assigned.set(l.id, (assigned.get(l.id) ?? 0) + take);
        left -= take;
      }
    }
    await tx.insert(fulfilmentLines).values([...rows.values()]);
    if (p.transferFrom)
      await openTransfer(
        tx,
        { fromLocationId: p.transferFrom, toLocationId: p.locationId, lines: p.lines.filter((l) => l.sourceLocationId === p.transferFrom).map((l) => ({ ...l, locationId: p.transferFrom! })), fulfilmentId: p.id },
        { actor: o.actor, orderId: o.id },
        false,
      );
  }
  const paid = [...(o.carried?.tenders ?? []).map((t) => ({ ...t, tendered: null })), ...o.paid];
  if (paid.length) await tx.insert(tenders).values(paid.map((t, position) => ({ orderId: o.id, position, type: t.type, amount: t.amount, points: t.points, tendered: t.tendered })));

  // Stock: one guarded statement per level; the first that finds too little abandons everything.
  const stockCtx = { actor: o.actor, orderId: o.id, returnId: o.returnId ?? null };
  const guarded = (stock: FulfilmentPlan['stock']): GuardedLine[] =>
    o.plans.filter((p) => p.stock === stock).flatMap((p) => p.lines.map((l) => ({ locationId: l.sourceLocationId, variantId: l.variantId, quantity: l.quantity, field: o.field(l.variantId) })));
  await sellAtTill(tx, guarded('SELL'), stockCtx);
  await reserve(tx, guarded('RESERVE'), stockCtx);

  // Points and store credit, through the ledgers; earned points carried from an exchanged order move here.
  const ledger: LedgerContext = { channel: o.channel, locationId: o.till?.id ?? o.plans.find((p) => p.type === 'PICKUP')?.locationId ?? null, actor: o.actor, orderId: o.id, returnId: o.returnId ?? null, now: o.now };
  await payThroughLedgers(tx, o.customerId, o.paid, ledger);
  if (o.carried && o.carried.points > 0) await addPointsEarned(tx, o.id, o.carried.points);

  const number = await nextNumber(tx, numberScope(o.channel, o.till?.code ?? null));
  await tx.update(orders).set({ number }).where(eq(orders.id, o.id));
  await recordEvent(tx, {
    order: { id: o.id, customerId: o.customerId },
    kind: 'ORDER_PLACED',
    channel: o.channel,
    locationId: ledger.locationId,
    returnId: o.returnId ?? null,
    summary: o.summary(number),
    actor: o.actor,
    at: o.now,
  });
  return { number };
}

/** Everything of a place-order input that can be checked before the transaction. */
async function checkOrderInput(db: Db, viewer: Viewer, input: PlaceOrderInput) {
  if (viewer.kind !== 'staff' && viewer.kind !== 'customer')
    fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Orders are placed by a signed-in customer or at a store till.');
  const channel = channelOf(viewer);
  const till = viewer.kind === 'staff' ? ((await db.select().from(locations).where(eq(locations.id, viewer.locationId)))[0] ?? null) : null;

  let customerId: string | null = null;
  if (viewer.kind === 'customer') {
    if (input.customerId && input.customerId !== viewer.customerId) fail('FORBIDDEN', 'A customer orders for themself.', ['input', 'customerId']);
    customerId = viewer.customerId;
  } else if (input.customerId) {
    const [c] = await db.select({ id: customers.id }).from(customers).where(eq(customers.id, input.customerId));
    if (!c) fail('NOT_FOUND', 'No such customer.', ['input', 'customerId']);
    customerId = input.customerId;
  }

  const f = input.fulfilment;
  const path = ['input', 'fulfilment'];
  let pickupStore: Location | null = null;
  let point: { latitude: number; longitude: number } | null = null;
  if (f.type === 'CARRY_OUT' && channel !== 'POS') fail('INVALID_INPUT', 'Carry-out is for sales at a store till.', [...path, 'type']);
  if (f.type === 'PICKUP') {
    if (!f.pickupLocationId) fail('INVALID_INPUT', 'A pickup needs pickupLocationId.', [...path, 'pickupLocationId']);
    const [store] = await db.select().from(locations).where(eq(locations.id, f.pickupLocationId));
    if (!store) fail('NOT_FOUND', 'No such location.', [...path, 'pickupLocationId']);
    if (store.type !== 'STORE' || !store.pickupEnabled) fail('INVALID_INPUT', `${store.name} does not offer pickup.`, [...path, 'pickupLocationId']);
    pickupStore = store;
  }
  if (f.type === 'DELIVERY') {
    if (!f.address) fail('INVALID_INPUT', 'A delivery needs an address.', [...path, 'address']);
    point = await pointOfAddress(f.address);
    if (!point)
      fail('INVALID_INPUT', `The postal code ${f.address.postalCode} (${f.address.country}) is not known: give the address's latitude and longitude.`, [...path, 'address', 'postalCode']);
  }

  const { priced, total, currencyCode } = priceLines(await resolveSkus(db, input.lines, ['input', 'lines']), input.lines, ['input', 'lines']);
  const accepted = acceptTenders(total, input.tenders, { channel, hasCustomer: customerId !== null });
  return { channel, till, customerId, pickupStore, point, priced, total, currencyCode, accepted };
}

/**
 * One placeOrder for every channel. A retry with the same key and input returns the first result whatever
 * changed since (prices, stock, balances): the stored result is looked up before anything is checked.
 */
export async function placeOrder(db: Db, viewer: Viewer, input: PlaceOrderInput, clock: Clock): Promise<{ order: Order; changeDue: number }> {
  const actor = actorOf(viewer);
  const scope = { actor, key: input.idempotencyKey, operation: 'placeOrder', request: input };
  const result = await replayOr(db, scope, async () => {
    const c = await checkOrderInput(db, viewer, input);
    await ensureNumbering(db, numberScope(c.channel, c.till?.code ?? null));
    return inTransaction(db, (tx) =>
      once(tx, scope, async () => {
        const now = clock();
        const orderId = newId();
        const field = (variantId: string) => ['input', 'lines', c.priced.find((l) => l.variant.id === variantId)!.index, 'quantity'];
        const demand = aggregate(c.priced.map((l) => ({ locationId: '', variantId: l.variant.id, quantity: l.quantity }))).map(({ variantId, quantity }) => ({ variantId, quantity }));
        const f = input.fulfilment;
        const plans = await planFulfilments(tx, { type: f.type, till: c.till, pickupStore: c.pickupStore, address: f.type === 'DELIVERY' ? f.address! : null, point: c.point }, demand, field);
        const count = items(c.priced.reduce((s, l) => s + l.quantity, 0));
        await writeOrder(tx, {
          id: orderId,
          channel: c.channel,
          actor,
          now,
          till: c.till,
          customerId: c.customerId,
          currencyCode: c.currencyCode,
          total: c.total,
          lines: c.priced,
          plans,
          paid: c.accepted.tenders,
          field,
          summary: (number) => `Order ${number} placed (${f.type.toLowerCase().replace('_', '-')}, ${count})`,
        });
        return { orderId, changeDue: c.accepted.changeDue };
      }),
    );
  });
  return { order: await orderOrFail(db, result.orderId), changeDue: result.changeDue };
}
