import { and, asc, desc, eq, gte, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { orders, orderLines, orderDiscounts, fulfilments, fulfilmentLines, tenders, refunds, staffMembers, orderEvents, customerContacts } from '../../schema/index';
import { isManager, type Viewer } from '../access/viewer';
import type { ListScope } from '../access/guards';
import type { Queryable } from '../db';
import { fail } from '../lib/errors';
import { parentIds } from '../lib/paged-loader';

// The order book's rows and its reads. Reads take the pool or a transaction; loaders call the batch ones.

export type Order = typeof orders.$inferSelect;
export type OrderLine = typeof orderLines.$inferSelect;
export type Fulfilment = typeof fulfilments.$inferSelect;
export type FulfilmentType = Fulfilment['type'];
export type FulfilmentStatus = Fulfilment['status'];
export type Tender = typeof tenders.$inferSelect;
export type Refund = typeof refunds.$inferSelect;

/** Fulfilment states that still hold stock for the shopper. */
export const PENDING = ['ALLOCATED', 'IN_TRANSIT', 'READY_FOR_PICKUP'] as const satisfies FulfilmentStatus[];

export async function orderOrFail(q: Queryable, orderId: string, field: string[] = ['input', 'orderId']): Promise<Order> {
  const [o] = await q.select().from(orders).where(eq(orders.id, orderId));
  if (!o) fail('NOT_FOUND', 'No such order.', field);
  return o;
}

export async function fulfilmentOrFail(q: Queryable, id: string): Promise<Fulfilment> {
  const [f] = await q.select().from(fulfilments).where(eq(fulfilments.id, id));
  if (!f) fail('NOT_FOUND', 'No such fulfilment.', ['input', 'fulfilmentId']);
  return f;
}

/** A fulfilment's lines with the variant each order line sold, for stock movements (refunds: paidValue). */
export const fulfilmentLinesWithVariant = (q: Queryable, fulfilmentId: string) =>
  q
    .select({ orderLineId: fulfilmentLines.orderLineId, quantity: fulfilmentLines.quantity, variantId: orderLines.variantId })
    .from(fulfilmentLines)
    .innerJoin(orderLines, eq(orderLines.id, fulfilmentLines.orderLineId))
    .where(eq(fulfilmentLines.fulfilmentId, fulfilmentId));

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
export const discountsByOrderIds = (q: Queryable, ids: readonly string[]) =>
  q.select().from(orderDiscounts).where(inArray(orderDiscounts.orderId, [...ids])).orderBy(asc(orderDiscounts.position));
export const refundsByOrderIds = (q: Queryable, ids: readonly string[]) => q.select().from(refunds).where(inArray(refunds.orderId, [...ids])).orderBy(asc(refunds.id));
/** What a return gave back, per tender. */
export const refundsByReturnIds = (q: Queryable, ids: readonly string[]) =>
  q.select().from(refunds).where(inArray(refunds.returnId, [...ids])).orderBy(asc(refunds.id));

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

/** A store's pickups in the given state (default: every one still waiting), oldest first. */
export const pickupsAt = (q: Queryable, locationId: string, status: FulfilmentStatus | null) =>
  q
    .select()
    .from(fulfilments)
    .where(and(eq(fulfilments.locationId, locationId), eq(fulfilments.type, 'PICKUP'), status ? eq(fulfilments.status, status) : inArray(fulfilments.status, [...PENDING])))
    .orderBy(asc(fulfilments.createdAt), asc(fulfilments.id))
    .limit(500);

/** Pickups ready for collection whose hold ended at or before `asOf`, oldest hold first. */
export const pickupsDue = (q: Queryable, asOf: Date, limit: number) =>
  q
    .select()
    .from(fulfilments)
    .where(and(eq(fulfilments.type, 'PICKUP'), eq(fulfilments.status, 'READY_FOR_PICKUP'), lte(fulfilments.expiresAt, asOf)))
    .orderBy(asc(fulfilments.expiresAt))
    .limit(limit);

/**
 * Sales credited per associate in [from, to): orders of goods not cancelled, their totals, for head office (one store
 * or all) and managers (their store). The store is the associate's.
 */
export async function salesByAssociate(q: Queryable, viewer: Viewer, f: { locationId: string | null; from: Date; to: Date }) {
  if (viewer.kind !== 'admin' && !isManager(viewer)) fail('FORBIDDEN', 'Sales per associate are for head office and store managers.');
  if (viewer.kind === 'staff' && f.locationId && f.locationId !== viewer.locationId) fail('FORBIDDEN', 'A manager sees their own store.', ['locationId']);
  const locationId = viewer.kind === 'staff' ? viewer.locationId : f.locationId;
  if (!(f.from < f.to)) fail('INVALID_INPUT', '`from` comes before `to`.', ['to']);
  const rows = await q
    .select({ staffId: orders.salesAssociateId, orders: sql<number>`count(*)::int`, total: sql<number>`coalesce(sum(${orders.total}), 0)::bigint` })
    .from(orders)
    .innerJoin(staffMembers, eq(staffMembers.id, orders.salesAssociateId))
    .where(
      and(
        gte(orders.createdAt, f.from),
        lt(orders.createdAt, f.to),
        isNull(orders.cancelledAt),
        // Goods only: a gift card sold is money held for a later sale, credited when it is spent.
        sql`exists (select 1 from ${orderLines} where ${orderLines.orderId} = ${orders.id})`,
        locationId ? eq(staffMembers.locationId, locationId) : undefined,
      ),
    )
    .groupBy(orders.salesAssociateId)
    .orderBy(sql`3 desc`);
  return rows.map((r) => ({ staffId: r.staffId!, orders: r.orders, total: Number(r.total) }));
}

/** Offline sales that may have taken units held for these pickups (STOCK_CONFLICT events). */
export const stockConflictsByFulfilmentIds = (q: Queryable, ids: readonly string[]) =>
  q
    .select({ fulfilmentId: orderEvents.fulfilmentId, summary: orderEvents.summary })
    .from(orderEvents)
    .where(and(inArray(orderEvents.fulfilmentId, [...ids]), eq(orderEvents.kind, 'STOCK_CONFLICT')))
    .orderBy(asc(orderEvents.createdAt));

export interface OrdersFilter {
  status?: Order['status'] | null;
  channel?: Order['channel'] | null;
  locationId?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/** Sold at the store (POS) or fulfilled there (pickup, carry-out, ship-from-store). */
const atLocation = (locationId: string) =>
  or(eq(orders.locationId, locationId), sql`exists (select 1 from ${fulfilments} f where f.order_id = ${orders.id} and f.location_id = ${locationId})`);

/** orders(filter:): one statement for a page, newest first (keyset on the time-ordered id), within the viewer's scope. */
export function listOrders(q: Queryable, scope: ListScope, f: OrdersFilter, before: string | null, limit: number): Promise<Order[]> {
  return q
    .select()
    .from(orders)
    .where(
      and(
        scope.kind === 'location' ? atLocation(scope.locationId) : undefined,
        scope.kind === 'customer' ? eq(orders.customerId, scope.customerId) : undefined,
        scope.kind === 'contacts' ? sql`${orders.customerId} in (select customer_id from ${customerContacts} where staff_id = ${scope.staffId})` : undefined,
        f.locationId ? atLocation(f.locationId) : undefined,
        f.status ? eq(orders.status, f.status) : undefined,
        f.channel ? eq(orders.channel, f.channel) : undefined,
        f.createdAfter ? gte(orders.createdAt, f.createdAfter) : undefined,
        f.createdBefore ? lt(orders.createdAt, f.createdBefore) : undefined,
        before ? lt(orders.id, before) : undefined,
      ),
    )
    .orderBy(desc(orders.id))
    .limit(limit);
}
