import type { Db } from '../db';
import { byKey } from '../lib/loader';
import { pagedBy } from '../lib/paged-loader';
import { accountsByCustomerIds, entriesByIds, entriesPage, storeCreditByCustomerIds } from './service';

/** Per-request loaders of the loyalty domain: N customers cost one statement per kind of child. */
export function createLoyaltyLoaders(db: Db) {
  return {
    account: byKey((ids: readonly string[]) => accountsByCustomerIds(db, ids), (r) => r.customerId),
    storeCredit: byKey((ids: readonly string[]) => storeCreditByCustomerIds(db, ids), (r) => r.customerId),
    entry: byKey((ids: readonly string[]) => entriesByIds(db, ids), (r) => r.id),
    entriesPage: pagedBy((ids, first, after) => entriesPage(db, ids, first, after), (r) => r.customerId),
  };
}
