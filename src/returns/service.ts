import { and, asc, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { returns, returnLines, returnAuthorisations, orderLines, orders, customerContacts, locations, variants, products } from '../../schema/index';
import type { ListScope } from '../access/guards';
import { recordAudit } from '../audit/service';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { config } from '../config';
import { DomainError, fail } from '../lib/errors';
import { globalId, newId } from '../lib/ids';
import type { Clock } from '../lib/clock';
import { actorOf, channelOf, tillOf, type Channel, type Viewer } from '../access/viewer';
import { once, replayOr } from '../idempotency/service';
import { resolveSellableSkus } from '../catalog/service';
import { restock, writeOffDamaged } from '../inventory/service';
import type { LedgerContext } from '../loyalty/service';
import { lockOrder, markLinesReturned, refreshOrderStatus, returnValue } from '../orders/fulfilment';
import { applyPromotions, ensureNumbering, findGiftCards, priceLines, writeOrder } from '../orders/placing';
import { carryOver, refundOrder, type RefundOutcome } from '../orders/settlement';
import { items as itemCount, recordEvent } from '../orders/events';
import { orderOrFail, type Order } from '../orders/queries';
import { isContactOf } from '../customers/service';
import { acceptTenders, numberScope, type TenderInput } from '../orders/rules';
import { checkReturn, itemsText, refundsText, settleExchange, type ReturnableLine } from './rules';
import { formatMoney } from '../lib/money';
import { returnedTax } from '../taxes/rules';

/*
 * Buy anywhere, return anywhere. A return is received at a location (the staff member's store, or a
 * warehouse for a mail-in return booked by head office), whatever channel or store sold the order. One
 * transaction per use case: the eligibility check, the guarded quantity update, stock, refund, points,
 * order status and the timeline event commit together or not at all.
 */

export type Return = typeof returns.$inferSelect;
export type ReturnLine = typeof returnLines.$inferSelect;
export type Location = typeof locations.$inferSelect;
export type RefundMethod = Return['refundMethod'];
export type ReturnCondition = ReturnLine['condition'];

export interface ReturnLineInput {
  orderLineId: string;
  quantity: number;
  condition: ReturnCondition;
  reason?: string | null;
}

export interface CreateReturnInput {
  idempotencyKey: string;
  orderId: string;
  /** Head office names the warehouse that received a mail-in return; staff receive at their own store. */
  locationId?: string | null;
  lines: ReturnLineInput[];
  refundMethod: RefundMethod;
  overrideReason?: string | null;
  /** A return the contact centre authorised: its window counts from the authorisation. */
  authorisationId?: string | null;
}

export interface CreateExchangeInput {
  idempotencyKey: string;
  orderId: string;
  returnLines: ReturnLineInput[];
  newLines: { sku: string; quantity: number }[];
  tenders: TenderInput[];
  refundMethod: RefundMethod;
  overrideReason?: string | null;
}

// ---- who may take a return, and where ------------------------------------------------------------------

/** The receiving location: the staff member's store, or the warehouse head office names. It must accept returns. */
async function receivingLocation(db: Db, viewer: Viewer, locationId: string | null | undefined): Promise<Location> {
  const field = ['input', 'locationId'];
  if (viewer.kind !== 'staff' && viewer.kind !== 'admin')
    fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Returns are taken by store staff, or by head office for mail-in returns.');
  if (viewer.kind === 'staff' && locationId && locationId !== viewer.locationId) fail('WRONG_LOCATION', 'Staff take returns at their own store.', field);
  if (viewer.kind === 'admin' && !locationId) fail('INVALID_INPUT', 'Name the warehouse that received the mail-in return: locationId.', field);
  const id = viewer.kind === 'staff' ? viewer.locationId : locationId!;
  const [loc] = await db.select().from(locations).where(eq(locations.id, id));
  if (!loc) fail('NOT_FOUND', 'No such location.', field);
  if (viewer.kind === 'admin' && loc.type !== 'WAREHOUSE')
    fail('WRONG_LOCATION', "Head office books mail-in returns at a warehouse; a store takes returns at its own till.", field);
  if (!loc.acceptsReturns) fail('WRONG_LOCATION', `${loc.name} does not take returns.`, viewer.kind === 'admin' ? field : undefined);
  return loc;
}

/** Overriding the window or final sale is a manager's (or head office's) decision. */
function requireOverrideRight(viewer: Viewer, overrideReason: string | null | undefined) {
  if (overrideReason && viewer.kind === 'staff' && viewer.role !== 'MANAGER')
    fail('FORBIDDEN', 'Only a manager may override the return policy.', ['input', 'overrideReason']);
}

// ---- the return part, shared by returns and exchanges ---------------------------------------------------

type LineFacts = ReturnableLine & { id: string; variantId: string; title: string; quantity: number; tax: number };

interface ReturnPlan {
  order: Order;
  lines: ReturnLineInput[];
  facts: Map<string, LineFacts>;
  /** Quantity per order line (repeated input lines summed). */
  totals: [string, number][];
  value: number;
  root: string[];
}

/** Reads the lines and applies the rules; writes nothing. Runs inside the transaction, so a replay skips it. */
async function planReturn(tx: Tx, order: Order, lines: ReturnLineInput[], override: boolean, now: Date, root: string[]): Promise<ReturnPlan> {
  const rows = await tx
    .select({
      id: orderLines.id,
      orderId: orderLines.orderId,
      variantId: orderLines.variantId,
      fulfilledQuantity: orderLines.fulfilledQuantity,
      returnedQuantity: orderLines.returnedQuantity,
      quantity: orderLines.quantity,
      tax: orderLines.tax,
      fulfilledAt: orderLines.fulfilledAt,
      returnable: variants.returnable,
      title: sql<string>`${products.title} || ' (' || ${variants.title} || ')'`,
    })
    .from(orderLines)
    .innerJoin(variants, eq(variants.id, orderLines.variantId))
    .innerJoin(products, eq(products.id, variants.productId))
    .where(inArray(orderLines.id, [...new Set(lines.map((l) => l.orderLineId))]));
  const facts = new Map(rows.map((r) => [r.id, r]));
  const { errors, totals } = checkReturn(order.id, lines, facts, { now, windowDays: config.RETURN_WINDOW_DAYS, override }, root);
  if (errors.length) throw DomainError.many(errors);
  // What the return gives back (what the units paid, less a broken promotion's benefit), before they are marked returned.
  const value = await returnValue(tx, order.id, lines, now);
  return { order, lines, facts, totals: [...totals], value, root };
}

/**
 * Takes the goods back: one guarded statement per order line decides (two tills returning the last unit
 * at once: the second finds no row), then the return rows and the stock movements at the receiving location.
 */
async function receiveReturn(
  tx: Tx,
  plan: ReturnPlan,
  at: { location: Location; channel: Channel; actor: string; refundMethod: RefundMethod; overrideReason: string | null; now: Date },
): Promise<string> {
  const short = await markLinesReturned(tx, plan.totals);
  if (short) {
    const i = plan.lines.findIndex((l) => l.orderLineId === short);
    throw new DomainError('QUANTITY_EXCEEDS_RETURNABLE', 'This line was returned meanwhile; nothing more can be returned.', [...plan.root, String(i), 'quantity']);
  }
  const returnId = newId();
  await tx.insert(returns).values({
    id: returnId,
    orderId: plan.order.id,
    locationId: at.location.id,
    channel: at.channel,
    refundMethod: at.refundMethod,
    overrideReason: at.overrideReason,
    actor: at.actor,
    createdAt: at.now,
  });
  // The tax these units included, pro rata and cumulative per order line (src/taxes/rules.ts).
  const before = new Map([...plan.facts].map(([id, f]) => [id, f.returnedQuantity]));
  const taxOf = (l: ReturnLineInput) => {
    const f = plan.facts.get(l.orderLineId)!;
    const tax = returnedTax(f.tax, f.quantity, before.get(l.orderLineId)!, l.quantity);
    before.set(l.orderLineId, before.get(l.orderLineId)! + l.quantity);
    return tax;
  };
  await tx.insert(returnLines).values(plan.lines.map((l) => ({ returnId, orderLineId: l.orderLineId, quantity: l.quantity, condition: l.condition, reason: l.reason ?? null, tax: taxOf(l) })));
  const stock = (condition: ReturnCondition) =>
    plan.lines.filter((l) => l.condition === condition).map((l) => ({ locationId: at.location.id, variantId: plan.facts.get(l.orderLineId)!.variantId, quantity: l.quantity }));
  const ctx = { actor: at.actor, orderId: plan.order.id, returnId, reference: plan.order.number };
  await restock(tx, stock('RESALEABLE'), ctx);
  await writeOffDamaged(tx, stock('DAMAGED'), ctx);
  // A manager's override of the window or of a final sale is audited with the return it let through.
  if (at.overrideReason)
    await recordAudit(tx, {
      actor: at.actor,
      action: 'overrideReturnPolicy',
      subjectId: globalId('Return', returnId),
      after: { order: plan.order.number, reason: at.overrideReason, lines: plan.lines.map((l) => ({ orderLine: globalId('OrderLine', l.orderLineId), quantity: l.quantity })) },
    });
  return returnId;
}

async function recordRefundOutcome(tx: Tx, returnId: string, out: RefundOutcome) {
  await tx.update(returns).set({ pointsReversed: out.pointsReversed, shortfallDeducted: out.deducted }).where(eq(returns.id, returnId));
}

const items = (plan: ReturnPlan) => itemsText(plan.lines.map((l) => ({ quantity: l.quantity, title: plan.facts.get(l.orderLineId)!.title })));

// ---- use cases -----------------------------------------------------------------------------------------

/**
 * Takes back lines of an order from any channel. The refund is the returned units' value, split over the
 * original tenders (or paid as store credit) by refundOrder, which also reverses the earned points on it.
 * Away from a till there is no cash drawer: cash parts of a mail-in return are paid as store credit.
 */
/** The whole return inside the caller's transaction: the goods back, the refund, the event. */
async function takeBack(tx: Tx, viewer: Viewer, location: Location, input: CreateReturnInput, now: Date): Promise<{ returnId: string; out: RefundOutcome }> {
  const actor = actorOf(viewer);
  const channel = channelOf(viewer);
  const order = await lockOrder(tx, input.orderId);
  const authorised = input.authorisationId ? await authorisationFor(tx, input.authorisationId, order.id, input.lines) : null;
  const plan = await planReturn(tx, order, input.lines, !!input.overrideReason || authorised !== null, now, ['input', 'lines']);
  const overrideReason = input.overrideReason ?? null;
  const returnId = await receiveReturn(tx, plan, { location, channel, actor, refundMethod: input.refundMethod, overrideReason, now });
  if (authorised) await tx.update(returnAuthorisations).set({ status: 'RECEIVED', returnId }).where(eq(returnAuthorisations.id, authorised.id));
  const ledger: LedgerContext = { channel, locationId: location.id, actor, orderId: order.id, returnId, now };
  const out = await refundOrder(tx, {
    order,
    amount: plan.value,
    reason: 'RETURN',
    method: input.refundMethod,
    returnId,
    ctx: ledger,
    till: location.type === 'STORE' ? tillOf(viewer) : null,
  });
  await recordRefundOutcome(tx, returnId, out);
  await refreshOrderStatus(tx, order.id);
  await recordEvent(tx, {
    order,
    kind: 'RETURN_RECEIVED',
    channel,
    locationId: location.id,
    returnId,
    summary: `Returned ${items(plan)} at ${location.name} (order ${order.number}); ${refundsText(out.refunds, order.currencyCode, out.deducted)}`,
    payload: { overrideReason },
    actor,
    at: now,
  });
  return { returnId, out };
}

export async function createReturn(db: Db, viewer: Viewer, input: CreateReturnInput, clock: Clock): Promise<Return> {
  const location = await receivingLocation(db, viewer, input.locationId);
  requireOverrideRight(viewer, input.overrideReason);
  const scope = { actor: actorOf(viewer), key: input.idempotencyKey, operation: 'createReturn', request: input };
  const { returnId } = await replayOr(db, scope, () => inTransaction(db, (tx) => once(tx, scope, async () => ({ returnId: (await takeBack(tx, viewer, location, input, clock())).returnId }))));
  return returnOrFail(db, returnId);
}

class Previewed extends Error {
  constructor(readonly outcome: RefundOutcome) {
    super('previewed');
  }
}

/**
 * What createReturn would do now (every rule, the refund split over the tenders, the points taken back, a
 * shortfall kept back, a drawer too short for cash), by doing it in a transaction that is then rolled back:
 * nothing is written, no event is published.
 */
export async function previewReturn(db: Db, viewer: Viewer, input: CreateReturnInput, clock: Clock): Promise<RefundOutcome> {
  const location = await receivingLocation(db, viewer, input.locationId);
  requireOverrideRight(viewer, input.overrideReason);
  try {
    await inTransaction(db, async (tx) => {
      throw new Previewed((await takeBack(tx, viewer, location, input, clock())).out);
    });
  } catch (err) {
    if (err instanceof Previewed) return err.outcome;
    throw err;
  }
  throw new Error('unreachable');
}

/**
 * A return and a new carry-out sale at the same till in one transaction; only the difference moves. The
 * returned goods' value first pays for the new goods (carryOver: the original tenders' shares become the
 * new order's tenders, with the earned points on them); the shopper pays what is missing with `tenders`,
 * or gets the excess back through refundOrder. Points are earned only on the money paid for the difference.
 */
export async function createExchange(
  db: Db,
  viewer: Viewer,
  input: CreateExchangeInput,
  clock: Clock,
): Promise<{ return: Return; order: Order; difference: number; changeDue: number; currencyCode: string }> {
  if (viewer.kind !== 'staff') fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Exchanges are made at a store till.');
  const actor = actorOf(viewer);
  const channel: Channel = 'POS';
  const scope = { actor, key: input.idempotencyKey, operation: 'createExchange', request: input };
  const result = await replayOr(db, scope, async () => {
    const store = await receivingLocation(db, viewer, null);
    requireOverrideRight(viewer, input.overrideReason);
    const found = await resolveSellableSkus(db, input.newLines, ['input', 'newLines']);
    await ensureNumbering(db, numberScope(channel, store.code));
    return inTransaction(db, (tx) =>
      once(tx, scope, async () => {
        const now = clock();
        const order = await lockOrder(tx, input.orderId);
        // The new goods are priced with the promotions active at the exchange, at this store.
        const { priced } = priceLines(found, input.newLines, ['input', 'newLines'], order.currencyCode);
        const promo = { channel, locationId: store.id, customerId: order.customerId, now, codes: [] };
        const { total: newTotal, discounts } = await applyPromotions(tx, priced, promo, ['input', 'newLines']);

        // 1. Decide everything that can fail on input before writing.
        const plan = await planReturn(tx, order, input.returnLines, !!input.overrideReason, now, ['input', 'returnLines']);
        const s = settleExchange(newTotal, plan.value);
        if (s.pay === 0 && input.tenders.length > 0)
          fail('TENDER_MISMATCH', `Nothing to pay: the returned goods (${formatMoney(plan.value, order.currencyCode)}) cover the new ones.`, ['input', 'tenders']);
        const accepted = s.pay > 0 ? acceptTenders(s.pay, input.tenders, { channel, hasCustomer: order.customerId !== null }) : { tenders: [], changeDue: 0 };
        await findGiftCards(db, accepted.tenders, order.currencyCode, actor);

        // 2. The goods back on this store's shelf.
        const overrideReason = input.overrideReason ?? null;
        const returnId = await receiveReturn(tx, plan, { location: store, channel, actor, refundMethod: input.refundMethod, overrideReason, now });

        // 3. The new carry-out, written like any till sale, paid by the carried value plus the difference.
        const orderId = newId();
        const carried = await carryOver(tx, order, s.carry);
        const customerId = order.customerId;
        const field = (variantId: string) => ['input', 'newLines', priced.find((l) => l.variant.id === variantId)!.index, 'quantity'];
        const lines = priced.map((l) => ({ variantId: l.variant.id, quantity: l.quantity, sourceLocationId: store.id }));
        const plans = [{ id: newId(), type: 'CARRY_OUT' as const, locationId: store.id, status: 'FULFILLED' as const, address: null, lines, stock: 'SELL' as const, transferFrom: null }];
        const carryOut = { type: 'CARRY_OUT' as const, pickupStore: null, address: null, point: null };
        const count = itemCount(priced.reduce((n, l) => n + l.quantity, 0));
        const { number } = await writeOrder(tx, {
          id: orderId,
          channel,
          actor,
          now,
          till: store,
          terminalId: viewer.terminalId,
          salesAssociateId: viewer.staffId,
          customerId,
          currencyCode: order.currencyCode,
          total: newTotal,
          lines: priced,
          groups: [{ fulfilment: carryOut, lines: priced, plans }],
          discounts,
          paid: accepted.tenders,
          carried,
          field,
          returnId,
          summary: (n) => `Order ${n} placed (exchange for order ${order.number}, ${count})`,
        });

        // 4. The excess back to the shopper, as a return would refund it.
        const out = await refundOrder(tx, {
          order,
          amount: s.refund,
          reason: 'EXCHANGE',
          method: input.refundMethod,
          returnId,
          till: tillOf(viewer),
          ctx: { channel, locationId: store.id, actor, orderId: order.id, returnId, now },
        });
        await recordRefundOutcome(tx, returnId, out);
        await refreshOrderStatus(tx, order.id);

        const difference = s.pay > 0 ? s.pay : -(s.refund - out.deducted);
        const money = difference > 0 ? `paid ${formatMoney(difference, order.currencyCode)}` : s.refund > 0 ? refundsText(out.refunds, order.currencyCode, out.deducted) : 'even exchange';
        const productTitles = new Map(
          (await tx.select({ id: products.id, title: products.title }).from(products).where(inArray(products.id, priced.map((l) => l.variant.productId)))).map((p) => [p.id, p.title]),
        );
        const newItems = itemsText(priced.map((l) => ({ quantity: l.quantity, title: `${productTitles.get(l.variant.productId)} (${l.variant.title})` })));
        await recordEvent(tx, {
          order,
          kind: 'RETURN_RECEIVED',
          channel,
          locationId: store.id,
          returnId,
          summary: `Exchanged ${items(plan)} for ${newItems} at ${store.name} (order ${order.number}, new order ${number}); ${money}`,
          payload: { exchangeOrderId: orderId, overrideReason },
          actor,
          at: now,
        });
        return { returnId, orderId, difference, changeDue: accepted.changeDue };
      }),
    );
  });
  const newOrder = await orderOrFail(db, result.orderId);
  return { return: await returnOrFail(db, result.returnId), order: newOrder, difference: result.difference, changeDue: result.changeDue, currencyCode: newOrder.currencyCode };
}

// ---- returns authorised by phone --------------------------------------------------------------------------

export type ReturnAuthorisation = typeof returnAuthorisations.$inferSelect;
export type AuthorisedLine = { orderLineId: string; quantity: number; reason: string | null };

/**
 * The contact centre (an agent acting for a customer they looked up) or head office authorises a return: the
 * lines are checked against the policy now (window, final sale, quantities), and the shopper then brings the
 * goods to any store that takes returns or mails them to a warehouse, within or after the window.
 */
export async function authoriseReturn(
  db: Db,
  viewer: Viewer,
  input: { idempotencyKey: string; orderId: string; lines: { orderLineId: string; quantity: number; reason?: string | null }[] },
  clock: Clock,
): Promise<ReturnAuthorisation> {
  const agent = viewer.kind === 'staff' && viewer.channel === 'CONTACT_CENTRE';
  if (!agent && viewer.kind !== 'admin') fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Returns are authorised by the contact centre or head office; a store takes them back directly.');
  const actor = actorOf(viewer);
  const scope = { actor, key: input.idempotencyKey, operation: 'authoriseReturn', request: input };
  const id = await replayOr(db, scope, async () => {
    const order = await orderOrFail(db, input.orderId);
    if (viewer.kind === 'staff' && !(order.customerId && (await isContactOf(db, viewer.staffId, order.customerId)))) fail('NOT_FOUND', 'No such order.', ['input', 'orderId']);
    return inTransaction(db, (tx) =>
      once(tx, scope, async () => {
        const now = clock();
        const locked = await lockOrder(tx, order.id);
        const lines = input.lines.map((l) => ({ ...l, condition: 'RESALEABLE' as const }));
        const plan = await planReturn(tx, locked, lines, false, now, ['input', 'lines']);
        const [row] = await tx
          .insert(returnAuthorisations)
          .values({ orderId: order.id, lines: input.lines.map((l): AuthorisedLine => ({ orderLineId: l.orderLineId, quantity: l.quantity, reason: l.reason ?? null })), actor, createdAt: now })
          .returning({ id: returnAuthorisations.id });
        await recordEvent(tx, {
          order: locked,
          kind: 'RETURN_AUTHORISED',
          channel: channelOf(viewer),
          locationId: viewer.kind === 'staff' ? viewer.locationId : null,
          summary: `Return of ${items(plan)} authorised (order ${locked.number}): bring it to any store or mail it to a warehouse`,
          actor,
          at: now,
        });
        return row!.id;
      }),
    );
  });
  return (await returnAuthorisationsByIds(db, [id]))[0]!;
}

/** An open authorisation of this order that covers the lines taken back (each line at most its authorised quantity). */
async function authorisationFor(tx: Tx, id: string, orderId: string, lines: readonly ReturnLineInput[]): Promise<ReturnAuthorisation> {
  const field = ['input', 'authorisationId'];
  const [rma] = await tx.select().from(returnAuthorisations).where(eq(returnAuthorisations.id, id)).for('update');
  if (!rma || rma.orderId !== orderId) fail('NOT_FOUND', 'No such return authorisation for this order.', field);
  if (rma.status !== 'OPEN') fail('INVALID_STATE', 'This authorised return was already taken back.', field);
  const allowed = new Map<string, number>();
  for (const l of rma.lines as AuthorisedLine[]) allowed.set(l.orderLineId, (allowed.get(l.orderLineId) ?? 0) + l.quantity);
  lines.forEach((l, i) => {
    const left = allowed.get(l.orderLineId) ?? 0;
    if (l.quantity > left) fail('QUANTITY_EXCEEDS_RETURNABLE', `The authorisation covers ${left} more of this line.`, ['input', 'lines', i, 'quantity']);
    allowed.set(l.orderLineId, left - l.quantity);
  });
  return rma;
}

export const returnAuthorisationsByIds = (q: Queryable, ids: readonly string[]) => q.select().from(returnAuthorisations).where(inArray(returnAuthorisations.id, [...ids]));
export const returnAuthorisationsByOrderIds = (q: Queryable, ids: readonly string[]) =>
  q.select().from(returnAuthorisations).where(inArray(returnAuthorisations.orderId, [...ids])).orderBy(asc(returnAuthorisations.createdAt));

// ---- reads (loaders) -------------------------------------------------------------------------------------

export async function returnOrFail(q: Queryable, id: string): Promise<Return> {
  const [r] = await q.select().from(returns).where(eq(returns.id, id));
  if (!r) fail('NOT_FOUND', 'No such return.');
  return r;
}

export const returnsByIds = (q: Queryable, ids: readonly string[]) => q.select().from(returns).where(inArray(returns.id, [...ids]));
export const returnsByOrderIds = (q: Queryable, ids: readonly string[]) =>
  q.select().from(returns).where(inArray(returns.orderId, [...ids])).orderBy(asc(returns.createdAt), asc(returns.id));
export const returnLinesByReturnIds = (q: Queryable, ids: readonly string[]) =>
  q.select().from(returnLines).where(inArray(returnLines.returnId, [...ids])).orderBy(asc(returnLines.id));
export { refundsByReturnIds } from '../orders/queries';

export interface ReturnsFilter {
  locationId?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/**
 * returns(filter:): one statement for a page, newest first (keyset on the time-ordered id). Staff see the returns
 * received at their store, an agent those of the customers they looked up, a customer those of their orders.
 */
export function listReturns(q: Queryable, scope: ListScope, f: ReturnsFilter, before: string | null, limit: number): Promise<Return[]> {
  const ofCustomers = (customerIds: SQL) => sql`${returns.orderId} in (select id from ${orders} where customer_id in (${customerIds}))`;
  return q
    .select()
    .from(returns)
    .where(
      and(
        scope.kind === 'location' ? eq(returns.locationId, scope.locationId) : undefined,
        scope.kind === 'customer' ? ofCustomers(sql`${scope.customerId}::uuid`) : undefined,
        scope.kind === 'contacts' ? ofCustomers(sql`select customer_id from ${customerContacts} where staff_id = ${scope.staffId}`) : undefined,
        f.locationId ? eq(returns.locationId, f.locationId) : undefined,
        f.createdAfter ? gte(returns.createdAt, f.createdAfter) : undefined,
        f.createdBefore ? lt(returns.createdAt, f.createdBefore) : undefined,
        before ? lt(returns.id, before) : undefined,
      ),
    )
    .orderBy(desc(returns.id))
    .limit(limit);
}
