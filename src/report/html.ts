/**
 * The HTML page of one or more reports (`rtpsla report … --html`): one self-contained file, no
 * script, no network (a Content-Security-Policy forbids any fetch), the charts drawn as SVG when
 * the page is made. At the top the verdict as `rtpsla sla` gives it for the same files; then one
 * column per report, side by side: its SLA table (src/sla's evaluation), notes, the heatmaps of
 * calls × time, the host's steal, the CDF by leg, loss and jitter per call, the engines and their
 * scheduling, and the run's parameters.
 */
import type {SlaOutcome, SlaReportResult} from '../sla/run.js';
import type {Report} from '../protocol/report.js';
import {cdfSpec, heatmapSpec, lossJitterSpec, stealSpec} from './charts.js';
import {renderSvg} from './svg.js';
import type {TopLevelSpec} from 'vega-lite';

/** Text made safe for HTML. */
export function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (ch) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[ch]!);
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 8px} h2{font-size:17px;margin:4px 0} h3{font-size:15px;margin:14px 0 4px}
#verdict{font-size:18px;font-weight:bold;padding:6px 10px;border-radius:4px;display:inline-block}
.pass{color:#0b6b2b;background:#e3f4e7} .fail{color:#a50026;background:#fbe3e6}
.runs{display:grid;gap:24px;align-items:start}
.run{min-width:0;border-top:3px solid #ccc;padding-top:6px}
table{border-collapse:collapse;margin:4px 0} td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
td.ok{color:#0b6b2b} td.bad{color:#a50026;font-weight:bold}
figure{margin:8px 0;overflow-x:auto} figure svg{max-width:none}
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

async function figure(name: string, spec: TopLevelSpec | null, missing: string): Promise<string> {
  if (spec === null) return `<figure data-chart="${name}"><p class="muted">${esc(missing)}</p></figure>`;
  return `<figure data-chart="${name}">${await renderSvg(spec)}</figure>`;
}

async function chartsSection(report: Report): Promise<string> {
  const noTimeline = 'No timeline in this report (made by an rtpsla before timelines, or no media was measured).';
  const parts = [
    await figure('heatmap-relay', heatmapSpec(report, 'relay'), noTimeline),
    report.summary.caller ? await figure('heatmap-caller', heatmapSpec(report, 'caller'), 'No caller timeline in this report.') : '',
    await figure('steal', stealSpec(report), 'CPU steal was not sampled per bucket (or not readable).'),
    await figure('cdf', cdfSpec(report), 'The report has no histogram with a value.'),
    await figure('loss-jitter', lossJitterSpec(report), 'No call.'),
  ];
  return parts.join('\n');
}

async function runColumn(r: SlaReportResult, report: Report): Promise<string> {
  const when = `${report.startedAt} → ${report.endedAt}`;
  return [
    `<section class="run" data-run="${esc(report.runId)}">`,
    `<h2>${esc(r.label)}</h2><p class="muted">${esc(r.file)} · ${esc(when)}</p>`,
    slaSection(r),
    await chartsSection(report),
    enginesSection(report),
    paramsSection(report),
    '</section>',
  ].join('\n');
}

/** The page of `outcome`'s reports (each read from its file by the caller, `reports` by file). */
export async function renderPage(outcome: SlaOutcome, reports: ReadonlyMap<string, Report>): Promise<string> {
  const columns: string[] = [];
  for (const r of outcome.reports) {
    const report = reports.get(r.file);
    if (report) columns.push(await runColumn(r, report));
  }
  const title = outcome.reports.length === 1 ? `rtpsla run ${outcome.reports[0].runId}` : `rtpsla: ${outcome.reports.length} runs side by side`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
<p id="verdict" class="${outcome.pass ? 'pass' : 'fail'}">${esc(outcome.verdictLine)}</p>
<div class="runs" style="grid-template-columns:repeat(${Math.max(1, columns.length)},minmax(600px,1fr))">
${columns.join('\n')}
</div>
</body></html>
`;
}
