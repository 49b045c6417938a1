import { inArray } from 'drizzle-orm';
import type { Db } from '../db';
import { customers, staffMembers } from '../../schema/index';
import { byKey, groupedBy } from '../lib/loader';
import { pickupCodeLocks } from '../pickup/service';
import { createInventoryLoaders } from '../inventory/loaders';
import { createOrderLoaders } from '../orders/loaders';
import { createReturnLoaders } from '../returns/loaders';
import { locationsByIds } from '../locations/service';
import { productsByIds, variantsByIds, variantsByProductIds } from '../catalog/service';
import { createLoyaltyLoaders } from '../loyalty/loaders';
import { createCustomerLoaders } from '../customers/loaders';
import { createCartLoaders } from '../carts/loaders';
import { promotionsByIds, usesOf } from '../promotions/service';
import { webhookDeliveriesByIds, webhookEndpointsByIds } from '../events/webhooks';
import { staffLocksByCodes } from '../access/service';
import { auditEntriesByIds } from '../audit/service';

/**
 * Every DataLoader of a request, created per request (so caches never outlive it). `readDb` serves the
 * lag-tolerant ones (availability, a product's variants, timelines): the replica in a query (context.ts, routeReads).
 */
export function createLoaders(db: Db, readDb: Db = db) {
  return lazily({
    location: () => byKey((ids: readonly string[]) => locationsByIds(db, ids), (r) => r.id),
    pickupCodeLock: () => byKey((ids: readonly string[]) => pickupCodeLocks(db, ids), (r) => r.fulfilmentId),
    product: () => byKey((ids: readonly string[]) => productsByIds(db, ids), (r) => r.id),
    variant: () => byKey((ids: readonly string[]) => variantsByIds(db, ids), (r) => r.id),
    customer: () => byKey((ids: readonly string[]) => db.select().from(customers).where(inArray(customers.id, [...ids])), (r) => r.id),
    auditEntry: () => byKey((ids: readonly string[]) => auditEntriesByIds(db, ids), (r) => r.id),
    staffLock: () => byKey((codes: readonly string[]) => staffLocksByCodes(db, codes), (r) => r.staffCode),
    staffMember: () => byKey((ids: readonly string[]) => db.select().from(staffMembers).where(inArray(staffMembers.id, [...ids])), (r) => r.id),
    inventory: () => createInventoryLoaders(db, readDb),
    orders: () => createOrderLoaders(db),
    returns: () => createReturnLoaders(db),
    variantsByProduct: () => groupedBy((ids: readonly string[]) => variantsByProductIds(readDb, ids), (r) => r.productId),
    loyalty: () => createLoyaltyLoaders(db),
    customers: () => createCustomerLoaders(db, readDb),
    carts: () => createCartLoaders(db),
    promotion: () => byKey((ids: readonly string[]) => promotionsByIds(db, ids), (r) => r.id),
    promotionUses: () => byKey((ids: readonly string[]) => usesOf(db, ids), (r) => r.promotionId),
    webhookEndpoint: () => byKey((ids: readonly string[]) => webhookEndpointsByIds(db, ids), (r) => r.id),
    webhookDelivery: () => byKey((ids: readonly string[]) => webhookDeliveriesByIds(db, ids), (r) => r.id),
  });
}
export type Loaders = ReturnType<typeof createLoaders>;

/** An object whose properties are made on first read (a request uses a few of its loaders; most requests none). */
function lazily<T extends Record<string, () => unknown>>(makers: T): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const made = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const [key, make] of Object.entries(makers))
    Object.defineProperty(made, key, {
      enumerable: true,
      configurable: true,
      get() {
        const value = make();
        Object.defineProperty(made, key, { value, enumerable: true });
        return value;
      },
    });
  return made;
}
