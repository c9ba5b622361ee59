// The Figure 16 plot as one self-contained HTML page: inline SVG, no scripts, no downloads, so it
// opens anywhere and can be kept next to the numbers it shows. Like the paper's figure it has two
// panels of cumulative distributions over a log-scale time axis.

import type { Summary } from "./stats.ts";

export interface Series {
  label: string;
  summary: Summary;
  /** Index into the palette; a series keeps its colour in both panels. */
  colour: number;
}

export interface Panel {
  title: string;
  series: readonly Series[];
}

export interface Page {
  title: string;
  capMs: number;
  panels: readonly Panel[];
  /** Lines describing what was measured and how. */
  notes: readonly string[];
  table: { header: readonly string[]; rows: readonly (readonly string[])[] };
}

const WIDTH = 920;
const HEIGHT = 340;
const MARGIN = { left: 60, right: 250, top: 30, bottom: 45 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const COLOURS = [
  "#d62728",
  "#ff7f0e",
  "#bcbd22",
  "#2ca02c",
  "#17becf",
  "#1f77b4",
  "#9467bd",
  "#e377c2",
  "#8c564b",
  "#7f7f7f",
];

interface Axis {
  lo: number;
  hi: number;
  x(ms: number): number;
  y(percent: number): number;
}

export function renderPage(page: Page): string {
  const panels = page.panels.map((p) => renderPanel(p, page.capMs)).join("\n");
  const notes = page.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("\n");
  const head = page.table.header.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const rows = page.table.rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(page.title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 20px; color: #222; }
svg text { font: 12px system-ui, sans-serif; fill: #222; }
table { border-collapse: collapse; margin-top: 12px; }
td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #ddd; }
td:first-child, th:first-child { text-align: left; }
</style></head><body>
<h1>${escapeHtml(page.title)}</h1>
${panels}
<table><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table>
<ul>
${notes}
</ul>
</body></html>
`;
}

function renderPanel(panel: Panel, capMs: number): string {
  const axis = makeAxis(panel, capMs);
  const curves = panel.series.map((s) => curve(s, axis));
  const legend = panel.series.map((s, i) => legendRow(s, i, capMs)).join("\n");
  return `<h2>${escapeHtml(panel.title)}</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" role="img">
<g transform="translate(${MARGIN.left},${MARGIN.top})">
${grid(axis)}
${curves.join("\n")}
<rect x="0" y="0" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#444"/>
<text x="${PLOT_W / 2}" y="${PLOT_H + 38}" text-anchor="middle">time without leader (ms, log scale)</text>
<text transform="translate(-44,${PLOT_H / 2}) rotate(-90)" text-anchor="middle">cumulative percent</text>
${legend}
</g></svg>`;
}

/** Log-scale x from the decade below the fastest election to the cap (or the decade above). */
function makeAxis(panel: Panel, capMs: number): Axis {
  const all = panel.series.flatMap((s) => s.summary.sorted);
  const anyCapped = panel.series.some((s) => s.summary.capped > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...all, capMs))));
  const hi = anyCapped ? capMs : Math.max(lo * 10, 10 ** Math.ceil(Math.log10(Math.max(...all))));
  const span = Math.log10(hi) - Math.log10(lo);
  return {
    lo,
    hi,
    x: (ms) => ((Math.log10(Math.min(Math.max(ms, lo), hi)) - Math.log10(lo)) / span) * PLOT_W,
    y: (percent) => PLOT_H - (percent / 100) * PLOT_H,
  };
}

function grid(axis: Axis): string {
  const lines: string[] = [];
  for (let decade = axis.lo; decade <= axis.hi; decade *= 10) {
    for (const step of [1, 2, 5]) {
      const ms = decade * step;
      if (ms > axis.hi) break;
      const x = axis.x(ms).toFixed(1);
      lines.push(`<line x1="${x}" x2="${x}" y1="0" y2="${PLOT_H}" stroke="#e4e4e4"/>`);
      lines.push(`<text x="${x}" y="${PLOT_H + 16}" text-anchor="middle">${ms}</text>`);
    }
  }
  for (let percent = 0; percent <= 100; percent += 20) {
    const y = axis.y(percent).toFixed(1);
    lines.push(`<line x1="0" x2="${PLOT_W}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`);
    lines.push(
      `<text x="-6" y="${y}" text-anchor="end" dominant-baseline="middle">${percent}</text>`,
    );
  }
  return lines.join("\n");
}

/**
 * The empirical CDF as a step line over all trials, capped ones included: a range with capped
 * trials never reaches 100%, which is how the paper's plot shows elections that took too long.
 */
function curve(series: Series, axis: Axis): string {
  const { sorted, trials } = series.summary;
  const points: string[] = [`M0,${axis.y(0).toFixed(1)}`];
  sorted.forEach((ms, i) => {
    const x = axis.x(ms).toFixed(1);
    points.push(`H${x}`, `V${axis.y(((i + 1) / trials) * 100).toFixed(1)}`);
  });
  points.push(`H${PLOT_W}`);
  return `<path d="${points.join(" ")}" fill="none" stroke="${colourOf(series)}" stroke-width="2"/>`;
}

function legendRow(series: Series, index: number, capMs: number): string {
  const y = 10 + index * 20;
  const x = PLOT_W + 16;
  const { capped, trials } = series.summary;
  const note = capped > 0 ? ` (${capped}/${trials} > ${capMs / 1000} s)` : "";
  const colour = colourOf(series);
  return `<line x1="${x}" x2="${x + 24}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="3"/>
<text x="${x + 30}" y="${y}" dominant-baseline="middle">${escapeHtml(series.label + note)}</text>`;
}

function colourOf(series: Series): string {
  return COLOURS[series.colour % COLOURS.length]!;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
