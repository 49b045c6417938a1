import type { Db } from '../db';
import type { Order } from './queries';
import { byKey, groupedBy } from '../lib/loader';
import { pagedBy } from '../lib/paged-loader';
import {
  fulfilmentLinesByFulfilmentIds,
  fulfilmentsByIds,
  fulfilmentsByOrderIds,
  linesByOrderIds,
  orderLinesByIds,
  ordersByIds,
  ordersOfCustomers,
  refundsByOrderIds,
  discountsByOrderIds,
  tendersByOrderIds,
  stockConflictsByFulfilmentIds,
} from './queries';

/** An order page with lines, fulfilments and tenders costs one statement per kind, whatever its size. */
export function createOrderLoaders(db: Db) {
  const order = byKey((ids: readonly string[]) => ordersByIds(db, ids), (r) => r.id);
  const orderLine = byKey((ids: readonly string[]) => orderLinesByIds(db, ids), (r) => r.id);
  return {
    order,
    orderLine,
    /** A page of orders per customer (newest first, keyset on id): one statement for a page of customers. */
    ordersByCustomer: pagedBy<Order, string>((ids, first, before) => ordersOfCustomers(db, ids, first, before), (r) => r.customerId!),
    linesByOrder: groupedBy((ids: readonly string[]) => linesByOrderIds(db, ids), (r) => r.orderId),
    fulfilment: byKey((ids: readonly string[]) => fulfilmentsByIds(db, ids), (r) => r.id),
    fulfilmentsByOrder: groupedBy((ids: readonly string[]) => fulfilmentsByOrderIds(db, ids), (r) => r.orderId),
    fulfilmentLines: groupedBy((ids: readonly string[]) => fulfilmentLinesByFulfilmentIds(db, ids), (r) => r.fulfilmentId),
    tendersByOrder: groupedBy((ids: readonly string[]) => tendersByOrderIds(db, ids), (r) => r.orderId),
    discountsByOrder: groupedBy((ids: readonly string[]) => discountsByOrderIds(db, ids), (r) => r.orderId),
    refundsByOrder: groupedBy((ids: readonly string[]) => refundsByOrderIds(db, ids), (r) => r.orderId),
    stockConflicts: groupedBy((ids: readonly string[]) => stockConflictsByFulfilmentIds(db, ids), (r) => r.fulfilmentId!),
  };
}
