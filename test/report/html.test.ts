import {readFileSync} from 'node:fs';
import path from 'node:path';
import {htmlReport} from '../../src/report/index.js';
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

function cellsOf(html: string, chart: string) {
  const fig = html.split(`data-chart="${chart}"`)[1].split('</figure>')[0];
  return [...fig.matchAll(/aria-label="([^"]+)" role="graphics-symbol" aria-roledescription="rect mark"/g)].map((m) => parseMark(m[1])!);
}

describe('the HTML page', () => {
  const t = tempDir('rtpsla-html-');
  afterAll(() => t.cleanup());

  test('one self-contained page: the heatmap has a row per call and the late cell where it was, the stall as a rule, sla\'s verdict', async () => {
    const file = writeJson(t.dir, 'timed.json', timed('timed'));
    const {html, outcome} = await htmlReport([file]);
    expect(html).not.toMatch(/<script|\bsrc="http|\bhref="http/);
    expect(html).toContain(`<p id="verdict" class="${outcome.pass ? 'pass' : 'fail'}">${outcome.verdictLine}</p>`);
    expect(outcome.verdictLine).toBe(evaluateFiles([file]).verdictLine);
    const cells = cellsOf(html, 'heatmap-relay');
    expect(cells).toHaveLength(20);
    expect(new Set(cells.map((c) => c.call)).size).toBe(4);
    expect(lateBand(cells, 20)).toEqual({calls: [2], from: 2, to: 3});
    expect(html).toContain('load stalled 40 ms, ending 2.54 s after the start');
    // no caller side in this report: no caller heatmap
    expect(html).not.toContain('data-chart="heatmap-caller"');
    for (const chart of ['steal', 'cdf', 'loss-jitter']) expect(html).toMatch(new RegExp(`data-chart="${chart}"><svg`));
  });

  test('a report from before timelines still gets its page, saying there is no timeline', async () => {
    const file = writeJson(t.dir, 'old.json', buildReport({count: 2, runId: 'old'}));
    const {html} = await htmlReport([file]);
    expect(html).toContain('No timeline in this report');
    expect(html).toMatch(/data-chart="cdf"><svg/);
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
