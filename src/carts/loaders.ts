import DataLoader from 'dataloader';
import type { Db } from '../db';
import type { Channel } from '../access/viewer';
import { byKey } from '../lib/loader';
import { cartsByIds, cartViews, type Cart, type CartView } from './service';

/** Per-request cart loaders: a cart's lines, prices, availability and points in a constant number of statements. */
export function createCartLoaders(db: Db) {
  const views = new Map<string, DataLoader<Cart, CartView, string>>();
  return {
    cart: byKey((ids: readonly string[]) => cartsByIds(db, ids), (r) => r.id),
    /** Views priced for a caller in `channel` at `tillId` (carry-out lines promise that store's shelf). */
    view(tillId: string | null, channel: Channel, now: Date) {
      const key = `${channel}@${tillId}`;
      let loader = views.get(key);
      if (!loader) {
        loader = new DataLoader<Cart, CartView, string>(
          async (list) => {
            const byId = await cartViews(db, list, { tillId, channel, now });
            return list.map((c) => byId.get(c.id)!);
          },
          { cacheKeyFn: (c) => `${c.id}@${c.updatedAt.getTime()}` },
        );
        views.set(key, loader);
      }
      return loader;
    },
  };
}
