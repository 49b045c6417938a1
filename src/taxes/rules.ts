import { splitByWeights } from '../lib/money';

/*
 * Prices include tax. A rate is a percent as a decimal string ("8.875"); amounts are integer minor units.
 * Pure: the order lines' taxes, the receipt's tax per rate, and the tax a return gives back.
 */

/** Rate as an integer in 1/10,000 of a percent: "8.875" → 88750. */
export function rateUnits(rate: string): bigint {
  const m = /^(\d{1,2})(?:\.(\d{1,4}))?$/.exec(rate.trim());
  if (!m) throw new RangeError(`not a percent rate: ${rate}`);
  return BigInt(m[1]!) * 10_000n + BigInt((m[2] ?? '').padEnd(4, '0'));
}

/** Canonical text of a rate: "8.8750" → "8.875", "21.0000" → "21". */
export const rateText = (rate: string): string => {
  const u = rateUnits(rate);
  const frac = (u % 10_000n).toString().padStart(4, '0').replace(/0+$/, '');
  return `${u / 10_000n}${frac ? `.${frac}` : ''}`;
};

/** The tax a tax-inclusive gross amount contains at `rate`, rounded half up. */
export function taxIncluded(gross: number, rate: string): number {
  const r = rateUnits(rate);
  const num = BigInt(gross) * r;
  const den = 1_000_000n + r;
  return Number((2n * num + den) / (2n * den));
}

export interface TaxedLine {
  /** What the line costs, tax included (after discounts). */
  gross: number;
  rate: string;
}

/**
 * Each line's tax: per rate, the tax of the rate's whole gross (rounded once), split over its lines by
 * largest remainder in proportion to their gross. So the receipt's tax per rate is exactly the sum of its
 * lines' taxes, and no rate is rounded more than once.
 */
export function lineTaxes(lines: readonly TaxedLine[]): number[] {
  const out = lines.map(() => 0);
  for (const [rate, idx] of groupByRate(lines)) {
    const parts = splitByWeights(taxIncluded(idx.reduce((s, i) => s + lines[i]!.gross, 0), rate), idx.map((i) => lines[i]!.gross));
    idx.forEach((i, k) => (out[i] = parts[k]!));
  }
  return out;
}

export interface TaxLine {
  rate: string;
  /** The net base: gross − tax. */
  taxable: number;
  tax: number;
}

/** The receipt's tax per rate, from lines that carry their tax; rates with no tax (0%) are left out. */
export function taxesByRate(lines: readonly { gross: number; rate: string; tax: number }[]): TaxLine[] {
  return [...groupByRate(lines)]
    .map(([rate, idx]) => {
      const gross = idx.reduce((s, i) => s + lines[i]!.gross, 0);
      const tax = idx.reduce((s, i) => s + lines[i]!.tax, 0);
      return { rate: rateText(rate), taxable: gross - tax, tax };
    })
    .filter((t) => rateUnits(t.rate) > 0n)
    .sort((a, b) => Number(rateUnits(a.rate) - rateUnits(b.rate)));
}

/**
 * The tax given back when `quantity` more of a line's units are returned, `before` having been returned
 * already: cumulative and pro rata, so returning every unit in any number of returns gives back exactly the
 * line's tax.
 */
export function returnedTax(lineTax: number, lineQuantity: number, before: number, quantity: number): number {
  const upTo = (k: number) => Math.floor((lineTax * k) / lineQuantity);
  return upTo(before + quantity) - upTo(before);
}

function groupByRate(lines: readonly { rate: string }[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  lines.forEach((l, i) => {
    const key = rateText(l.rate);
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  return groups;
}
