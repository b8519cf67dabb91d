/**
 * The one place that puts charts into a page (the HTML report, the bench's chart): Chart.js and
 * chartjs-chart-matrix, their UMD builds read from the installed packages when the page is made
 * and inlined, each chart's config (its data inline) as a `<script type="application/json">`
 * beside its `<canvas>`, and DRAW_SCRIPT, which draws every canvas of the page. The page needs no
 * network and no server: its Content-Security-Policy forbids every fetch (`default-src 'none'`)
 * and allows exactly the inline scripts it carries, by their sha256 hashes (docs/design.md "The
 * HTML report").
 */
import {createHash} from 'node:crypto';
import {existsSync, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {DRAW_SCRIPT} from './draw-script.js';

/**
 * A Chart.js configuration as plain JSON (no function), with the conventions DRAW_SCRIPT adds:
 * a data point's `label` is its tooltip; a matrix dataset without backgroundColor takes each
 * cell's colour from the point's `c`, its width from the point's `x0`..`x1` and one unit of the y
 * scale as its height; a dataset with `hideInLegend` is left out of the legend; a scale's
 * `ticksAt` puts its ticks at exactly those values, its `tickLabels` names the integer ticks.
 */
export interface ChartConfig {
  type: string;
  data: {labels?: string[]; datasets: Array<Record<string, unknown> & {data: unknown[]}>};
  options: Record<string, unknown>;
}

/**
 * Ticks for a log axis holding [min, max]: the 1, 2 and 5 times powers of ten from the largest at
 * or below `min` to the smallest at or above `max` (the axis' bounds, so labels never crowd).
 */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max >= min)) return [];
  const all: number[] = [];
  for (let e = Math.floor(Math.log10(min)) - 1; e <= Math.ceil(Math.log10(max)) + 1; e++) {
    for (const m of [1, 2, 5]) all.push(Number((m * 10 ** e).toPrecision(12)));
  }
  const from = all.filter((v) => v <= min).at(-1)!;
  const to = all.find((v) => v >= max)!;
  return all.filter((v) => v >= from && v <= to);
}

/** A library's UMD build inside an installed package; `exports` hides dist/, so it is found beside the package's entry. */
function libraryFile(pkg: string, file: string): string {
  const entry = createRequire(import.meta.url).resolve(pkg);
  const at = path.join(path.dirname(entry), file);
  if (!existsSync(at)) throw new Error(`${pkg} has no ${file} beside ${entry}: is the installed version the one package.json names?`);
  // the source map is not inlined: its comment would only point the browser at a missing file
  return readFileSync(at, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

let libraries: string[] | null = null;

/** The page's scripts in order: Chart.js, its matrix chart type, then the drawing of the page's canvases. */
export function pageScripts(): string[] {
  libraries ??= [libraryFile('chart.js', 'chart.umd.min.js'), libraryFile('chartjs-chart-matrix', 'chartjs-chart-matrix.min.js')];
  for (const s of libraries) if (/<\/script|<!--/i.test(s)) throw new Error('a chart library holds "</script" or "<!--": it cannot be inlined as it is');
  return [...libraries, DRAW_SCRIPT];
}

/** The CSP source of an inline script: the base64 sha256 of its text as the page carries it (UTF-8). */
export function scriptHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** Text made safe for HTML. */
export function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (ch) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[ch]!);
}

/** The charts of one page: each gets a canvas and its config, under ids unique in the page. */
export class PageCharts {
  private count = 0;

  /** A canvas `heightPx` high (as wide as its column) and its config; `label` says what it shows to a screen reader. */
  chart(config: ChartConfig, o: {heightPx: number; label: string}): string {
    const id = `chart-${++this.count}`;
    // JSON inside a script element: "<" escaped, so no "</script>" in the data can end it
    const json = JSON.stringify(config).replace(/</g, '\\u003c');
    return [
      `<div class="chart" style="height:${Math.round(o.heightPx)}px">`,
      `<canvas id="${id}" data-config="${id}-config" role="img" aria-label="${esc(o.label)}">${esc(o.label)}</canvas></div>`,
      `<script type="application/json" id="${id}-config">${json}</script>`,
    ].join('');
  }
}

/** The style every chart page shares (a chart's box; Chart.js sizes its canvas to it). */
export const CHART_STYLE = '.chart{position:relative;width:100%}';

/** One self-contained page: `body`, then the chart libraries and the drawing script, each allowed by its hash. */
export function chartPage(o: {title: string; style: string; body: string}): string {
  const scripts = pageScripts();
  const csp = `default-src 'none'; script-src ${scripts.map(scriptHash).join(' ')}; style-src 'unsafe-inline'; img-src data:`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<title>${esc(o.title)}</title><style>${o.style}${CHART_STYLE}</style></head>
<body>
${o.body}
${scripts.map((s) => `<script>${s}</script>`).join('\n')}
</body></html>
`;
}

/** A page of one chart (the bench's): `title` is the page's (the chart draws its own), `notes` go under the chart. */
export function singleChartPage(title: string, config: ChartConfig, o: {heightPx: number; notes?: string[]}): string {
  const charts = new PageCharts();
  const notes = (o.notes ?? []).map((n) => `<p class="muted">${esc(n)}</p>`).join('\n');
  const style = 'body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222;max-width:1100px} .muted{color:#666}';
  return chartPage({title, style, body: `${charts.chart(config, {heightPx: o.heightPx, label: title})}\n${notes}`});
}
