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
