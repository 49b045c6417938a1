import type postgres from 'postgres';
import type { Db } from '../../src/db';
import { auditStock } from '../../src/inventory/service';

/** The stock invariants of docs/QUALITY.md over the whole database: levels = Σ movements, 0 ≤ reserved ≤ onHand. */
export async function stockAuditFailures(db: Db): Promise<number> {
  return [...(await auditStock(db))].length;
}

/**
 * Oversells of a variant at a location: units sold (order lines of orders placed there) beyond the units
 * received. Also checks the level against its movements. Returns the figures and the oversell count.
 */
export async function oversellCheck(pg: postgres.Sql, locationId: string, variantId: string) {
  const [row] = await pg<{ received: number; sold: number; on_hand: number; reserved: number; moved: number }[]>`
    select
      (select coalesce(sum(quantity), 0)::int from stock_movements
        where location_id = ${locationId} and variant_id = ${variantId} and kind = 'RECEIPT') as received,
      (select coalesce(sum(ol.quantity), 0)::int from order_lines ol join fulfilment_lines fl on fl.order_line_id = ol.id
        where fl.source_location_id = ${locationId} and ol.variant_id = ${variantId}) as sold,
      l.on_hand, l.reserved,
      (select coalesce(sum(on_hand_delta), 0)::int from stock_movements where location_id = ${locationId} and variant_id = ${variantId}) as moved
    from inventory_levels l where l.location_id = ${locationId} and l.variant_id = ${variantId}`;
  const r = row!;
  const oversells = Math.max(0, r.sold - r.received);
  const consistent = r.on_hand === r.received - r.sold && r.moved === r.on_hand && r.reserved >= 0 && r.reserved <= r.on_hand;
  return { ...r, oversells, consistent };
}

/**
 * Samples pg_stat_activity every 20 ms while a run goes on: how many of the app's connections wait on a row
 * lock in a statement matching `pattern`, on average. stop() ends the sampling and returns that average.
 */
export function sampleLockWaits(pg: postgres.Sql, pattern: string) {
  let running = true;
  let samples = 0;
  let waiting = 0;
  const done = (async () => {
    while (running) {
      const [r] = await pg<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
         where datname = current_database() and application_name = 'unichannel'
           and wait_event_type = 'Lock' and query like ${`%${pattern}%`}`;
      samples++;
      waiting += r!.n;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return async () => {
    running = false;
    await done;
    return samples ? waiting / samples : NaN;
  };
}
