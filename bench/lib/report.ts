/** What each benchmark hands back to bench/run.ts: a table of figure vs baseline, and notes. */
export interface Row {
  metric: string;
  figure: string;
  baseline: string;
  ratio: string;
}

export interface Section {
  title: string;
  /** One paragraph: what is measured, how, and what the baseline is. */
  what: string;
  figureLabel: string;
  baselineLabel: string;
  rows: Row[];
  notes: string[];
  /** false when an invariant failed (oversell, statement counts differ, stock audit): the run exits non-zero. */
  ok: boolean;
}

export interface BenchOptions {
  quick: boolean;
  log: (message: string) => void;
}

export function markdownTable(s: Section): string {
  const lines = [
    `| metric | ${s.figureLabel} | ${s.baselineLabel} | ratio |`,
    '|---|---:|---:|---:|',
    ...s.rows.map((r) => `| ${r.metric} | ${r.figure} | ${r.baseline} | ${r.ratio} |`),
  ];
  return lines.join('\n');
}

export function textTable(s: Section): string {
  const head = ['metric', s.figureLabel, s.baselineLabel, 'ratio'];
  const rows = s.rows.map((r) => [r.metric, r.figure, r.baseline, r.ratio]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
