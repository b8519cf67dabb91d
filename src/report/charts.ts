/**
 * The charts of the HTML report as Chart.js configs (plain JSON, data inline; src/report/page.ts
 * puts them in the page and its inline script draws them), built from one report: the heatmap of
 * calls × time coloured by worst lateness (one per side measured: the relay, the caller) with
 * load's stalls as vertical lines, the host's steal per bucket, the lateness CDF by leg from the
 * report's histograms, and loss and jitter per call. Pure: a report in, configs out.
 */
import {LatencyHistogram} from '../metrics/histogram.js';
import type {CallRecord, Report} from '../protocol/report.js';
import {logTicks, type ChartConfig} from './page.js';

export type Side = 'relay' | 'caller';

const LEG_NAMES: Readonly<Record<string, string>> = {a: 'Asterisk up', r: 'relay', m: 'media server', b: 'Asterisk back'};

/** Colours of the lateness scale: on time (two greens), then late by more and more. */
export const LATENESS_COLOURS = ['#1a9850', '#a6d96a', '#fee08b', '#fdae61', '#f46d43', '#a50026'] as const;

/** Colours of nominal series (legs, sides), in order. */
const SERIES_COLOURS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#b279a2'];

const STALL_COLOUR = '#5e3c99';

/** One heatmap cell: a call's bucket. */
export interface Cell {
  call: number;
  t0: number;
  t1: number;
  worstMs: number;
  late: number;
  label: string;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The lower bounds (ms) of the lateness classes above the first, for a late threshold of `thrMs`. */
export function latenessBounds(thrMs: number): number[] {
  return [thrMs / 2, thrMs, 2 * thrMs, 5 * thrMs, 15 * thrMs];
}

/** The lateness classes: colour and what it means ("20–40 ms"); class i holds worst lateness in [bound i−1, bound i). */
export function latenessClasses(thrMs: number): Array<{colour: string; label: string; fromMs: number}> {
  const b = latenessBounds(thrMs);
  return LATENESS_COLOURS.map((colour, i) => ({
    colour,
    fromMs: i === 0 ? -Infinity : b[i - 1],
    label: i === 0 ? `< ${b[0]} ms` : i === b.length ? `≥ ${b[i - 1]} ms` : `${b[i - 1]}–${b[i]} ms`,
  }));
}

/** The class of a worst lateness (a threshold scale: the number of bounds at or below it). */
export function latenessClass(worstMs: number, thrMs: number): number {
  return latenessBounds(thrMs).filter((b) => worstMs >= b).length;
}

/** The cells of one side of every call: seconds after the run's start, one per bucket with a frame. */
export function heatmapCells(report: Report, side: Side): Cell[] {
  const startMs = Date.parse(report.startedAt);
  const cells: Cell[] = [];
  for (const c of report.calls) {
    const t = c.timeline;
    const s = t?.[side];
    if (!t || !s) continue;
    for (let i = 0; i < s.worstMs.length; i++) {
      const w = s.worstMs[i];
      if (w === null) continue;
      const t0 = round(((s.first + i) * t.bucketMs - startMs) / 1000, 3);
      const t1 = round(t0 + t.bucketMs / 1000, 3);
      const leg = s.late[i] > 0 ? ` (mostly ${LEG_NAMES[s.leg.charAt(i)] ?? 'unknown'})` : '';
      cells.push({call: c.index, t0, t1, worstMs: w, late: s.late[i], label: `call ${c.index} · ${t0}–${t1} s · worst ${w} ms · ${s.late[i]} late${leg}`});
    }
  }
  return cells;
}

/** Load's stalls: where each began (s after the run's start) and what it was. */
export function stallRules(report: Report): Array<{t: number; label: string}> {
  return (report.loadHost?.stalls?.events ?? []).map((e) => ({
    t: round((e.atMs - e.stallMs) / 1000, 3),
    label: `load stalled ${e.stallMs} ms, ending ${round(e.atMs / 1000, 3)} s after the start`,
  }));
}

/** The steal buckets of the run: [t0, t1) s after the start and the steal (null: not sampled). */
function stealBuckets(report: Report): Array<{t0: number; t1: number; stealMs: number | null}> {
  const t = report.timeline;
  if (!t) return [];
  const startMs = Date.parse(report.startedAt);
  return t.stealMs.map((v, i) => ({t0: round(((t.first + i) * t.bucketMs - startMs) / 1000, 3), t1: round(((t.first + i + 1) * t.bucketMs - startMs) / 1000, 3), stealMs: v}));
}

/** The run's time axis (s after the start), shared by its heatmaps and steal so they line up: every cell, stall and steal bucket. */
export function timeDomain(report: Report): {min: number; max: number} | null {
  const from: number[] = [];
  const to: number[] = [];
  for (const side of ['relay', 'caller'] as const) {
    for (const c of heatmapCells(report, side)) {
      from.push(c.t0);
      to.push(c.t1);
    }
  }
  for (const s of stealBuckets(report)) {
    if (s.stealMs === null) continue;
    from.push(s.t0);
    to.push(s.t1);
  }
  for (const s of stallRules(report)) {
    from.push(s.t);
    to.push(s.t);
  }
  if (from.length === 0) return null;
  return {min: Math.min(...from), max: Math.max(...to)};
}

/** A log axis with its ticks at `ticks` and its bounds the first and the last. */
export const logAxis = (ticks: readonly number[], text: string) => ({
  type: 'logarithmic', ...(ticks.length > 0 ? {min: ticks[0], max: ticks.at(-1), ticksAt: [...ticks]} : {}), title: {display: true, text},
});

/** The time axis of the heatmaps and the steal, over the run's time domain. */
const timeAxis = (domain: {min: number; max: number}) => ({
  type: 'linear', min: domain.min, max: domain.max, offset: false, ticks: {includeBounds: false}, title: {display: true, text: 's after the start'},
});
const title = (text: string) => ({display: true, text, font: {size: 14}});
const axisTitle = (text: string) => ({display: true, text});

/** Rows of a heatmap: the calls with a cell, in order, each its row index (0 at the top). */
function heatmapRows(cells: readonly Cell[]): Map<number, number> {
  return new Map([...new Set(cells.map((c) => c.call))].sort((a, b) => a - b).map((call, i) => [call, i]));
}

/** Load's stalls as one line dataset: a vertical line across every row per stall (a null point between two). */
function stallDataset(report: Report, rows: number): Record<string, unknown> & {data: unknown[]} {
  const stalls = stallRules(report);
  return {
    type: 'line',
    role: 'stalls',
    // drawn over the cells (Chart.js draws the lowest order last)
    order: -1,
    label: `load stalled (${stalls.length})`,
    data: stalls.flatMap((s) => [{x: s.t, y: -0.5, label: s.label}, {x: s.t, y: rows - 0.5, label: s.label}, {x: s.t, y: null}]),
    borderColor: STALL_COLOUR,
    backgroundColor: STALL_COLOUR,
    borderWidth: 2,
    borderDash: [4, 2],
    pointRadius: 0,
    pointHitRadius: 6,
    spanGaps: false,
    fill: false,
  };
}

/** Calls × time, each cell coloured by the class of its worst lateness, load's stalls as vertical lines. */
export function heatmapChart(report: Report, side: Side): ChartConfig | null {
  const cells = heatmapCells(report, side);
  if (cells.length === 0) return null;
  const thr = report.params.lateThresholdMs;
  const rows = heatmapRows(cells);
  const domain = timeDomain(report)!;
  const stalls = report.loadHost?.stalls?.events.length ? [stallDataset(report, rows.size)] : [];
  return {
    type: 'matrix',
    data: {
      datasets: [
        {
          type: 'matrix',
          role: 'cells',
          label: 'worst lateness',
          hideInLegend: true,
          data: cells.map((c) => ({x: round((c.t0 + c.t1) / 2, 4), y: rows.get(c.call)!, x0: c.t0, x1: c.t1, c: LATENESS_COLOURS[latenessClass(c.worstMs, thr)], label: c.label})),
        },
        ...latenessClasses(thr).map((k) => ({type: 'matrix', role: 'class', label: k.label, backgroundColor: k.colour, data: []})),
        ...stalls,
      ],
    },
    options: {
      interaction: {mode: 'nearest', intersect: true},
      plugins: {title: title(`Worst lateness per call and second, at the ${side}`), legend: {position: 'bottom', labels: {boxWidth: 12}}},
      scales: {
        x: timeAxis(domain),
        y: {
          type: 'linear', min: -0.5, max: rows.size - 0.5, reverse: true, offset: false, grid: {display: false},
          ticks: {autoSkip: true, autoSkipPadding: 1, font: {size: 10}}, tickLabels: [...rows.keys()].map(String), title: axisTitle('call'),
        },
      },
    },
  };
}

/** The CPU time the hypervisor took from load's machine, per bucket (unsampled buckets left empty). */
export function stealChart(report: Report): ChartConfig | null {
  const buckets = stealBuckets(report);
  if (buckets.every((b) => b.stealMs === null)) return null;
  const domain = timeDomain(report)!;
  return {
    type: 'bar',
    data: {
      datasets: [{
        label: 'steal ms',
        backgroundColor: SERIES_COLOURS[0],
        barPercentage: 1,
        categoryPercentage: 1,
        data: buckets.map((b) => ({x: round((b.t0 + b.t1) / 2, 4), y: b.stealMs, label: `${b.t0}–${b.t1} s · steal ${b.stealMs ?? 'not sampled'}${b.stealMs === null ? '' : ' ms'}`})),
      }],
    },
    options: {
      plugins: {title: title('CPU steal on the machine that ran load (all CPUs)'), legend: {display: false}},
      scales: {
        x: timeAxis(domain),
        y: {type: 'linear', beginAtZero: true, title: axisTitle('steal ms')},
      },
    },
  };
}

/** The histograms of the legs a report has, in path order, with their names. */
function legHistograms(report: Report): Array<{leg: string; h: LatencyHistogram}> {
  const h = report.histograms;
  const named: Array<[string, string | undefined]> = [
    ['Asterisk up (arrival at the relay)', h.upLatenessUs],
    ['relay (its hold)', h.relayHoldUs],
    ['media server (round trip from the relay)', h.rttUs],
    ['at the relay (lateness of the back stream)', h.latenessUs],
    ['at the caller (Asterisk back included)', h.hearsLatenessUs],
  ];
  return named.filter((n): n is [string, string] => n[1] !== undefined).map(([leg, b64]) => ({leg, h: LatencyHistogram.fromBase64(b64)})).filter((x) => x.h.count > 0);
}

/** The CDF of each leg's values (from the HDR histograms: cumulative counts at log-spaced bounds), as step lines on a log axis. */
export function cdfChart(report: Report): ChartConfig | null {
  const legs = legHistograms(report);
  if (legs.length === 0) return null;
  const maxUs = Math.max(1000, ...legs.map((l) => l.h.maxUs()));
  const lo = 50;
  const steps = 80;
  const bounds = Array.from({length: steps + 1}, (_, i) => Math.round(lo * (maxUs / lo) ** (i / steps)));
  const datasets = legs.map(({leg, h}, i) => ({
    label: leg,
    borderColor: SERIES_COLOURS[i % SERIES_COLOURS.length],
    backgroundColor: SERIES_COLOURS[i % SERIES_COLOURS.length],
    // the share at a bound holds until the next bound (step-after)
    stepped: 'before',
    borderWidth: 1.5,
    pointRadius: 0,
    pointHitRadius: 4,
    data: h.cumulativeCountsUs(bounds).map((n, j) => {
      const share = round(n / h.count, 6);
      return {x: bounds[j] / 1000, y: share, label: `${leg}: ${round(100 * share, 3)} % of frames at or below ${bounds[j] / 1000} ms`};
    }),
  }));
  return {
    type: 'line',
    data: {datasets},
    options: {
      plugins: {title: title('Lateness and delay by leg (share of frames at or below)'), legend: {position: 'bottom', labels: {boxWidth: 12}}},
      scales: {
        x: logAxis(logTicks(lo / 1000, maxUs / 1000), 'ms'),
        y: {type: 'linear', min: 0, max: 1, title: axisTitle('share of frames')},
      },
    },
  };
}

interface CallRow {
  call: number;
  side: Side;
  lossPct: number;
  jitterMs: number | null;
}

function callRows(c: CallRecord): CallRow[] {
  const expected = typeof c.expected === 'number' ? c.expected : c.packetsUp;
  const rows: CallRow[] = [{call: c.index, side: 'relay', lossPct: expected > 0 ? round((100 * c.lost) / expected, 3) : 0, jitterMs: c.jitterMs}];
  if (c.caller) rows.push({call: c.index, side: 'caller', lossPct: round(100 * c.caller.lossRatio, 3), jitterMs: c.caller.jitterMs});
  return rows;
}

/** One bar chart per call (horizontal), a bar per side measured. */
function perCallBars(rows: readonly CallRow[], calls: readonly string[], figure: 'lossPct' | 'jitterMs', text: string, axis: string): ChartConfig {
  const sides = (['relay', 'caller'] as const).filter((s) => rows.some((r) => r.side === s));
  return {
    type: 'bar',
    data: {
      labels: [...calls],
      datasets: sides.map((side, i) => ({
        label: `at the ${side}`,
        backgroundColor: SERIES_COLOURS[i],
        data: rows.filter((r) => r.side === side).map((r) => ({
          y: String(r.call), x: r[figure], label: `call ${r.call} at the ${r.side}: loss ${r.lossPct} %, jitter ${r.jitterMs ?? 'n/a'} ms`,
        })),
      })),
    },
    options: {
      indexAxis: 'y',
      plugins: {title: title(text), legend: {position: 'bottom', labels: {boxWidth: 12}}},
      scales: {x: {type: 'linear', beginAtZero: true, title: axisTitle(axis)}, y: {type: 'category', title: axisTitle('call'), ticks: {autoSkip: true}}},
    },
  };
}

/** Loss (%) and jitter (ms) per call, at the relay and at the caller: two charts side by side. */
export function lossJitterCharts(report: Report): ChartConfig[] | null {
  const rows = report.calls.flatMap(callRows);
  if (rows.length === 0) return null;
  const calls = [...new Set(rows.map((r) => r.call))].sort((a, b) => a - b).map(String);
  return [perCallBars(rows, calls, 'lossPct', 'Loss per call', 'loss %'), perCallBars(rows, calls, 'jitterMs', 'Jitter per call', 'jitter ms')];
}
