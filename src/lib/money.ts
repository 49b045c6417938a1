/** Money is integer minor units plus a currency; never floats. */
export interface Money {
  amount: number;
  currencyCode: string;
}

export const MAX_MINOR = Number.MAX_SAFE_INTEGER;

export function assertSafe(amount: number): number {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`amount ${amount} is not a safe integer`);
  return amount;
}

/**
 * Splits `total` over `weights` in proportion, in whole minor units, so the parts add up exactly
 * (largest-remainder / Hamilton method). Ties go to the earlier weight.
 */
export function splitByWeights(total: number, weights: readonly number[]): number[] {
  assertSafe(total);
  if (weights.length === 0) return [];
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) {
    const out = weights.map(() => 0);
    out[0] = total;
    return out;
  }
  // BigInt keeps total * weight exact beyond 2^53.
  const T = BigInt(total);
  const S = BigInt(sum);
  const parts = weights.map((w) => (T * BigInt(w)) / S);
  const rema = weights.map((w, i) => ({ i, r: (T * BigInt(w)) % S }));
  let left = T - parts.reduce((a, b) => a + b, 0n);
  rema.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (let k = 0; left > 0n; k++, left--) parts[rema[k % rema.length]!.i]! += 1n;
  return parts.map(Number);
}

/** Minor units per unit of an ISO-4217 currency, from the platform's currency data. */
export function minorPerUnit(currencyCode: string): number {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency: currencyCode }).resolvedOptions().maximumFractionDigits;
  return 10 ** (digits ?? 2);
}

/** Display only (e.g. $59.99): amounts stay integers everywhere else. */
export const formatMoney = (amount: number, currencyCode: string) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: currencyCode }).format(amount / minorPerUnit(currencyCode));
