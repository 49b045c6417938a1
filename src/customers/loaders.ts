import type { Db } from '../db';
import { pagedBy } from '../lib/paged-loader';
import { timelinePage } from './service';

/** Per-request loaders of the customers domain. */
export function createCustomerLoaders(db: Db) {
  return {
    timelinePage: pagedBy((ids, first, after) => timelinePage(db, ids, first, after), (r) => r.customerId),
  };
}
