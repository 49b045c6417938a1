import DataLoader from 'dataloader';
import type { Db } from '../db';
import { pagedBy } from '../lib/paged-loader';
import { contactsAmong, timelinePage } from './service';

/** Per-request loaders of the customers domain; the timeline is read through `readDb` (the replica in a query). */
export function createCustomerLoaders(db: Db, readDb: Db = db) {
  const contacts = new Map<string, DataLoader<string, boolean>>();
  return {
    /** Whether a contact-centre agent may see each customer: one statement per page of customers. */
    contactOf(staffId: string) {
      let loader = contacts.get(staffId);
      if (!loader) {
        loader = new DataLoader<string, boolean>(async (ids) => {
          const seen = new Set((await contactsAmong(db, staffId, ids)).map((r) => r.customerId));
          return ids.map((id) => seen.has(id));
        });
        contacts.set(staffId, loader);
      }
      return loader;
    },
    timelinePage: pagedBy((ids, first, after) => timelinePage(readDb, ids, first, after), (r) => r.customerId),
  };
}
