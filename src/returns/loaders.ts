import type { Db } from '../db';
import { byKey, groupedBy } from '../lib/loader';
import { refundsByReturnIds, returnAuthorisationsByIds, returnAuthorisationsByOrderIds, returnLinesByReturnIds, returnsByIds, returnsByOrderIds } from './service';

/** Per-request loaders of the returns domain: N orders' returns, lines and refunds cost one statement per kind. */
export function createReturnLoaders(db: Db) {
  return {
    return: byKey((ids: readonly string[]) => returnsByIds(db, ids), (r) => r.id),
    byOrder: groupedBy((ids: readonly string[]) => returnsByOrderIds(db, ids), (r) => r.orderId),
    lines: groupedBy((ids: readonly string[]) => returnLinesByReturnIds(db, ids), (r) => r.returnId),
    authorisation: byKey((ids: readonly string[]) => returnAuthorisationsByIds(db, ids), (r) => r.id),
    authorisationsByOrder: groupedBy((ids: readonly string[]) => returnAuthorisationsByOrderIds(db, ids), (r) => r.orderId),
    refunds: groupedBy((ids: readonly string[]) => refundsByReturnIds(db, ids), (r) => r.returnId!),
  };
}
