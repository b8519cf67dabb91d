/**
 * The HTML report in a real browser: headless Debian chromium driven by playwright-core opens the
 * page from a file (no server), with no console error; the heatmaps are counted on their rendered
 * SVG marks (one row per call); the verdict is `rtpsla sla`'s. Two runs through the sim: a 300 ms
 * stall of the whole chain shows one vertical band across every call; one call's media delayed
 * shows one row; both pages side by side in one. Screenshots go to reports/.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {chromium, type Browser, type Page} from 'playwright-core';
import {ROOT, runCli} from '../helpers/cli.js';
import {CALLS, delayRun, lateBand, parseMark, startRunStack, stallRun, type Mark} from './runs.js';

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

/** The heatmap cells of `chart` in the run column `nth`, read from the rendered SVG marks' labels. */
async function marks(page: Page, chart: string, nth = 0): Promise<Mark[]> {
  const labels = await page
    .locator('section.run')
    .nth(nth)
    .locator(`figure[data-chart="${chart}"] svg [aria-roledescription="rect mark"]`)
    .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  return labels.map(parseMark).filter((m): m is Mark => m !== null);
}

const rows = (ms: readonly Mark[]) => new Set(ms.map((m) => m.call)).size;

/** `rtpsla sla FILES`' verdict line. */
async function slaVerdict(files: string[]): Promise<string> {
  const r = await runCli(['sla', ...files]);
  return r.stdout.match(/^SLA (PASS|FAIL).*$/m)![0];
}

test('a 300 ms stall of the whole chain is one vertical band across every call, at the relay and at the caller', async () => {
  const {page, errors} = await open([stallReport], 'stall');
  expect(await page.locator('#verdict').innerText()).toBe(await slaVerdict([stallReport]));
  for (const chart of ['heatmap-relay', 'heatmap-caller']) {
    const cells = await marks(page, chart);
    expect(rows(cells)).toBe(CALLS);
    const band = lateBand(cells, 150);
    expect(band.calls).toEqual([...Array(CALLS).keys()]);
    // one bucket wide (two if the stall straddled a bucket boundary)
    expect(band.to - band.from).toBeLessThanOrEqual(2.001);
  }
  expect(errors).toEqual([]);
  await page.close();
}, 90_000);

test('one call delayed by 60 ms is one row of the heatmap', async () => {
  const {page, errors} = await open([delayReport], 'delay');
  expect(await page.locator('#verdict').innerText()).toBe(await slaVerdict([delayReport]));
  for (const chart of ['heatmap-relay', 'heatmap-caller']) {
    const cells = await marks(page, chart);
    expect(rows(cells)).toBe(CALLS);
    const band = lateBand(cells, 40);
    expect(band.calls).toEqual([0]);
    expect(band.to - band.from).toBeGreaterThanOrEqual(1);
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
  expect(lateBand(await marks(page, 'heatmap-relay', 0), 150).calls).toHaveLength(CALLS);
  expect(lateBand(await marks(page, 'heatmap-relay', 1), 40).calls).toEqual([0]);
  // the CDF and the per-call charts were drawn for each run
  for (const chart of ['cdf', 'loss-jitter']) expect(await page.locator(`figure[data-chart="${chart}"] svg`).count()).toBe(2);
  expect(errors).toEqual([]);
  await page.close();
}, 90_000);

test('npm start\'s page (the demo, 30 calls): the verdict, a heatmap row per call and the leg CDF, with no console error', async () => {
  const out = path.join(dir, 'demo');
  const r = await runCli(['demo', '--count', '30', '--duration-ms', '3000', '--delay-between-ms', '20', '--out', out, '--sim-rtp-range', '24000-24999', '--relay-port-range', '34000-34999'], {timeoutMs: 120_000});
  const html = r.stdout.match(/^HTML report: (\S+\.html)$/m)?.[1];
  expect(html).toBeDefined();
  const report = html!.replace(/\.html$/, '.json');
  const page = await browser.newPage({viewport: {width: 1400, height: 900}});
  const errors: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(pathToFileURL(html!).href, {waitUntil: 'load'});
  await page.screenshot({path: path.join(ROOT, 'reports', 'html-report-demo.png'), fullPage: true});
  expect(await page.locator('#verdict').innerText()).toBe(await slaVerdict([report]));
  expect(rows(await marks(page, 'heatmap-relay'))).toBe(30);
  expect(await page.locator('figure[data-chart="cdf"] svg').count()).toBe(1);
  expect(errors).toEqual([]);
  await page.close();
}, 150_000);
