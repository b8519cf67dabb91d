/**
 * The HTML page of one or more reports (`rtpsla report … --html`): one self-contained file that
 * needs no network (a Content-Security-Policy forbids any fetch) and no server; its charts are
 * Chart.js configs drawn on canvases by the inlined library (src/report/page.ts). At the top the
 * verdict as `rtpsla sla` gives it for the same files; then one column per report, side by side:
 * its SLA table (src/sla's evaluation), notes, the heatmaps of calls × time, the host's steal, the
 * CDF by leg, loss and jitter per call, the engines and their scheduling, and the run's parameters.
 */
import type {SlaOutcome, SlaReportResult} from '../sla/run.js';
import type {Report} from '../protocol/report.js';
import {cdfChart, heatmapCells, heatmapChart, lossJitterCharts, stealChart, type Side} from './charts.js';
import {chartPage, esc, PageCharts, type ChartConfig} from './page.js';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 8px} h2{font-size:17px;margin:4px 0} h3{font-size:15px;margin:14px 0 4px}
#verdict{font-size:18px;font-weight:bold;padding:6px 10px;border-radius:4px;display:inline-block}
.pass{color:#0b6b2b;background:#e3f4e7} .fail{color:#a50026;background:#fbe3e6}
.runs{display:grid;gap:24px;align-items:start}
.run{min-width:0;border-top:3px solid #ccc;padding-top:6px}
table{border-collapse:collapse;margin:4px 0} td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
td.ok{color:#0b6b2b} td.bad{color:#a50026;font-weight:bold}
figure{margin:8px 0} .pair{display:grid;grid-template-columns:1fr 1fr;gap:8px} .pair>div{min-width:0}
.muted{color:#666}
`;

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, cls = ''): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

const td = (text: unknown, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${esc(text)}</td>`;

function slaSection(r: SlaReportResult): string {
  const level = r.level === null ? 'no level (below the smallest)' : `${r.level} (${r.levelCalls} calls)`;
  const head = `<p class="${r.pass ? 'pass' : 'fail'}" data-role="run-verdict">${r.pass ? 'PASS' : 'FAIL'} at level ${esc(level)}${r.partial ? ' · partial run' : ''}</p>`;
  const rows = r.rows.map((row) => [td(row.invariant), td(row.measuredText), td(row.limitText), td(row.pass ? 'pass' : 'FAIL', row.pass ? 'ok' : 'bad')]);
  const notes = r.notes.length > 0 ? `<h3>Notes</h3><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  return `${head}<h3>SLA</h3>${table(['invariant', 'measured', 'limit', 'result'], rows, 'sla')}${notes}`;
}

function enginesSection(report: Report): string {
  const engines = report.tool.engines ?? {};
  const rows = Object.entries(engines).map(([role, info]) => {
    if (info === undefined) return [td(role), td('—'), td(''), td(''), td('')];
    if ('unknown' in info) return [td(role), td(`unknown: ${String(info.unknown)}`), td(''), td(''), td('')];
    const e = info as {engine: string; scheduling: string; cpus: string; timestamps: string; restarts?: number};
    return [td(role), td(e.engine), td(e.scheduling), td(e.cpus), td(`${e.timestamps}${e.restarts ? ` · ${e.restarts} restarts` : ''}`)];
  });
  if (rows.length === 0) return `<h3>Engines</h3><p class="muted">The report does not say (engine: ${esc(report.tool.engine ?? 'node')}).</p>`;
  return `<h3>Engines</h3>${table(['role', 'engine', 'scheduling', 'CPUs', 'timestamps'], rows)}`;
}

function paramsSection(report: Report): string {
  const p = report.params as Record<string, unknown>;
  const rows = Object.entries(p).map(([k, v]) => [td(k), td(typeof v === 'object' ? JSON.stringify(v) : v)]);
  rows.push([td('target'), td(`${report.target.ariUrl} · app ${report.target.app} · Asterisk ${report.target.asterisk}`)]);
  rows.push([td('rtpsla'), td(`${report.tool.version}`)]);
  if (report.loadHost) rows.push([td('load host'), td(`${report.loadHost.cpus} CPUs · steal ${report.loadHost.stealMs ?? 'not readable'} ms · ${report.loadHost.stalls?.count ?? 0} stalls`)]);
  return `<h3>Parameters</h3>${table(['parameter', 'value'], rows)}`;
}

/** A heatmap's row height (px): rows stay readable up to a few dozen calls, the page bounded for hundreds. */
function rowPx(rows: number): number {
  return rows <= 50 ? 14 : rows <= 200 ? 8 : 4;
}

function heatmapFigure(charts: PageCharts, report: Report, side: Side, missing: string): string {
  const name = `heatmap-${side}`;
  const config = heatmapChart(report, side);
  if (config === null) return `<figure data-chart="${name}"><p class="muted">${esc(missing)}</p></figure>`;
  const cells = heatmapCells(report, side);
  const rows = new Set(cells.map((c) => c.call)).size;
  const late = cells.filter((c) => c.late > 0).length;
  const label = `Worst lateness per call and second at the ${side}: ${rows} calls, ${late} of ${cells.length} cells with late frames (each cell's call, time span, worst lateness, late frames and dominant leg in its tooltip)`;
  return `<figure data-chart="${name}">${charts.chart(config, {heightPx: rows * rowPx(rows) + 130, label})}</figure>`;
}

function figure(charts: PageCharts, name: string, config: ChartConfig | null, heightPx: number, missing: string): string {
  if (config === null) return `<figure data-chart="${name}"><p class="muted">${esc(missing)}</p></figure>`;
  const title = ((config.options.plugins as {title?: {text?: string}} | undefined)?.title?.text) ?? name;
  return `<figure data-chart="${name}">${charts.chart(config, {heightPx, label: title})}</figure>`;
}

function lossJitterFigure(charts: PageCharts, report: Report): string {
  const configs = lossJitterCharts(report);
  if (configs === null) return '<figure data-chart="loss-jitter"><p class="muted">No call.</p></figure>';
  const calls = configs[0].data.labels?.length ?? 0;
  const heightPx = Math.max(180, calls * (report.summary.caller ? 18 : 12) + 120);
  const labels = ['Loss per call (%), at the relay and at the caller', 'Jitter per call (ms), at the relay and at the caller'];
  return `<figure data-chart="loss-jitter"><div class="pair">${configs.map((c, i) => `<div>${charts.chart(c, {heightPx, label: labels[i]})}</div>`).join('')}</div></figure>`;
}

function chartsSection(charts: PageCharts, report: Report): string {
  const noTimeline = 'No timeline in this report (made by an rtpsla before timelines, or no media was measured).';
  const parts = [
    heatmapFigure(charts, report, 'relay', noTimeline),
    report.summary.caller ? heatmapFigure(charts, report, 'caller', 'No caller timeline in this report.') : '',
    figure(charts, 'steal', stealChart(report), 170, 'CPU steal was not sampled per bucket (or not readable).'),
    figure(charts, 'cdf', cdfChart(report), 340, 'The report has no histogram with a value.'),
    lossJitterFigure(charts, report),
  ];
  return parts.join('\n');
}

function runColumn(charts: PageCharts, r: SlaReportResult, report: Report): string {
  const when = `${report.startedAt} → ${report.endedAt}`;
  return [
    `<section class="run" data-run="${esc(report.runId)}">`,
    `<h2>${esc(r.label)}</h2><p class="muted">${esc(r.file)} · ${esc(when)}</p>`,
    slaSection(r),
    chartsSection(charts, report),
    enginesSection(report),
    paramsSection(report),
    '</section>',
  ].join('\n');
}

/** The page of `outcome`'s reports (each read from its file by the caller, `reports` by file). */
export function renderPage(outcome: SlaOutcome, reports: ReadonlyMap<string, Report>): string {
  const charts = new PageCharts();
  const columns: string[] = [];
  for (const r of outcome.reports) {
    const report = reports.get(r.file);
    if (report) columns.push(runColumn(charts, r, report));
  }
  const title = outcome.reports.length === 1 ? `rtpsla run ${outcome.reports[0].runId}` : `rtpsla: ${outcome.reports.length} runs side by side`;
  const body = `<h1>${esc(title)}</h1>
<p id="verdict" class="${outcome.pass ? 'pass' : 'fail'}">${esc(outcome.verdictLine)}</p>
<div class="runs" style="grid-template-columns:repeat(${Math.max(1, columns.length)},minmax(600px,1fr))">
${columns.join('\n')}
</div>`;
  return chartPage({title, style: STYLE, body});
}
