import DataLoader from 'dataloader';

/** A DataLoader over a batch query returning rows keyed by `keyOf`; results come back in key order. */
export function byKey<K, V>(batch: (keys: readonly K[]) => Promise<V[]>, keyOf: (row: V) => K) {
  return new DataLoader<K, V | null>(async (keys) => {
    const rows = await batch(keys);
    const map = new Map(rows.map((r) => [keyOf(r), r]));
    return keys.map((k) => map.get(k) ?? null);
  });
}

/** A DataLoader for one-to-many children: every key gets its (possibly empty) list. */
export function groupedBy<K, V>(batch: (keys: readonly K[]) => Promise<V[]>, keyOf: (row: V) => K) {
  return new DataLoader<K, V[]>(async (keys) => {
    const rows = await batch(keys);
    const map = new Map<K, V[]>();
    for (const r of rows) {
      const k = keyOf(r);
      const list = map.get(k);
      if (list) list.push(r);
      else map.set(k, [r]);
    }
    return keys.map((k) => map.get(k) ?? []);
  });
}

/** Loads every key (errors propagate), for Relay `node(id)` resolution. */
export const loadAll = <K, V>(loader: DataLoader<K, V>, keys: readonly K[]): Promise<V[]> =>
  Promise.all(keys.map((k) => loader.load(k)));
