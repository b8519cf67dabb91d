/**
 * The HTML report in a real browser: headless Debian chromium driven by playwright-core opens the
 * page from a file (no server), with no console error and no network request; the heatmaps are
 * read on what was drawn: the cells Chart.js drew on the canvas (each element's box and resolved
 * colour, and the canvas pixel inside it carrying that colour), their rows by the drawn y axis
 * labels, their lateness class by colour; the verdict is `rtpsla sla`'s. Two runs through the sim:
 * a 300 ms stall of the whole chain shows one vertical band across every call; one call's media
 * delayed shows one row; both pages side by side in one. Screenshots go to reports/.
 */
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {chromium, type Browser, type Locator, type Page} from 'playwright-core';
import {ROOT, runCli} from '../helpers/cli.js';
import {latenessClass, LATENESS_COLOURS} from '../../src/report/charts.js';
import {chartHtml} from '../../src/bench/output.js';
import type {BenchResult} from '../../src/bench/types.js';
import {CALLS, classBand, delayRun, lateBand, parseMark, readDrawnCells, rgb, startRunStack, stallRun, type Mark} from './runs.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let dir: string;
let browser: Browser;
let stallReport: string;
let delayReport: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium`);
  dir = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-html-'));
  // playwright starts Chromium on a fresh, empty profile of its own
  browser = await chromium.launch({executablePath: CHROMIUM, args: ARGS, headless: true});
  const stack = await startRunStack();
  try {
    stallReport = await stallRun(stack, dir);
    delayReport = await delayRun(stack, dir);
  } finally {
    await stack.stop();
  }
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, {recursive: true, force: true});
});

/** `rtpsla report FILES --html`, opened from its file; console errors collected. */
async function open(files: string[], name: string): Promise<{page: Page; errors: string[]}> {
  const html = path.join(dir, `${name}.html`);
  const r = await runCli(['report', ...files, '--html', html], {timeoutMs: 60_000});
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const page = await browser.newPage({viewport: {width: 1400, height: 900}});
  const errors: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (req) => void (!req.url().startsWith('file:') && errors.push(`network request: ${req.url()}`)));
  await page.goto(pathToFileURL(html).href, {waitUntil: 'load'});
  await page.screenshot({path: path.join(ROOT, 'reports', `html-report-${name}.png`), fullPage: true});
  return {page, errors};
}

/** The late threshold of the runs (ms): load's default, what the colour classes are cut at. */
const THR_MS = 20;

/** A heatmap cell as drawn: its row (px, the middle of its box), its call (the row's label on the drawn axis; NaN where Chart.js skipped it), lateness class (its colour) and time span, and its label's figures. */
interface Cell {
  row: number;
  call: number;
  cls: number;
  t0: number;
  t1: number;
  mark: Mark;
}

/**
 * The heatmap cells of `chart` in the run column `nth`, read from what Chart.js drew: every
 * element's resolved colour is one of the lateness colours and the canvas carries it inside the
 * cell (at a point clear of the stall lines); each row has its call's label on the drawn axis.
 */
async function drawnCells(page: Page, chart: string, nth = 0): Promise<Cell[]> {
  const canvas = page.locator('section.run').nth(nth).locator(`figure[data-chart="${chart}"] canvas`);
  expect(await canvas.count()).toBe(1);
  const drawn = await canvas.evaluate(readDrawnCells);
  expect(drawn.cells.length).toBeGreaterThan(0);
  return drawn.cells.map((c) => {
    const cls = (LATENESS_COLOURS as readonly string[]).indexOf(c.colour);
    expect(cls).toBeGreaterThanOrEqual(0);
    expect(c.clearOfStall).toBeGreaterThan(3);
    // the canvas pixel inside the cell is the cell's colour, opaque
    const want = rgb(c.colour);
    c.pixel.slice(0, 3).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(2));
    expect(c.pixel[3]).toBe(255);
    const mark = parseMark(c.label)!;
    const call = c.rowLabel === undefined ? NaN : Number(c.rowLabel);
    // the colour drawn is the class of the cell's worst lateness, at its time, in the row labelled with its call
    expect({cls, t0: c.t0, t1: c.t1}).toEqual({cls: latenessClass(mark.worstMs, THR_MS), t0: mark.t0, t1: mark.t1});
    if (c.rowLabel !== undefined) expect(call).toBe(mark.call);
    return {row: Math.round(c.box.y + c.box.height / 2), call, cls, t0: c.t0, t1: c.t1, mark};
  });
}

/** The rows drawn: distinct heights of the cells' middles. */
const rows = (cells: readonly Cell[]) => new Set(cells.map((c) => c.row)).size;

/**
 * What Chart.js drew on each of `canvases`: the elements of its datasets, and the pixels of its
 * plot area painted opaque in one of its datasets' colours (its lines or bars, not its grid).
 */
async function drawnCharts(canvases: Locator): Promise<Array<{points: number; inked: number}>> {
  return canvases.evaluateAll((els) => els.map((el) => {
    const c = (globalThis as unknown as {Chart: {getChart(e: unknown): undefined | {
      data: {datasets: Array<{borderColor?: unknown; backgroundColor?: unknown}>}; getDatasetMeta(i: number): {data: unknown[]};
      chartArea: {left: number; top: number; right: number; bottom: number};
      ctx: {getImageData(x: number, y: number, w: number, h: number): {data: Uint8ClampedArray}}; currentDevicePixelRatio: number;
    }}}).Chart.getChart(el);
    if (!c) return {points: 0, inked: 0};
    const points = c.data.datasets.reduce((n: number, _d, i) => n + c.getDatasetMeta(i).data.length, 0);
    const colours = c.data.datasets.flatMap((d) => [d.borderColor, d.backgroundColor]).filter((v): v is string => typeof v === 'string' && /^#[0-9a-f]{6}$/i.test(v))
      .map((h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16)));
    const r = c.currentDevicePixelRatio;
    const a = c.chartArea;
    const px = c.ctx.getImageData(a.left * r, a.top * r, (a.right - a.left) * r, (a.bottom - a.top) * r).data;
    let inked = 0;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3] === 255 && colours.some((rgb) => rgb.every((v, k) => Math.abs(v - px[i + k]) <= 8))) inked++;
    }
    return {points, inked};
  }));
}

/** Every one of `canvases` has a chart drawn, in its datasets' colours; how many there are. */
async function inkedCharts(canvases: Locator): Promise<number> {
  const drawn = await drawnCharts(canvases);
  for (const d of drawn) {
    expect(d.points).toBeGreaterThan(0);
    expect(d.inked).toBeGreaterThan(100);
  }
  return drawn.length;
}

/** `rtpsla sla FILES`' verdict line. */
async function slaVerdict(files: string[]): Promise<string> {
  const r = await runCli(['sla', ...files]);
  return r.stdout.match(/^SLA (PASS|FAIL).*$/m)![0];
}

test('a 300 ms stall of the whole chain is one vertical band across every call, at the relay and at the caller', async () => {
  const {page, errors} = await open([stallReport], 'stall');
  expect(await page.locator('#verdict').innerText()).toBe(await slaVerdict([stallReport]));
  for (const chart of ['heatmap-relay', 'heatmap-caller']) {
    const cells = await drawnCells(page, chart);
    expect(rows(cells)).toBe(CALLS);
    // drawn: the cells coloured 100 ms or worse (the class holding 150 ms) are one band across every call
    const band = classBand(cells, latenessClass(150, THR_MS));
    expect(band.calls).toEqual([...Array(CALLS).keys()]);
    // one bucket wide (two if the stall straddled a bucket boundary)
    expect(band.to - band.from).toBeLessThanOrEqual(2.001);
    // and the labels of those drawn cells: worse than 150 ms across every call, in the same span
    const labelled = lateBand(cells.map((c) => c.mark), 150);
    expect(labelled.calls).toEqual([...Array(CALLS).keys()]);
    expect(labelled.to - labelled.from).toBeLessThanOrEqual(2.001);
  }
  expect(errors).toEqual([]);
  await page.close();
}, 90_000);

test('one call delayed by 60 ms is one row of the heatmap', async () => {
  const {page, errors} = await open([delayReport], 'delay');
  expect(await page.locator('#verdict').innerText()).toBe(await slaVerdict([delayReport]));
  for (const chart of ['heatmap-relay', 'heatmap-caller']) {
    const cells = await drawnCells(page, chart);
    expect(rows(cells)).toBe(CALLS);
    // drawn: only call 0's row has cells coloured 40 ms or worse
    const band = classBand(cells, latenessClass(40, THR_MS));
    expect(band.calls).toEqual([0]);
    expect(band.to - band.from).toBeGreaterThanOrEqual(1);
    expect(lateBand(cells.map((c) => c.mark), 40).calls).toEqual([0]);
  }
  expect(errors).toEqual([]);
  await page.close();
}, 90_000);

test('report --html A B draws both runs side by side, each with its own rows, under the verdict sla gives for both', async () => {
  const {page, errors} = await open([stallReport, delayReport], 'side-by-side');
  expect(await page.locator('#verdict').innerText()).toBe(await slaVerdict([stallReport, delayReport]));
  const columns = page.locator('section.run');
  expect(await columns.count()).toBe(2);
  const [a, b] = [await columns.nth(0).boundingBox(), await columns.nth(1).boundingBox()];
  expect(b!.x).toBeGreaterThanOrEqual(a!.x + a!.width);
  expect(Math.abs(b!.y - a!.y)).toBeLessThan(1);
  expect(classBand(await drawnCells(page, 'heatmap-relay', 0), latenessClass(150, THR_MS)).calls).toHaveLength(CALLS);
  expect(classBand(await drawnCells(page, 'heatmap-relay', 1), latenessClass(40, THR_MS)).calls).toEqual([0]);
  // the CDF and the per-call charts (loss and jitter: two canvases) were drawn for each run
  expect(await inkedCharts(page.locator('figure[data-chart="cdf"] canvas'))).toBe(2);
  // loss and jitter, two charts a run: each has its bars (loss may be 0 everywhere: bars of no width), the jitter's drawn
  const perCall = await drawnCharts(page.locator('figure[data-chart="loss-jitter"] canvas'));
  expect(perCall).toHaveLength(4);
  for (const d of perCall) expect(d.points).toBe(2 * CALLS);
  for (const jitter of [perCall[1], perCall[3]]) expect(jitter.inked).toBeGreaterThan(100);
  expect(errors).toEqual([]);
  await page.close();
}, 90_000);

test('npm start\'s page (the demo, 30 calls): the verdict, a heatmap row per call and the leg CDF, with no console error and no network request', async () => {
  const out = path.join(dir, 'demo');
  const r = await runCli(['demo', '--count', '30', '--duration-ms', '3000', '--delay-between-ms', '20', '--out', out, '--sim-rtp-range', '24000-24999', '--relay-port-range', '34000-34999'], {timeoutMs: 120_000});
  const html = r.stdout.match(/^HTML report: (\S+\.html)$/m)?.[1];
  expect(html).toBeDefined();
  const report = html!.replace(/\.html$/, '.json');
  const page = await browser.newPage({viewport: {width: 1400, height: 900}});
  const errors: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (req) => void (!req.url().startsWith('file:') && errors.push(`network request: ${req.url()}`)));
  await page.goto(pathToFileURL(html!).href, {waitUntil: 'load'});
  await page.screenshot({path: path.join(ROOT, 'reports', 'html-report-demo.png'), fullPage: true});
  expect(await page.locator('#verdict').innerText()).toBe(await slaVerdict([report]));
  expect(rows(await drawnCells(page, 'heatmap-relay'))).toBe(30);
  expect(await inkedCharts(page.locator('figure[data-chart="cdf"] canvas'))).toBe(1);
  expect(errors).toEqual([]);
  await page.close();
}, 150_000);

test('the bench\'s chart page (a committed bench result): the round trip drawn per path and percentile on log-log axes ticked at each N, with no console error and no network request', async () => {
  const result = JSON.parse(readFileSync(path.join(ROOT, 'docs/measurements/data/2026-12-07-bench-150-600-repeat3-root.json'), 'utf8')) as BenchResult;
  const html = path.join(dir, 'bench.html');
  writeFileSync(html, chartHtml(result));
  const page = await browser.newPage({viewport: {width: 1400, height: 900}});
  const errors: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (req) => void (!req.url().startsWith('file:') && errors.push(`network request: ${req.url()}`)));
  await page.goto(pathToFileURL(html).href, {waitUntil: 'load'});
  await page.screenshot({path: path.join(ROOT, 'reports', 'bench-chart.png'), fullPage: true});
  const drawn = await page.locator('canvas').evaluate((el) => {
    type Scale = {type: string; ticks: Array<{value: number; label: string}>};
    const c = (globalThis as unknown as {Chart: {getChart(e: unknown): {data: {datasets: Array<{label: string}>}; getDatasetMeta(i: number): {data: Array<{x: number; y: number}>}; scales: Record<string, Scale>}}}).Chart.getChart(el);
    return {
      lines: c.data.datasets.map((d, i) => ({label: d.label, points: c.getDatasetMeta(i).data.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).length})),
      x: {type: c.scales.x.type, ticks: c.scales.x.ticks.map((t) => t.label)},
      y: c.scales.y.type,
    };
  });
  expect(drawn.x).toEqual({type: 'logarithmic', ticks: ['150', '600']});
  expect(drawn.y).toBe('logarithmic');
  expect(drawn.lines.length).toBeGreaterThan(3);
  for (const l of drawn.lines) expect(l.points).toBe(2);
  expect(await inkedCharts(page.locator('canvas'))).toBe(1);
  expect(errors).toEqual([]);
  await page.close();
}, 60_000);
