import { and, eq, inArray, sql } from 'drizzle-orm';
import { inventoryLevels, locations } from '../../schema/index';
import type { Tx } from '../db';
import { chooseSources, type Allocation, type Candidate, type Demand } from './rules';

/*
 * Sourcing: where an order's goods come from. Reads only; the guarded statements that reserve or sell
 * the stock decide, so a plan that raced another order fails there with INSUFFICIENT_STOCK.
 */

export type SourcingTarget =
  | { type: 'PICKUP'; storeId: string; latitude: number | null; longitude: number | null }
  | { type: 'DELIVERY'; latitude: number; longitude: number };

/**
 * One function for every remote fulfilment. Returns the allocations, or what cannot be sourced:
 * - PICKUP: what the pickup store has it keeps (first allocation, at the store); what it lacks comes from
 *   the one nearest location that has all of it (ship-to-store: a second allocation elsewhere).
 * - DELIVERY: warehouses first, then stores that ship, nearest to the address, fewest splits.
 */
export async function sourceDemand(tx: Tx, demand: readonly Demand[], target: SourcingTarget): Promise<{ allocations: Allocation[] } | { allocations: null; short: Demand[] }> {
  if (target.type === 'DELIVERY') {
    const allocations = chooseSources(demand, await candidatesFor(tx, demand, target, true));
    return allocations ? { allocations } : { allocations: null, short: [...demand] };
  }
  const levels = await tx
    .select({ variantId: inventoryLevels.variantId, available: sql<number>`greatest(0, on_hand - reserved - safety_stock)` })
    .from(inventoryLevels)
    .where(and(eq(inventoryLevels.locationId, target.storeId), inArray(inventoryLevels.variantId, demand.map((d) => d.variantId))));
  const here = new Map(levels.map((l) => [l.variantId, Number(l.available)]));
  const atStore = demand.filter((d) => (here.get(d.variantId) ?? 0) >= d.quantity);
  const missing = demand.filter((d) => (here.get(d.variantId) ?? 0) < d.quantity);
  const store: Allocation[] = atStore.length ? [{ locationId: target.storeId, lines: atStore }] : [];
  if (missing.length === 0) return { allocations: store };
  const candidates = (await candidatesFor(tx, missing, target, false)).filter((c) => c.locationId !== target.storeId);
  const origin = chooseSources(missing, candidates, 'nearest');
  if (!origin || origin.length !== 1) return { allocations: null, short: missing };
  return { allocations: [...store, origin[0]!] };
}

/** Locations that could send the demanded variants, with what they have and how far they are. */
async function candidatesFor(tx: Tx, demand: readonly Demand[], to: { latitude: number | null; longitude: number | null }, shippingOnly: boolean): Promise<Candidate[]> {
  const near = to.latitude != null && to.longitude != null ? { lat: to.latitude, lon: to.longitude } : null;
  const distance = near
    ? sql`2 * 6371.0088 * asin(least(1, sqrt(power(sin(radians(loc.latitude - ${near.lat}) / 2), 2)
        + cos(radians(${near.lat})) * cos(radians(loc.latitude)) * power(sin(radians(loc.longitude - ${near.lon}) / 2), 2))))`
    : sql`null::float8`;
  const rows = await tx.execute<{ locationId: string; type: 'STORE' | 'WAREHOUSE'; code: string; distanceKm: number | null; variantId: string; available: number }>(sql`
    select loc.id as "locationId", loc.type, loc.code, ${distance} as "distanceKm", l.variant_id as "variantId",
           greatest(0, l.on_hand - l.reserved - l.safety_stock)::int as available
      from ${inventoryLevels} l join ${locations} loc on loc.id = l.location_id
     where l.variant_id in (${sql.join(demand.map((d) => sql`${d.variantId}::uuid`), sql`, `)})
       and l.on_hand - l.reserved - l.safety_stock > 0
       ${shippingOnly ? sql`and (loc.type = 'WAREHOUSE' or loc.ships_to_customers)` : sql``}`);
  const byLocation = new Map<string, Candidate & { available: Map<string, number> }>();
  for (const r of rows) {
    const c = byLocation.get(r.locationId) ?? {
      locationId: r.locationId,
      type: r.type,
      code: r.code,
      distanceKm: r.distanceKm == null ? null : Number(r.distanceKm),
      available: new Map<string, number>(),
    };
    c.available.set(r.variantId, Number(r.available));
    byLocation.set(r.locationId, c);
  }
  return [...byLocation.values()];
}
