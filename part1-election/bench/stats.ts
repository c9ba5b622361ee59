// Summaries of election downtimes. A trial that hit the cap has no exact time, only a lower
// bound, so statistics that land on a capped trial are shown as "> cap" instead of a number that
// would understate the worst cases.

/** One trial's outcome: ms from the crash to the next leader, or `null` if the cap was hit. */
export type Downtime = number | null;

export interface Summary {
  trials: number;
  capped: number;
  /** The elected trials' downtimes, ascending. */
  sorted: number[];
  median: Downtime;
  p99: Downtime;
  max: Downtime;
  /** Exact when nothing was capped; otherwise a lower bound (capped trials counted as the cap). */
  mean: number;
}

export function summarize(downtimes: readonly Downtime[], capMs: number): Summary {
  const sorted = downtimes.filter((d): d is number => d !== null).sort((a, b) => a - b);
  const capped = downtimes.length - sorted.length;
  const total = sorted.reduce((sum, d) => sum + d, 0) + capped * capMs;
  return {
    trials: downtimes.length,
    capped,
    sorted,
    median: quantile(sorted, downtimes.length, 0.5),
    p99: quantile(sorted, downtimes.length, 0.99),
    max: capped > 0 ? null : (sorted.at(-1) ?? null),
    mean: downtimes.length === 0 ? Number.NaN : total / downtimes.length,
  };
}

/**
 * Nearest-rank quantile over all `n` trials, with the capped ones ranked after every elected
 * one (they took longer than anything measured). `null` when the rank falls on a capped trial.
 */
function quantile(sorted: readonly number[], n: number, q: number): Downtime {
  const rank = Math.max(1, Math.ceil(q * n));
  return rank <= sorted.length ? sorted[rank - 1]! : null;
}

export function formatDowntime(d: Downtime, capMs: number): string {
  return d === null ? `> ${capMs}` : String(d);
}

export function formatMean(s: Summary): string {
  const value = s.mean.toFixed(1);
  return s.capped > 0 ? `> ${value}` : value;
}

/** A plain-text table with right-aligned columns, the first column left-aligned. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(header), rule, ...rows.map(line)].join("\n");
}
