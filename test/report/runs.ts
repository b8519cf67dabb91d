/**
 * Two short runs through the sim for the HTML report's browser test: a stall of the whole chain
 * (the sim's native engine stopped for 300 ms, ~2 s into the calls) and one call's media delayed
 * (the sim's forwardDelay on call 0). Each writes its report into `dir` and returns its path.
 */
import {execFileSync} from 'node:child_process';
import path from 'node:path';
import {CliProcess, runCli} from '../helpers/cli.js';
import {AriRest} from '../../src/ari/rest.js';
import {ARI_PASS, ARI_USER, liveCalls, simFault, startEchoProc, startServeProc, type Stack} from '../helpers/stack.js';

export const CALLS = 6;
const DURATION_MS = 5000;

/** sim, echo and serve on port ranges of this test's own. */
export async function startRunStack(): Promise<Stack> {
  const sim = new CliProcess(['sim', '--port', '0', '--rtp-range', '27100-27499', '--log-level', 'warn'], {ARI_USER, ARI_PASS});
  const simUrl = (await sim.waitFor(/listening on (http:\/\/[\d.]+:\d+)/, 20_000))[1];
  const {echo, echoPort} = await startEchoProc();
  const {serve, serveUrl} = await startServeProc(simUrl, echoPort, ['--port-range', '37100-37499']);
  const ari = new AriRest({url: simUrl, user: ARI_USER, pass: ARI_PASS});
  return {
    sim, echo, serve, simUrl, echoPort, serveUrl, ari,
    async stop() {
      ari.close();
      await Promise.all([serve.stop(), echo.stop()]);
      await sim.stop();
    },
  };
}

/** `rtpsla load` of CALLS calls against the stack, in a child process; resolves with the report's path. */
function load(stack: Stack, dir: string, runId: string): {done: Promise<string>} {
  const done = runCli(
    ['load', '--count', String(CALLS), '--duration-ms', String(DURATION_MS), '--delay-between-ms', '50', '--serve-url', stack.serveUrl,
      '--caller-port-range', '58100-58499', '--out', dir, '--run-id', runId, '--json'],
    {env: {ARI_URL: stack.simUrl, ARI_USER, ARI_PASS}, timeoutMs: 90_000},
  ).then((r) => {
    if (r.code !== 0 && r.code !== 1) throw new Error(`load failed (${r.code}): ${r.stderr.slice(-1500)}`);
    return path.join(dir, `${runId}.json`);
  });
  return {done};
}

/** Every call of the run is up at serve (or `timeoutMs` passed). */
async function allUp(stack: Stack, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const up = (await liveCalls(stack.serveUrl).catch(() => [])).filter((c) => c.state === 'up');
    if (up.length >= CALLS) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not all ${CALLS} calls came up within ${timeoutMs} ms`);
}

/** The pid of the sim's native media engine: its child process `rtpsla-engine`. */
export function simEnginePid(sim: CliProcess): number {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(sim.child.pid)], {encoding: 'utf8'});
  const line = out.split('\n').find((l) => /\brtpsla-engine\b/.test(l));
  if (!line) throw new Error(`the sim (pid ${sim.child.pid}) has no rtpsla-engine child: is the native engine built? (ps: ${out.trim()})`);
  return Number(line.trim().split(/\s+/)[0]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The whole chain stops for 300 ms about 2 s into the run: every call late at once. */
export async function stallRun(stack: Stack, dir: string): Promise<string> {
  const pid = simEnginePid(stack.sim);
  const started = Date.now();
  const run = load(stack, dir, 'html-stall');
  await allUp(stack);
  await sleep(Math.max(0, 2000 - (Date.now() - started)));
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(300);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  return run.done;
}

/** Call 0's media toward the relay is held 60 ms longer for 2 s: that call alone late. */
export async function delayRun(stack: Stack, dir: string): Promise<string> {
  const run = load(stack, dir, 'html-delay');
  await allUp(stack);
  await sleep(500);
  await simFault(stack.simUrl, {forwardDelay: {calls: [0], direction: 'toRelay', extraMs: 60, durationMs: 2000}});
  return run.done;
}

/** A heatmap cell as its label says it (the tooltip of the cell Chart.js drew). */
export interface Mark {
  call: number;
  t0: number;
  t1: number;
  worstMs: number;
  late: number;
}

export function parseMark(label: string): Mark | null {
  const m = label.match(/^call (\d+) · ([\d.-]+)–([\d.-]+) s · worst ([\d.-]+) ms · (\d+) late/);
  return m ? {call: Number(m[1]), t0: Number(m[2]), t1: Number(m[3]), worstMs: Number(m[4]), late: Number(m[5])} : null;
}

/** Calls with a cell worse than `overMs`, and the time span (s) those cells cover. */
export function lateBand(marks: readonly Mark[], overMs: number): {calls: number[]; from: number; to: number} {
  const late = marks.filter((m) => m.worstMs > overMs);
  return {
    calls: [...new Set(late.map((m) => m.call))].sort((a, b) => a - b),
    from: Math.min(...late.map((m) => m.t0)),
    to: Math.max(...late.map((m) => m.t1)),
  };
}

/**
 * A heatmap cell as Chart.js drew it on the canvas, read in the page: the element's box (px),
 * its resolved fill colour, the canvas pixel at a point inside it (away from any stall line), the
 * row's label on the drawn y axis (the call), its time span read back through the drawn x axis,
 * and the tooltip label of the cell.
 */
export interface DrawnCell {
  box: {x: number; y: number; width: number; height: number};
  colour: string;
  /** RGBA of the canvas at `at`. */
  pixel: number[];
  at: {x: number; y: number};
  /** The px distance from `at` to the nearest stall line (Infinity without one). */
  clearOfStall: number;
  /** The drawn y axis label at the cell's row (undefined when Chart.js skipped that label). */
  rowLabel: string | undefined;
  t0: number;
  t1: number;
  label: string;
}

/** What `readDrawnCells` returns: the cells, the stall lines (x px) and the chart's rows as drawn. */
export interface Drawn {
  cells: DrawnCell[];
  stallXs: number[];
}

interface ChartElement {
  getProps(props: string[], final: boolean): Record<string, number>;
  options: {backgroundColor: string};
  $context: {raw: {label: string}};
}
interface ChartScale {
  getValueForPixel(px: number): number;
  getPixelForValue(v: number): number;
  ticks: Array<{value: number; label: string}>;
}
interface ChartInstance {
  data: {datasets: Array<{role?: string}>};
  getDatasetMeta(i: number): {data: ChartElement[]};
  scales: Record<string, ChartScale>;
  currentDevicePixelRatio: number;
  ctx: {getImageData(x: number, y: number, w: number, h: number): {data: Uint8ClampedArray}};
  canvas: {width: number; height: number};
}

/** Runs in the page (playwright serialises it): the drawn cells of the heatmap on `canvas`. */
export function readDrawnCells(canvas: unknown): Drawn {
  const chart = (globalThis as unknown as {Chart: {getChart(c: unknown): ChartInstance | undefined}}).Chart.getChart(canvas);
  if (!chart) throw new Error('no chart drawn on this canvas');
  const index = (role: string) => chart.data.datasets.findIndex((d) => d.role === role);
  const stalls = index('stalls');
  const stallXs = stalls < 0 ? [] : chart.getDatasetMeta(stalls).data.map((p) => p.getProps(['x'], true).x).filter((x) => Number.isFinite(x));
  const clear = (x: number) => Math.min(Infinity, ...stallXs.map((s) => Math.abs(s - x)));
  const r = chart.currentDevicePixelRatio;
  const image = chart.ctx.getImageData(0, 0, chart.canvas.width, chart.canvas.height).data;
  const [xs, ys] = [chart.scales.x, chart.scales.y];
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const cells = chart.getDatasetMeta(index('cells')).data.map((e): DrawnCell => {
    const box = e.getProps(['x', 'y', 'width', 'height'], true) as DrawnCell['box'];
    // the point of the cell's middle row farthest from every stall line, of three across it
    const x = [0.25, 0.5, 0.75].map((f) => box.x + f * box.width).reduce((a, b) => (clear(b) > clear(a) ? b : a));
    const at = {x: Math.round(x), y: Math.round(box.y + box.height / 2)};
    const o = (Math.round(at.y * r) * chart.canvas.width + Math.round(at.x * r)) * 4;
    const rowTick = ys.ticks.find((t) => Math.abs(ys.getPixelForValue(t.value) - (box.y + box.height / 2)) < 0.5);
    return {
      box, at, colour: e.options.backgroundColor, pixel: [image[o], image[o + 1], image[o + 2], image[o + 3]], clearOfStall: clear(at.x),
      rowLabel: rowTick?.label, t0: round(xs.getValueForPixel(box.x)), t1: round(xs.getValueForPixel(box.x + box.width)), label: e.$context.raw.label,
    };
  });
  return {cells, stallXs};
}

/** `#rrggbb` as [r, g, b]. */
export function rgb(hex: string): number[] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

/** Calls whose drawn cell is of lateness class `minClass` or worse, and the time span (s) those cells cover. */
export function classBand(cells: ReadonlyArray<{call: number; cls: number; t0: number; t1: number}>, minClass: number): {calls: number[]; from: number; to: number} {
  const late = cells.filter((c) => c.cls >= minClass);
  return {
    calls: [...new Set(late.map((c) => c.call))].sort((a, b) => a - b),
    from: Math.min(...late.map((c) => c.t0)),
    to: Math.max(...late.map((c) => c.t1)),
  };
}
