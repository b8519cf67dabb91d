import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {htmlReport} from '../../src/report/index.js';
import {LATENESS_COLOURS, latenessClass, latenessClasses} from '../../src/report/charts.js';
import type {ChartConfig} from '../../src/report/page.js';
import {evaluateFiles} from '../../src/sla/run.js';
import {runCli} from '../helpers/cli.js';
import {buildReport, modify, tempDir, writeJson} from '../helpers/report-builder.js';
import {lateBand, parseMark} from './runs.js';
import type {Report} from '../../src/protocol/report.js';

/** A report whose 4 calls have 5 s of relay timeline; call 2 late in its third second; a stall at 2.5 s. */
function timed(runId: string): Report {
  return modify(buildReport({count: 4, runId}), (r) => {
    const first = Math.floor(Date.parse(r.startedAt) / 1000);
    for (const c of r.calls) {
      const late = c.index === 2 ? [0, 0, 12, 0, 0] : [0, 0, 0, 0, 0];
      c.timeline = {bucketMs: 1000, relay: {first, worstMs: late.map((n) => (n > 0 ? 85.5 : 3.2)), late, leg: late.map((n) => (n > 0 ? 'm' : '-')).join('')}};
    }
    r.timeline = {bucketMs: 1000, first, stealMs: [0, 0, 1.5, 0, 0]};
    r.loadHost = {cpus: 2, stealMs: 1.5, stalls: {thresholdMs: 10, count: 1, totalMs: 40, maxMs: 40, events: [{atMs: 2540, stallMs: 40}]}};
  });
}

/** The chart configs of the figure `chart` (one per canvas), read from the JSON each canvas names. */
function chartsOf(html: string, chart: string): ChartConfig[] {
  const fig = html.split(`data-chart="${chart}"`)[1].split('</figure>')[0];
  return [...fig.matchAll(/<canvas id="[^"]+" data-config="([^"]+)"/g)].map((m) => {
    const json = html.split(`<script type="application/json" id="${m[1]}">`)[1].split('</script>')[0];
    return JSON.parse(json) as ChartConfig;
  });
}

type Point = {x: number; y: number | null; x0?: number; x1?: number; c?: string; label?: string};
const dataset = (config: ChartConfig, role: string) => config.data.datasets.find((d) => d.role === role)!.data as Point[];

/** The page's markup outside its scripts, and its executable inline scripts (not the JSON ones). */
function parts(html: string): {markup: string; scripts: string[]} {
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  return {markup: html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '<script></script>'), scripts};
}

describe('the HTML page', () => {
  const t = tempDir('rtpsla-html-');
  afterAll(() => t.cleanup());

  test('one self-contained page: its CSP forbids any fetch and allows exactly its inline scripts (Chart.js inlined), by hash', async () => {
    const file = writeJson(t.dir, 'timed.json', timed('timed'));
    const {html} = await htmlReport([file]);
    const {markup, scripts} = parts(html);
    // nothing is loaded from anywhere: no src or href at all outside the scripts' text, no script src
    expect(markup).not.toMatch(/\b(src|href)=/);
    expect(html).not.toMatch(/<script[^>]*\bsrc=/);
    const csp = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/)![1];
    expect(csp).toMatch(/^default-src 'none'; /);
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    const scriptSrc = csp.match(/script-src ([^;]+);/)![1].split(' ');
    // Chart.js, its matrix chart type and the drawing of the page, each allowed by its sha256 and nothing else
    expect(scripts).toHaveLength(3);
    expect(scripts[0]).toMatch(/^\/\*!\n \* Chart\.js v4\./);
    expect(scripts[1]).toMatch(/^\/\*!\n \* chartjs-chart-matrix v/);
    expect(scriptSrc).toEqual(scripts.map((s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`));
    expect(scripts.join('\n')).not.toContain('sourceMappingURL');
    // every canvas has its chart's JSON
    expect(markup.match(/<canvas /g)!.length).toBe(html.match(/<script type="application\/json" id="chart-\d+-config">/g)!.length);
  });

  test('the heatmap\'s data has a row per call and the late cell where it was, the stall as a rule, under sla\'s verdict', async () => {
    const file = writeJson(t.dir, 'timed.json', timed('timed'));
    const {html, outcome} = await htmlReport([file]);
    expect(html).toContain(`<p id="verdict" class="${outcome.pass ? 'pass' : 'fail'}">${outcome.verdictLine}</p>`);
    expect(outcome.verdictLine).toBe(evaluateFiles([file]).verdictLine);
    const [heatmap] = chartsOf(html, 'heatmap-relay');
    const cells = dataset(heatmap, 'cells');
    expect(cells).toHaveLength(20);
    const marks = cells.map((c) => parseMark(c.label!)!);
    // a row per call, in call order, each labelled with its call
    expect(new Set(cells.map((c) => c.y))).toEqual(new Set([0, 1, 2, 3]));
    cells.forEach((c, i) => expect(c.y).toBe(marks[i].call));
    expect((heatmap.options.scales as {y: {tickLabels: string[]}}).y.tickLabels).toEqual(['0', '1', '2', '3']);
    expect(lateBand(marks, 20)).toEqual({calls: [2], from: 2, to: 3});
    // the late cell spans its second and is coloured by its class (85.5 ms: 40–100 ms at a 20 ms threshold); every other cell on time
    const late = cells.filter((c) => c.c !== LATENESS_COLOURS[0]);
    expect(late).toEqual([{x: 2.5, y: 2, x0: 2, x1: 3, c: LATENESS_COLOURS[3], label: 'call 2 · 2–3 s · worst 85.5 ms · 12 late (mostly media server)'}]);
    expect(latenessClass(85.5, 20)).toBe(3);
    expect(latenessClasses(20)[3].label).toBe('40–100 ms');
    // the legend: the classes, in order
    expect(heatmap.data.datasets.filter((d) => d.role === 'class').map((d) => d.label)).toEqual(['< 10 ms', '10–20 ms', '20–40 ms', '40–100 ms', '100–300 ms', '≥ 300 ms']);
    // the stall: a vertical line at its start across every row, its label its tooltip
    const label = 'load stalled 40 ms, ending 2.54 s after the start';
    expect(dataset(heatmap, 'stalls')).toEqual([{x: 2.5, y: -0.5, label}, {x: 2.5, y: 3.5, label}, {x: 2.5, y: null}]);
    // no caller side in this report: no caller heatmap
    expect(html).not.toContain('data-chart="heatmap-caller"');
    const [steal] = chartsOf(html, 'steal');
    expect((steal.data.datasets[0].data as Point[]).map((p) => p.y)).toEqual([0, 0, 1.5, 0, 0]);
    expect(chartsOf(html, 'cdf')).toHaveLength(1);
    expect(chartsOf(html, 'loss-jitter')).toHaveLength(2);
  });

  test('a report from before timelines still gets its page, saying there is no timeline', async () => {
    const file = writeJson(t.dir, 'old.json', buildReport({count: 2, runId: 'old'}));
    const {html} = await htmlReport([file]);
    expect(html).toContain('No timeline in this report');
    expect(html).not.toMatch(/data-chart="heatmap-relay"><div/);
    const [cdf] = chartsOf(html, 'cdf');
    expect(cdf.options.scales).toMatchObject({x: {type: 'logarithmic'}});
    expect(cdf.data.datasets.length).toBeGreaterThan(0);
    for (const d of cdf.data.datasets) expect(d.stepped).toBe('before');
  });

  test('rtpsla report A B --html writes both runs as two columns; an unusable input is exit 2 with its reason', async () => {
    const a = writeJson(t.dir, 'a.json', timed('run-a'));
    const b = writeJson(t.dir, 'b.json', timed('run-b'));
    const out = path.join(t.dir, 'ab.html');
    const r = await runCli(['report', a, b, '--html', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${out}\n${evaluateFiles([a, b]).verdictLine}\n`);
    expect(readFileSync(out, 'utf8').match(/<section class="run"/g)).toHaveLength(2);
    const bad = await runCli(['report', path.join(t.dir, 'missing.json'), '--html', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/missing\.json/);
  }, 30_000);
});
