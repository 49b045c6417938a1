import DataLoader from 'dataloader';
import { inArray } from 'drizzle-orm';
import { stockMovements } from '../../schema/index';
import type { Db } from '../db';
import { groupedBy, byKey } from '../lib/loader';
import { availabilityFor, totalAvailable, transferLinesOf, transfersByFulfilmentIds, transfersByIds } from './service';

type AvailabilityArgs = Parameters<typeof availabilityFor>[2];

/**
 * Inventory reads batched per request: a page of variants asks for availability in one statement. Availability
 * is read through `readDb` (the replica in a query); movements and transfers, staff records, on the primary.
 */
export function createInventoryLoaders(db: Db, readDb: Db = db) {
  const byArgs = new Map<string, DataLoader<string, Awaited<ReturnType<typeof availabilityFor>>>>();
  return {
    totalAvailable: byKey((ids: readonly string[]) => totalAvailable(readDb, ids), (r) => r.variantId),
    availability(args: AvailabilityArgs) {
      const key = JSON.stringify(args);
      let loader = byArgs.get(key);
      if (!loader) {
        loader = groupedBy((ids: readonly string[]) => availabilityFor(readDb, ids, args), (r) => r.variantId);
        byArgs.set(key, loader);
      }
      return loader;
    },
    movement: byKey((ids: readonly string[]) => db.select().from(stockMovements).where(inArray(stockMovements.id, [...ids])), (r) => r.id),
    transfer: byKey((ids: readonly string[]) => transfersByIds(db, ids), (r) => r.id),
    /** The ship-to-store transfer of each pickup fulfilment (at most one). */
    transferByFulfilment: byKey((ids: readonly string[]) => transfersByFulfilmentIds(db, ids), (r) => r.fulfilmentId!),
    transferLines: groupedBy((ids: readonly string[]) => transferLinesOf(db, ids), (r) => r.transferId),
  };
}
