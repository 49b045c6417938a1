/** A quantity of one variant at one location. */
export interface StockLine {
  locationId: string;
  variantId: string;
  quantity: number;
}

/**
 * Sums quantities per (location, variant) and sorts by that key: a two-line order of one SKU is checked
 * on its sum (Medusa #16502), and every transaction locks levels in the same order (no deadlocks).
 */
export function aggregate(lines: readonly StockLine[]): StockLine[] {
  const sums = new Map<string, StockLine>();
  for (const l of lines) {
    const key = `${l.locationId}/${l.variantId}`;
    const s = sums.get(key);
    if (s) s.quantity += l.quantity;
    else sums.set(key, { ...l });
  }
  return [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l);
}

/** What a remote channel may promise. */
export const available = (l: { onHand: number; reserved: number; safetyStock: number }) =>
  Math.max(0, l.onHand - l.reserved - l.safetyStock);

/** Great-circle distance in km (used to document and test the SQL formula in service.ts). */
export function haversineKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }) {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
}

// ---- sourcing: where an order's goods come from (the queries are in sourcing.ts) ---------------------------------------------------------------------------------------

export interface Demand {
  variantId: string;
  quantity: number;
}

export interface Candidate {
  locationId: string;
  type: 'STORE' | 'WAREHOUSE';
  /** Distance to the delivery address; null when unknown (then warehouses first, then by code). */
  distanceKm: number | null;
  code: string;
  available: ReadonlyMap<string, number>;
}

export interface Allocation {
  locationId: string;
  lines: Demand[];
}

const nearest = (a: Candidate, b: Candidate) =>
  (a.distanceKm ?? Infinity) - (b.distanceKm ?? Infinity) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
const warehousesFirst = (a: Candidate, b: Candidate) => (a.type === b.type ? 0 : a.type === 'WAREHOUSE' ? -1 : 1) || nearest(a, b);

/**
 * Picks where a delivery ships from: one location that has everything when there is one (warehouses first,
 * then nearest); otherwise, greedily, the location that covers most of what is still missing (ties by the
 * same preference), so the order splits as little as possible. Returns null when stock is short everywhere.
 * The candidates are warehouses and stores that ship to customers; the caller filters them. A ship-to-store
 * pickup asks for the `nearest` location instead, whatever its type.
 */
export function chooseSources(
  demand: readonly Demand[],
  candidates: readonly Candidate[],
  order: 'warehousesFirst' | 'nearest' = 'warehousesFirst',
): Allocation[] | null {
  const sorted = [...candidates].sort(order === 'nearest' ? nearest : warehousesFirst);
  const whole = sorted.find((c) => demand.every((d) => (c.available.get(d.variantId) ?? 0) >= d.quantity));
  if (whole) return [{ locationId: whole.locationId, lines: demand.map((d) => ({ ...d })) }];

  const missing = new Map(demand.map((d) => [d.variantId, d.quantity]));
  const left = new Map(sorted.map((c) => [c.locationId, new Map(c.available)]));
  const result = new Map<string, Map<string, number>>();
  while ([...missing.values()].some((q) => q > 0)) {
    let best: Candidate | null = null;
    let bestUnits = 0;
    for (const c of sorted) {
      const avail = left.get(c.locationId)!;
      let units = 0;
      for (const [v, q] of missing) units += Math.min(q, avail.get(v) ?? 0);
      if (units > bestUnits) {
        best = c;
        bestUnits = units;
      }
    }
    if (!best) return null;
    const avail = left.get(best.locationId)!;
    const take = result.get(best.locationId) ?? new Map<string, number>();
    for (const [v, q] of missing) {
      const n = Math.min(q, avail.get(v) ?? 0);
      if (n === 0) continue;
      take.set(v, (take.get(v) ?? 0) + n);
      avail.set(v, (avail.get(v) ?? 0) - n);
      missing.set(v, q - n);
    }
    result.set(best.locationId, take);
  }
  return [...result].map(([locationId, m]) => ({ locationId, lines: [...m].map(([variantId, quantity]) => ({ variantId, quantity })) }));
}
