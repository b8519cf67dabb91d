/**
 * The charts of the HTML report as vega-lite specs, built from one report: the heatmap of calls ×
 * time coloured by worst lateness (one per side measured: the relay, the caller) with load's stalls
 * as vertical rules, the lateness CDF by leg from the report's histograms, loss and jitter per
 * call, and the host's steal per bucket. Pure: the data of each chart is inline in its spec;
 * src/report/svg.ts renders them.
 */
import type {TopLevelSpec} from 'vega-lite';
import {LatencyHistogram} from '../metrics/histogram.js';
import type {CallRecord, Report} from '../protocol/report.js';

export type Side = 'relay' | 'caller';

const LEG_NAMES: Readonly<Record<string, string>> = {a: 'Asterisk up', r: 'relay', m: 'media server', b: 'Asterisk back'};

/** Colours of the lateness scale: on time (two greens), then late by more and more. */
const LATENESS_COLOURS = ['#1a9850', '#a6d96a', '#fee08b', '#fdae61', '#f46d43', '#a50026'];

/** One rendered heatmap cell: a call's bucket. */
interface Cell {
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

/** Load's stalls as [start, end] seconds after the run's start. */
function stallRules(report: Report): Array<{t: number; label: string}> {
  return (report.loadHost?.stalls?.events ?? []).map((e) => ({
    t: round((e.atMs - e.stallMs) / 1000, 3),
    label: `load stalled ${e.stallMs} ms, ending ${round(e.atMs / 1000, 3)} s after the start`,
  }));
}

/** Calls × time, coloured by the worst lateness of each bucket, load's stalls as vertical rules. */
export function heatmapSpec(report: Report, side: Side): TopLevelSpec | null {
  const cells = heatmapCells(report, side);
  if (cells.length === 0) return null;
  const thr = report.params.lateThresholdMs;
  const domain = [thr / 2, thr, 2 * thr, 5 * thr, 15 * thr];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Worst lateness per call and second, at the ${side}`,
    width: 560,
    layer: [
      {
        data: {values: cells},
        mark: {type: 'rect', stroke: null},
        encoding: {
          x: {field: 't0', type: 'quantitative', title: 's after the start'},
          x2: {field: 't1'},
          y: {field: 'call', type: 'ordinal', title: 'call', sort: 'ascending', axis: {labelOverlap: true}},
          color: {
            field: 'worstMs',
            type: 'quantitative',
            title: 'worst lateness ms',
            scale: {type: 'threshold', domain, range: LATENESS_COLOURS},
          },
          description: {field: 'label'},
        },
      },
      {
        data: {values: stallRules(report)},
        mark: {type: 'rule', color: '#5e3c99', strokeWidth: 2, strokeDash: [4, 2]},
        encoding: {x: {field: 't', type: 'quantitative'}, description: {field: 'label'}},
      },
    ],
  } as TopLevelSpec;
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

/** The CDF of each leg's values (from the HDR histograms: cumulative counts at log-spaced bounds). */
export function cdfSpec(report: Report): TopLevelSpec | null {
  const legs = legHistograms(report);
  if (legs.length === 0) return null;
  const maxUs = Math.max(1000, ...legs.map((l) => l.h.maxUs()));
  const lo = 50;
  const steps = 80;
  const bounds = Array.from({length: steps + 1}, (_, i) => Math.round(lo * (maxUs / lo) ** (i / steps)));
  const values = legs.flatMap(({leg, h}) => h.cumulativeCountsUs(bounds).map((n, i) => ({leg, ms: bounds[i] / 1000, share: n / h.count})));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Lateness and delay by leg (share of frames at or below)',
    width: 560,
    height: 220,
    data: {values},
    mark: {type: 'line', interpolate: 'step-after'},
    encoding: {
      x: {field: 'ms', type: 'quantitative', scale: {type: 'log'}, title: 'ms'},
      y: {field: 'share', type: 'quantitative', title: 'share of frames', scale: {domain: [0, 1]}},
      color: {field: 'leg', type: 'nominal', title: 'leg', sort: null, legend: {orient: 'bottom', columns: 2}},
    },
  } as TopLevelSpec;
}

function callRows(c: CallRecord): Array<{call: number; side: Side; lossPct: number; jitterMs: number | null}> {
  const expected = typeof c.expected === 'number' ? c.expected : c.packetsUp;
  const rows: Array<{call: number; side: Side; lossPct: number; jitterMs: number | null}> = [
    {call: c.index, side: 'relay', lossPct: expected > 0 ? round((100 * c.lost) / expected, 3) : 0, jitterMs: c.jitterMs},
  ];
  if (c.caller) rows.push({call: c.index, side: 'caller', lossPct: round(100 * c.caller.lossRatio, 3), jitterMs: c.caller.jitterMs});
  return rows;
}

/** Loss (%) and jitter (ms) per call, at the relay and at the caller. */
export function lossJitterSpec(report: Report): TopLevelSpec | null {
  const values = report.calls.flatMap(callRows);
  if (values.length === 0) return null;
  const bars = (field: string, title: string) => ({
    width: 260,
    mark: 'bar',
    encoding: {
      y: {field: 'call', type: 'ordinal', title: 'call', axis: {labelOverlap: true}},
      yOffset: {field: 'side', sort: ['relay', 'caller']},
      x: {field, type: 'quantitative', title},
      color: {field: 'side', type: 'nominal', title: 'measured at', sort: ['relay', 'caller']},
      description: {field: 'label'},
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Loss and jitter per call',
    data: {values: values.map((v) => ({...v, label: `call ${v.call} at the ${v.side}: loss ${v.lossPct} %, jitter ${v.jitterMs ?? 'n/a'} ms`}))},
    hconcat: [bars('lossPct', 'loss %'), bars('jitterMs', 'jitter ms')],
  } as TopLevelSpec;
}

/** The CPU time the hypervisor took from load's machine, per bucket. */
export function stealSpec(report: Report): TopLevelSpec | null {
  const t = report.timeline;
  if (!t || t.stealMs.every((v) => v === null)) return null;
  const startMs = Date.parse(report.startedAt);
  const values = t.stealMs.flatMap((v, i) => (v === null ? [] : [{t0: ((t.first + i) * t.bucketMs - startMs) / 1000, t1: ((t.first + i + 1) * t.bucketMs - startMs) / 1000, stealMs: v}]));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'CPU steal on the machine that ran load (all CPUs)',
    width: 560,
    height: 80,
    data: {values},
    mark: 'rect',
    encoding: {
      x: {field: 't0', type: 'quantitative', title: 's after the start'},
      x2: {field: 't1'},
      y: {field: 'stealMs', type: 'quantitative', title: 'steal ms'},
      y2: {datum: 0},
    },
  } as TopLevelSpec;
}
