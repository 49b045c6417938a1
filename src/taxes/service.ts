import { sql } from 'drizzle-orm';
import { taxRates } from '../../schema/index';
import type { Db, Queryable } from '../db';
import { fail } from '../lib/errors';
import type { Viewer } from '../access/viewer';
import { rateText, rateUnits } from './rules';

export type TaxRate = { region: string; taxClass: string; rate: string };

/** Rates for (location, tax class) pairs in one statement: the location's region picks the row; none: "0". */
export async function ratesAt(db: Queryable, pairs: readonly { locationId: string; taxClass: string }[]): Promise<string[]> {
  if (pairs.length === 0) return [];
  const rows = await db.execute<{ i: number; rate: string | null }>(sql`
    select p.i::int as i, r.rate::text as rate
      from jsonb_to_recordset(${JSON.stringify(pairs.map((p, i) => ({ i: i + 1, location_id: p.locationId, tax_class: p.taxClass })))}::jsonb)
           as p(i int, location_id uuid, tax_class text)
      join locations l on l.id = p.location_id
      left join ${taxRates} r on r.region = l.tax_region and r.tax_class = p.tax_class`);
  const byIndex = new Map(rows.map((r) => [Number(r.i), r.rate]));
  return pairs.map((_, i) => rateText(byIndex.get(i + 1) ?? '0'));
}

export async function listTaxRates(db: Queryable): Promise<TaxRate[]> {
  const rows = await db.select().from(taxRates).orderBy(taxRates.region, taxRates.taxClass);
  return rows.map((r) => ({ region: r.region, taxClass: r.taxClass, rate: rateText(r.rate) }));
}

/** Head office sets a region's rate for a tax class (applies to orders placed afterwards). */
export async function setTaxRate(db: Db, viewer: Viewer, input: TaxRate): Promise<TaxRate> {
  if (viewer.kind !== 'admin') fail('FORBIDDEN', 'Tax rates are set by head office.');
  try {
    if (rateUnits(input.rate) >= 1_000_000n) throw new RangeError();
  } catch {
    fail('INVALID_INPUT', 'A percent from 0 to 99.9999, e.g. "21" or "8.875".', ['input', 'rate']);
  }
  const rate = rateText(input.rate);
  await db
    .insert(taxRates)
    .values({ region: input.region, taxClass: input.taxClass, rate })
    .onConflictDoUpdate({ target: [taxRates.region, taxRates.taxClass], set: { rate, updatedAt: sql`now()` } });
  return { region: input.region, taxClass: input.taxClass, rate };
}
