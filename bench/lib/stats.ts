/** Latency and throughput summaries shared by every benchmark. */

export interface Summary {
  count: number;
  /** Operations per second over the measured window. */
  perSecond: number;
  p50: number;
  p99: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending-sorted array (ms). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarize(latenciesMs: readonly number[], elapsedMs: number, count = latenciesMs.length): Summary {
  const sorted = Float64Array.from(latenciesMs).sort();
  const arr = Array.from(sorted);
  const mean = arr.length ? arr.reduce((s, x) => s + x, 0) / arr.length : NaN;
  return { count, perSecond: elapsedMs > 0 ? (count * 1000) / elapsedMs : NaN, p50: percentile(arr, 50), p99: percentile(arr, 99), mean };
}

export const fmt = {
  rate: (x: number) => (Number.isFinite(x) ? `${x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1)}/s` : 'n/a'),
  ms: (x: number) => (Number.isFinite(x) ? `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)} ms` : 'n/a'),
  ratio: (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a'),
  int: (x: number) => Math.round(x).toLocaleString('en-US'),
};
