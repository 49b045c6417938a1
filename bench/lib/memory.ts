import { processCpuSeconds, processRssBytes, processTree } from './app-server';
import { percentile } from './stats';

/**
 * A server made of one or more process trees (Unichannel: one process; Vendure: its server and its worker),
 * measured as a whole: CPU time and resident memory summed over every process of every tree (Linux /proc).
 */
export interface ProcessGroup {
  /** One root process per part, e.g. { server: pid, worker: pid }. */
  roots: Record<string, number>;
}

export function groupCpuSeconds(g: ProcessGroup): number {
  return partCpuSeconds(g).reduce((s, x) => s + x, 0);
}

/** CPU seconds of each part (root and its descendants), in the order of g.roots. */
export function partCpuSeconds(g: ProcessGroup): number[] {
  return Object.values(g.roots).map((root) => processTree(root).reduce((s, pid) => s + (processCpuSeconds(pid) || 0), 0));
}

interface Sample {
  t: number;
  /** Bytes per part (root and its descendants), in the order of g.roots. */
  parts: number[];
  total: number;
}

/**
 * Samples the group's resident memory (VmRSS of every process, summed per part) every `everyMs` until stop().
 * The trees are re-read every second (a server may fork), the RSS every sample.
 */
export function startRssSampler(g: ProcessGroup, everyMs = 200) {
  const names = Object.keys(g.roots);
  const samples: Sample[] = [];
  let trees: number[][] = [];
  let treesAt = -Infinity;
  const take = () => {
    const t = performance.now();
    if (t - treesAt >= 1000) {
      trees = Object.values(g.roots).map((root) => processTree(root));
      treesAt = t;
    }
    const parts = trees.map((pids) => pids.reduce((s, pid) => s + processRssBytes(pid), 0));
    samples.push({ t, parts, total: parts.reduce((s, x) => s + x, 0) });
  };
  take();
  const timer = setInterval(take, everyMs);
  const within = (from: number, to: number) => samples.filter((s) => s.t >= from && s.t <= to);
  return {
    names,
    /** Median of the samples taken between `from` and `to` (performance.now() times): total and per part. */
    median(from: number, to: number) {
      const w = within(from, to);
      const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
      return { total: med(w.map((s) => s.total)), parts: names.map((_, i) => med(w.map((s) => s.parts[i]!))), samples: w.length };
    },
    /** Highest total between `from` and `to`, and each part's own highest. */
    peak(from: number, to: number) {
      const w = within(from, to);
      return {
        total: Math.max(...w.map((s) => s.total)),
        parts: names.map((_, i) => Math.max(...w.map((s) => s.parts[i]!))),
        samples: w.length,
      };
    },
    stop() {
      clearInterval(timer);
      take();
    },
  };
}
export type RssSampler = ReturnType<typeof startRssSampler>;

export const mib = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : 'n/a');
