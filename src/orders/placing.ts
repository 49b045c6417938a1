import { eq, sql, type SQLWrapper } from 'drizzle-orm';
import { orders, orderLines, orderDiscounts, fulfilments, fulfilmentLines, tenders, locations, customers } from '../../schema/index';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { DomainError, fail } from '../lib/errors';
import { newId } from '../lib/ids';
import type { Clock } from '../lib/clock';
import { actorOf, channelOf, type Viewer, type Channel } from '../access/viewer';
import { once, replayOr } from '../idempotency/service';
import { resolveSellableSkus, type Variant } from '../catalog/service';
import { pointOfAddress } from '../locations/geocode';
import { reserve, sellAtTill, sellRegardless, openTransfer, type GuardedLine, type Shortfall } from '../inventory/service';
import { findGiftCard } from '../giftcards/service';
import { activeStaffAt, requireActiveStaff } from '../access/service';
import { redeemGiftCard } from '../giftcards/service';
import { takeCash } from '../registers/service';
import { ratesAt } from '../taxes/service';
import { lineTaxes } from '../taxes/rules';
import { sourceDemand } from '../inventory/sourcing';
import { aggregate, type Demand } from '../inventory/rules';
import type { LedgerContext } from '../loyalty/service';
import { acceptTenders, numberScope, type AcceptedTender, type TenderInput } from './rules';
import { recordEvent, items } from './events';
import { isContactOf } from '../customers/service';
import { priceFor, recordUsages } from '../promotions/service';
import type { Applied } from '../promotions/rules';
import { pointsEarned } from '../loyalty/rules';
import { payThroughLedgers, type CarriedTender } from './settlement';
import { orderOrFail, type Fulfilment, type FulfilmentType, type Order, type OrderLine } from './queries';

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
  /** A line's own fulfilment overrides the order's (endless aisle: one basket, several fulfilments). */
  lines: { sku: string; quantity: number; fulfilment?: FulfilmentInput | null }[];
  fulfilment: FulfilmentInput;
  tenders: TenderInput[];
  /** Codes the shopper gave; automatic promotions apply without one. */
  discountCodes?: string[] | null;
  /** Staff: credit the sale to another associate of the store (default: the signed-in staff member). */
  salesAssociateCode?: string | null;
}

/** A line priced from the catalog (client prices are never trusted); `index` is its input position. */
export interface PricedLine {
  id: string;
  variant: Variant;
  quantity: number;
  /** The catalog price (an offline till's own price when it sold without a connection). */
  unitPrice: number;
  /** This line's share of the order's discounts. */
  discount: number;
  /** What the shopper pays for the line: quantity × unitPrice − discount. */
  total: number;
  /** The tax `total` includes, at taxRate percent: set when the order is written (src/taxes/rules.ts). */
  tax: number;
  taxRate: string;
  index: number;
}

/** Prices lines from the catalog in one currency; `path` is where the lines are in the input. */
export function priceLines(variants: Variant[], lines: { quantity: number }[], path: string[], currencyCode = variants[0]!.currencyCode) {
  variants.forEach((v, i) => {
    if (v.currencyCode !== currencyCode) fail('INVALID_INPUT', `Every line is priced in ${currencyCode}.`, [...path, i, 'sku']);
  });
  const priced: PricedLine[] = lines.map((l, i) => ({
    id: newId(),
    variant: variants[i]!,
    quantity: l.quantity,
    unitPrice: variants[i]!.price,
    discount: 0,
    total: variants[i]!.price * l.quantity,
    tax: 0,
    taxRate: '0',
    index: i,
  }));
  const total = priced.reduce((s, l) => s + l.total, 0);
  if (!Number.isSafeInteger(total)) fail('INVALID_INPUT', 'The order total is too large.', path);
  return { priced, total, currencyCode };
}

/** The order line a priced line becomes (a quote shows the same rows without storing them). */
export const lineRow = (l: PricedLine, orderId: string, position: number, fulfilledAt: Date | null): OrderLine => ({
  id: l.id,
  orderId,
  position,
  variantId: l.variant.id,
  quantity: l.quantity,
  unitPrice: l.unitPrice,
  discount: l.discount,
  total: l.total,
  tax: l.tax,
  taxRate: l.taxRate,
  fulfilledQuantity: fulfilledAt ? l.quantity : 0,
  fulfilledAt,
  cancelledQuantity: 0,
  returnedQuantity: 0,
});

/**
 * Applies the promotions of this channel and place to priced lines (the same rule for every channel): each
 * line's discount share and total, and the applied promotions; an unusable code is refused at its index in
 * `codesPath`. Returns the discounted total.
 */
export async function applyPromotions(
  db: Queryable,
  priced: PricedLine[],
  ctx: { channel: Channel; locationId: string | null; customerId: string | null; now: Date; codes: readonly string[]; withTier?: boolean },
  codesPath: (string | number)[],
) {
  const price = await priceFor(db, priced.map((l) => ({ sku: l.variant.sku, unitPrice: l.unitPrice, quantity: l.quantity })), ctx);
  if (price.problems.length) throw DomainError.many(price.problems.map((p) => ({ code: p.code, message: p.message, field: [...codesPath, p.index].map(String) })));
  priced.forEach((l, i) => {
    l.discount = price.lineDiscounts[i]!;
    l.total -= l.discount;
  });
  return { total: price.total, subtotal: price.subtotal, discounts: price.applied, tier: price.tier };
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

/**
 * Numbers the order from its scope's sequence and records the points it earned, in one statement; returns the
 * order's row as it will commit.
 */
async function assignNumber(tx: Tx, orderId: string, scope: string, pointsEarned: number): Promise<Order> {
  // The scope, a dash and at least six digits, zero-padded: W-000123.
  const [row] = await tx
    .update(orders)
    .set({
      number: sql`(select ${`${scope}-`} || lpad(n::text, greatest(6, length(n::text)), '0') from nextval(${sequenceName(scope)}) as n)`,
      pointsEarned,
    })
    .where(eq(orders.id, orderId))
    .returning();
  return row!;
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
 * inventory (possibly split). `field` blames a line's quantity when stock is short. `fromPickupStore`: plan a
 * pickup at its store without reading the stock first (placeOrder's first try: the guarded reservation decides).
 */
export async function planFulfilments(
  tx: Tx,
  f: { type: FulfilmentType; till: Location | null; pickupStore: Location | null; address: Address | null; point: { latitude: number; longitude: number } | null },
  demand: Demand[],
  field: (variantId: string) => (string | number)[],
  fromPickupStore = false,
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
    if (fromPickupStore) return [plan(store.id, 'ALLOCATED', from(store.id, demand))];
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

/** A fulfilment input checked before the transaction: the pickup store, or the delivery address and its point. */
export interface CheckedFulfilment {
  type: FulfilmentType;
  pickupStore: Location | null;
  address: Address | null;
  point: { latitude: number; longitude: number } | null;
}

/** The lines that share one fulfilment, and (once planned) where their goods come from. */
export interface LineGroup {
  fulfilment: CheckedFulfilment;
  lines: PricedLine[];
}

export interface NewOrder {
  id: string;
  channel: Channel;
  actor: string;
  now: Date;
  /** The selling location: a store's till (POS) or the contact centre. */
  till: Location | null;
  /** The till's terminal, whose register session takes the cash tenders (REGISTER_CLOSED when not open). */
  terminalId: string | null;
  /** The staff member credited with the sale. */
  salesAssociateId: string | null;
  /** An offline till sale's own id (a replay finds the order by it). */
  clientSaleId?: string | null;
  customerId: string | null;
  currencyCode: string;
  total: number;
  lines: PricedLine[];
  groups: (LineGroup & { plans: FulfilmentPlan[] })[];
  /** The promotions the order got (their uses are recorded, guarded by their limits). */
  discounts?: readonly Applied[];
  /** Paid now: points and store credit go through the ledgers; the customer earns on the money part. */
  paid: AcceptedTender[];
  /** Paid by value carried from another order (an exchange): recorded, not charged again. */
  carried?: { tenders: CarriedTender[]; points: number };
  /** Where the line quantities are in the input, to blame when stock is short. */
  field: (variantId: string) => (string | number)[];
  returnId?: string | null;
  /** False for a gift-card sale: points are earned when the card is spent, not when it is bought. */
  earnsPoints?: boolean;
  /** Offline sales: stock leaves the shelf even when the books hold too little (the shortfalls are recorded). */
  offline?: { shortfalls: Shortfall[] };
  /** The ORDER_PLACED summary, given the number. */
  summary: (number: string) => string;
}

/**
 * Writes a new order, inside the caller's transaction: the order, its lines, fulfilments and tenders,
 * then the contended rows in the lock order of src/db.ts (stock levels, then the customer's ledgers), the
 * number last, and the ORDER_PLACED event. placeOrder, exchanges and cart checkouts all come here.
 */
export async function writeOrder(tx: Tx, o: NewOrder): Promise<{ number: string; order: Order }> {
  const plans = o.groups.flatMap((g) => g.plans);
  await taxLines(tx, o);
  // The order's rows go in one statement (data-modifying CTEs; foreign keys are checked at its end): one round trip
  // instead of five.
  const rows: SQLWrapper[] = [
    tx.insert(orders).values({
      id: o.id,
      number: `pending-${o.id}`,
      channel: o.channel,
      locationId: o.till?.id ?? null,
      customerId: o.customerId,
      status: plans.every((p) => p.type === 'CARRY_OUT') ? 'COMPLETED' : 'OPEN',
      currencyCode: o.currencyCode,
      total: o.total,
      actor: o.actor,
      salesAssociateId: o.salesAssociateId,
      clientSaleId: o.clientSaleId ?? null,
      createdAt: o.now,
    }),
  ];
  // A carry-out line is fulfilled on the spot: its return window starts now.
  const carriedOut = new Set(o.groups.filter((g) => g.fulfilment.type === 'CARRY_OUT').flatMap((g) => g.lines.map((l) => l.id)));
  if (o.lines.length) rows.push(tx.insert(orderLines).values(o.lines.map((l, position) => lineRow(l, o.id, position, carriedOut.has(l.id) ? o.now : null))));
  for (const g of o.groups) {
    const assigned = new Map<string, number>();
    for (const p of g.plans) {
      rows.push(tx.insert(fulfilments).values({ id: p.id, orderId: o.id, type: p.type, status: p.status, locationId: p.locationId, address: p.address, createdAt: o.now }));
      // Split each variant's quantity back over the group's order lines that asked for it; one row per order line.
      const split = new Map<string, typeof fulfilmentLines.$inferInsert>();
      for (const pl of p.lines) {
        let left = pl.quantity;
        for (const l of g.lines.filter((x) => x.variant.id === pl.variantId)) {
          const take = Math.min(left, l.quantity - (assigned.get(l.id) ?? 0));
          if (take <= 0) continue;
          const row = split.get(l.id);
          if (row) row.quantity += take;
          else split.set(l.id, { fulfilmentId: p.id, orderLineId: l.id, sourceLocationId: pl.sourceLocationId, quantity: take });
          assigned.set(l.id, (assigned.get(l.id) ?? 0) + take);
          left -= take;
        }
      }
      rows.push(tx.insert(fulfilmentLines).values([...split.values()]));
    }
  }
  const paid = [...(o.carried?.tenders ?? []).map((t) => ({ ...t, tendered: null, change: null })), ...o.paid];
  if (paid.length)
    rows.push(
      tx.insert(tenders).values(
        paid.map((t, position) => ({ orderId: o.id, position, type: t.type, amount: t.amount, points: t.points, tendered: t.tendered, change: t.change, giftCardId: t.giftCardId ?? null })),
      ),
    );
  const [head, ...rest] = rows.map((q) => q.getSQL());
  await tx.execute(rest.length === 0 ? head! : sql`with ${sql.join(rest.map((q, i) => sql`${sql.raw(`w${i}`)} as (${q})`), sql`, `)} ${head!}`);
  // Ship-to-store: the transfer from the source to the pickup store.
  for (const p of plans)
    if (p.transferFrom)
      await openTransfer(
        tx,
        { fromLocationId: p.transferFrom, toLocationId: p.locationId, lines: p.lines.filter((l) => l.sourceLocationId === p.transferFrom).map((l) => ({ ...l, locationId: p.transferFrom! })), fulfilmentId: p.id },
        { actor: o.actor, orderId: o.id },
        false,
      );

  // Stock: one guarded statement per level; the first that finds too little abandons everything.
  const stockCtx = { actor: o.actor, orderId: o.id, returnId: o.returnId ?? null };
  const guarded = (stock: FulfilmentPlan['stock']): GuardedLine[] =>
    plans.filter((p) => p.stock === stock).flatMap((p) => p.lines.map((l) => ({ locationId: l.sourceLocationId, variantId: l.variantId, quantity: l.quantity, field: o.field(l.variantId) })));
  if (o.offline) o.offline.shortfalls.push(...(await sellRegardless(tx, guarded('SELL'), stockCtx)));
  else await sellAtTill(tx, guarded('SELL'), stockCtx);
  await reserve(tx, guarded('RESERVE'), stockCtx);

  // Promotions' uses, guarded by their limits (after stock, before the customer's ledgers).
  if (o.discounts?.length) {
    await tx.insert(orderDiscounts).values(o.discounts.map((d, position) => ({ orderId: o.id, position, promotionId: d.promotionId, code: d.code, amount: d.amount })));
    await recordUsages(tx, o.id, o.customerId, o.discounts, () => ['input', 'discountCodes']);
  }

  // Points and store credit, through the ledgers; earned points carried from an exchanged order move here.
  const ledger: LedgerContext = { channel: o.channel, locationId: o.till?.id ?? plans.find((p) => p.type === 'PICKUP')?.locationId ?? null, actor: o.actor, orderId: o.id, returnId: o.returnId ?? null, now: o.now };
  // The points earned (and those carried from an exchanged order) are written on the order with its number.
  const earned = (await payThroughLedgers(tx, o.customerId, o.paid, ledger, o.earnsPoints ?? true)) + (o.carried?.points ?? 0);

  // Gift cards (in id order), then the till's drawer: last in the lock order.
  const money = { orderId: o.id, actor: o.actor, now: o.now };
  for (const t of o.paid.filter((x) => x.type === 'GIFT_CARD').sort((a, b) => a.giftCardId!.localeCompare(b.giftCardId!)))
    await redeemGiftCard(tx, t.giftCardId!, t.amount, money, ['input', 'tenders', t.index, 'giftCardCode']);
  const cash = o.paid.filter((t) => t.type === 'CASH');
  if (cash.length && o.terminalId)
    await takeCash(tx, o.terminalId, { tendered: cash.reduce((s, t) => s + t.tendered!, 0), change: cash.reduce((s, t) => s + t.change!, 0) }, { ...money, field: ['input', 'tenders', cash[0]!.index, 'type'] });

  const order = await assignNumber(tx, o.id, numberScope(o.channel, o.till?.code ?? null), earned);
  const number = order.number;
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
  return { number, order };
}

/**
 * Each line's tax rate and the tax its total includes. The rate is the one of the place of sale: the till's
 * store for a POS sale, else the pickup store, else the location that ships (one statement for all lines).
 */
async function taxLines(tx: Tx, o: NewOrder) {
  const at = new Map<string, string>();
  for (const g of o.groups) {
    const place = o.channel === 'POS' && o.till ? o.till.id : (g.fulfilment.pickupStore?.id ?? g.plans[0]!.locationId);
    for (const l of g.lines) at.set(l.id, place);
  }
  const rates = await ratesAt(tx, o.lines.map((l) => ({ locationId: at.get(l.id)!, taxClass: l.variant.taxClass })));
  const taxes = lineTaxes(o.lines.map((l, i) => ({ gross: l.total, rate: rates[i]! })));
  o.lines.forEach((l, i) => {
    l.taxRate = rates[i]!;
    l.tax = taxes[i]!;
  });
}

/**
 * A sale without goods (a gift card): an order with its tenders and nothing to fulfil, written by writeOrder
 * like any other, so its number, cash and events follow the same rules; it earns no points.
 */
export async function writeSaleWithoutGoods(
  tx: Tx,
  viewer: Viewer,
  s: { id: string; total: number; currencyCode: string; customerId: string | null; paid: AcceptedTender[]; till: Location | null; now: Date; summary: (n: string) => string },
) {
  return writeOrder(tx, {
    ...s,
    channel: channelOf(viewer),
    actor: actorOf(viewer),
    terminalId: viewer.kind === 'staff' ? viewer.terminalId : null,
    salesAssociateId: viewer.kind === 'staff' ? viewer.staffId : null,
    lines: [],
    groups: [],
    earnsPoints: false,
    field: () => ['input'],
  });
}

/** Checks a fulfilment input: a pickup store that offers pickup, a delivery address that can be located. */
export async function checkFulfilment(db: Db, f: FulfilmentInput, channel: Channel, path: (string | number)[]): Promise<CheckedFulfilment> {
  if (f.type === 'CARRY_OUT' && channel !== 'POS') fail('INVALID_INPUT', 'Carry-out is for sales at a store till.', [...path, 'type']);
  if (f.type === 'PICKUP') {
    if (!f.pickupLocationId) fail('INVALID_INPUT', 'A pickup needs pickupLocationId.', [...path, 'pickupLocationId']);
    const [store] = await db.select().from(locations).where(eq(locations.id, f.pickupLocationId));
    if (!store) fail('NOT_FOUND', 'No such location.', [...path, 'pickupLocationId']);
    if (store.type !== 'STORE' || !store.pickupEnabled) fail('INVALID_INPUT', `${store.name} does not offer pickup.`, [...path, 'pickupLocationId']);
    return { type: f.type, pickupStore: store, address: null, point: null };
  }
  if (f.type === 'DELIVERY') {
    if (!f.address) fail('INVALID_INPUT', 'A delivery needs an address.', [...path, 'address']);
    const point = await pointOfAddress(f.address);
    if (!point)
      fail('INVALID_INPUT', `The postal code ${f.address.postalCode} (${f.address.country}) is not known: give the address's latitude and longitude.`, [...path, 'address', 'postalCode']);
    return { type: f.type, pickupStore: null, address: f.address, point };
  }
  return { type: f.type, pickupStore: null, address: null, point: null };
}

/** Everything of a place-order input that can be checked before the transaction; writes nothing. */
export async function prepareOrder(db: Db, viewer: Viewer, input: PlaceOrderInput, now: Date, opts: { quote?: boolean; caller?: string } = {}) {
  if (viewer.kind !== 'staff' && viewer.kind !== 'customer')
    fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Orders are placed by a signed-in customer, at a store till or by the contact centre.');
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
  if (channel === 'CONTACT_CENTRE') await requireContact(db, viewer, customerId, ['input', 'customerId']);

  // One check per distinct fulfilment: the order's, and each line's own (endless aisle).
  const groups = new Map<string, { fulfilment: CheckedFulfilment; indexes: number[] }>();
  const orderLevel = await checkFulfilment(db, input.fulfilment, channel, ['input', 'fulfilment']);
  for (const [i, l] of input.lines.entries()) {
    const key = l.fulfilment ? JSON.stringify(l.fulfilment) : '';
    const g = groups.get(key) ?? { fulfilment: l.fulfilment ? await checkFulfilment(db, l.fulfilment, channel, ['input', 'lines', i, 'fulfilment']) : orderLevel, indexes: [] };
    g.indexes.push(i);
    groups.set(key, g);
  }

  const found = await resolveSellableSkus(db, input.lines, ['input', 'lines']);
  const { priced, currencyCode } = priceLines(found, input.lines, ['input', 'lines']);
  // Where the sale happens, for store-limited promotions: the till's store, else the pickup store.
  const pricingPlace = channel === 'POS' ? till!.id : (orderLevel.pickupStore?.id ?? null);
  const { total, subtotal, discounts, tier } = await applyPromotions(db, priced, { channel, locationId: pricingPlace, customerId, now, codes: input.discountCodes ?? [], withTier: opts.quote }, ['input', 'discountCodes']);
  // A quote may come before the shopper chose how to pay: no tenders, nothing to check yet.
  const accepted = opts.quote && input.tenders.length === 0 ? { tenders: [], changeDue: 0 } : acceptTenders(total, input.tenders, { channel, hasCustomer: customerId !== null });
  await findGiftCards(db, accepted.tenders, currencyCode, opts.caller ?? actorOf(viewer));
  const salesAssociateId = await salesAssociateOf(db, viewer, input.salesAssociateCode ?? null);
  const lineGroups: LineGroup[] = [...groups.values()].map((g) => ({ fulfilment: g.fulfilment, lines: g.indexes.map((i) => priced[i]!) }));
  return { channel, till, customerId, tier, priced, subtotal, total, discounts, currencyCode, accepted, groups: lineGroups, salesAssociateId, input };
}

/** Looks up each gift-card tender's card (wrong codes count against the caller: LOCKED after too many). */
export async function findGiftCards(db: Db, tenders: AcceptedTender[], currencyCode: string, caller: string) {
  for (const t of tenders) {
    if (t.type !== 'GIFT_CARD') continue;
    const field = ['input', 'tenders', t.index, 'giftCardCode'];
    const card = await findGiftCard(db, t.giftCardCode!, caller, field);
    if (card.currencyCode !== currencyCode) fail('GIFT_CARD_INVALID', `This gift card is in ${card.currencyCode}.`, field);
    t.giftCardId = card.id;
  }
}

/** The associate credited: the signed-in staff member, or another active one of the store named by code. */
async function salesAssociateOf(db: Db, viewer: Viewer, code: string | null): Promise<string | null> {
  if (viewer.kind !== 'staff') {
    if (code) fail('INVALID_INPUT', 'Only staff credit a sale to an associate.', ['input', 'salesAssociateCode']);
    return null;
  }
  if (!code) return viewer.staffId;
  const s = await activeStaffAt(db, code, viewer.locationId);
  if (!s) fail('INVALID_INPUT', 'No active staff member of this store has that code.', ['input', 'salesAssociateCode']);
  return s.id;
}
export type PreparedOrder = Awaited<ReturnType<typeof prepareOrder>>;

/** An agent acts only for a customer they looked up (customers/). */
async function requireContact(db: Db, viewer: Viewer, customerId: string | null, field: string[]) {
  if (viewer.kind !== 'staff') return;
  if (!customerId) fail('INVALID_INPUT', 'The contact centre orders on behalf of a customer: customerId.', field);
  if (!(await isContactOf(db, viewer.staffId, customerId))) fail('NOT_FOUND', 'No such customer.', field);
}

const typeName = (t: FulfilmentType) => t.toLowerCase().replace('_', '-');

/**
 * Plans and writes a prepared order inside the caller's transaction (after its own locks, e.g. a cart's).
 * `fromPickupStore`: pickups are planned at their store without a stock read (see placeOrder).
 */
export async function writePreparedOrder(
  tx: Tx,
  viewer: Viewer,
  p: PreparedOrder,
  now: Date,
  opts: { note?: string; fromPickupStore?: boolean } = {},
): Promise<{ orderId: string; number: string; order: Order }> {
  if (viewer.kind === 'staff') await requireActiveStaff(tx, viewer);
  const orderId = newId();
  const field = (variantId: string) => ['input', 'lines', p.priced.find((l) => l.variant.id === variantId)!.index, 'quantity'];
  const groups = [];
  for (const g of p.groups) {
    const demand = aggregate(g.lines.map((l) => ({ locationId: '', variantId: l.variant.id, quantity: l.quantity }))).map(({ variantId, quantity }) => ({ variantId, quantity }));
    groups.push({ ...g, plans: await planFulfilments(tx, { ...g.fulfilment, till: p.till }, demand, field, opts.fromPickupStore) });
  }
  const count = items(p.priced.reduce((s, l) => s + l.quantity, 0));
  const kinds = [...new Set(p.groups.map((g) => typeName(g.fulfilment.type)))].join(', ').replace(/, ([^,]*)$/, ' and $1');
  const { number, order } = await writeOrder(tx, {
    id: orderId,
    channel: p.channel,
    actor: actorOf(viewer),
    now,
    till: p.till,
    terminalId: viewer.kind === 'staff' ? viewer.terminalId : null,
    salesAssociateId: p.salesAssociateId,
    customerId: p.customerId,
    currencyCode: p.currencyCode,
    total: p.total,
    lines: p.priced,
    groups,
    discounts: p.discounts,
    paid: p.accepted.tenders,
    field,
    summary: (n) => `Order ${n} placed (${kinds}, ${count}${opts.note ? `; ${opts.note}` : ''})`,
  });
  return { orderId, number, order };
}

/**
 * One placeOrder for every channel. A retry with the same key and input returns the first result whatever
 * changed since (prices, stock, balances): see replayOr.
 */
export async function placeOrder(db: Db, viewer: Viewer, input: PlaceOrderInput, clock: Clock): Promise<{ order: Order; changeDue: number }> {
  const scope = { actor: actorOf(viewer), key: input.idempotencyKey, operation: 'placeOrder', request: input };
  // The row as this call committed it (a retried transaction writes a new one): no read after the commit.
  let written: Order | undefined;
  const result = await replayOr(db, scope, async () => {
    const p = await prepareOrder(db, viewer, input, clock());
    await ensureNumbering(db, numberScope(p.channel, p.till?.code ?? null));
    const attempt = (fromPickupStore: boolean) =>
      inTransaction(db, (tx) =>
        once(tx, scope, async () => {
          written = (await writePreparedOrder(tx, viewer, p, clock(), { fromPickupStore })).order;
          return { orderId: written.id, changeDue: p.accepted.changeDue };
        }),
      );
    // A pickup is first planned all at its store, without reading the stock (one statement fewer): when the store
    // lacks something, the guarded reservation refuses it, that transaction is rolled back whole, and the order is
    // written again with sourcing (ship-to-store from the nearest location that has it, or INSUFFICIENT_STOCK).
    if (!p.groups.some((g) => g.fulfilment.type === 'PICKUP')) return attempt(false);
    return attempt(true).catch((err: unknown) => {
      if (err instanceof DomainError && err.errors.some((e) => e.code === 'INSUFFICIENT_STOCK')) return attempt(false);
      throw err;
    });
  });
  const order = written?.id === result.orderId ? written : await orderOrFail(db, result.orderId);
  return { order, changeDue: result.changeDue };
}

/** Prices a basket exactly as placeOrder would (same checks), writing nothing: lines, total and points to earn. */
export async function quoteOrder(db: Db, viewer: Viewer, input: Omit<PlaceOrderInput, 'idempotencyKey'>, clock: Clock) {
  const p = await prepareOrder(db, viewer, { ...input, idempotencyKey: 'quote' }, clock(), { quote: true });
  const moneyPaid = p.accepted.tenders.filter((t) => t.type !== 'LOYALTY_POINTS').reduce((s, t) => s + t.amount, 0);
  const pointsToEarn = p.tier ? pointsEarned(input.tenders.length ? moneyPaid : p.total, p.tier) : 0;
  return { lines: p.priced.map((l, i) => lineRow(l, '', i, null)), subtotal: p.subtotal, discounts: p.discounts, total: p.total, currencyCode: p.currencyCode, pointsToEarn };
}
