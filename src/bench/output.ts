/**
 * Rendering of a benchmark result: the chart as a Chart.js config (data inline; written as JSON
 * beside the result and drawn into a self-contained HTML page by src/report/page.ts, the one place
 * that inlines the chart library) and the cli-table3 console table.
 */
import Table from 'cli-table3';
import {logTicks, singleChartPage, type ChartConfig} from '../report/page.js';
import {logAxis} from '../report/charts.js';
import {PATH_NAMES, type BenchResult, type NResult, type PathName, type PathResult} from './types.js';

const PATH_COLOURS: Record<PathName, string> = {
  direct: '#4c78a8', native: '#54a24b', 'native-defaults': '#88d27a', node: '#e45756', rtpengine: '#b279a2', 'rtpengine-defaults': '#d6a5c9', rtpcaller: '#f58518',
};

/** How each percentile is drawn: its line's dash and its points' shape. */
const PERCENTILES = [
  {name: 'p50', key: 'p50', dash: [], point: 'circle'},
  {name: 'p99', key: 'p99', dash: [6, 3], point: 'rect'},
  {name: 'p99.9', key: 'p999', dash: [2, 2], point: 'triangle'},
] as const;

export const CHART_TITLE = 'rtpsla: RTP round trip (sim → [relay] → echo → sim) vs concurrent calls';

function chartSubtitle(r: BenchResult): string {
  return `${r.machine.cpus}× ${r.machine.cpuModel}, Node ${r.machine.node}, ${r.startedAt.slice(0, 10)}, ${r.params.durationMs / 1000} s per phase`;
}

/** Round trip (as the sim measures it) p50/p99/p99.9 against N, a line per path and percentile, log-log axes. */
export function chartConfig(r: BenchResult): ChartConfig {
  const datasets: ChartConfig['data']['datasets'] = [];
  for (const name of PATH_NAMES) {
    const points = r.results.flatMap((n) => {
      const p = n[name];
      return p?.roundTripMs && p.roundTripMs.count > 0 ? [{calls: n.calls, rt: p.roundTripMs}] : [];
    });
    if (points.length === 0) continue;
    for (const q of PERCENTILES) {
      datasets.push({
        label: `${name} ${q.name}`,
        path: name,
        percentile: q.name,
        borderColor: PATH_COLOURS[name],
        backgroundColor: PATH_COLOURS[name],
        borderDash: [...q.dash],
        pointStyle: q.point,
        pointRadius: 3,
        data: points.map(({calls, rt}) => ({x: calls, y: rt[q.key], label: `${name} ${q.name} at ${calls} calls: ${rt[q.key]} ms`})),
      });
    }
  }
  const ms = datasets.flatMap((d) => (d.data as Array<{y: number}>).map((p) => p.y)).filter((v) => v > 0);
  const calls = r.results.map((n) => n.calls);
  return {
    type: 'line',
    data: {datasets},
    options: {
      plugins: {
        title: {display: true, text: CHART_TITLE, font: {size: 14}},
        subtitle: {display: true, text: chartSubtitle(r)},
        legend: {position: 'right', labels: {usePointStyle: true}},
      },
      scales: {
        // a tick at each N measured
        x: {type: 'logarithmic', ...(calls.length > 0 ? {min: Math.min(...calls) / 1.2, max: Math.max(...calls) * 1.2, ticksAt: calls} : {}), title: {display: true, text: 'concurrent calls (N)'}},
        y: logAxis(ms.length > 0 ? logTicks(Math.min(...ms), Math.max(...ms)) : [], 'round trip (ms, log)'),
      },
    },
  };
}

/** The chart as one self-contained HTML page (Chart.js inlined; no network needed to open it). */
export function chartHtml(r: BenchResult): string {
  const notes = ['Hover a point for its path, percentile, N and round trip; click a legend entry to hide or show its line.'];
  return singleChartPage(CHART_TITLE, chartConfig(r), {heightPx: 480, notes});
}

const f = (v: number | null | undefined, d = 2): string => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
const signed = (v: number, d = 2): string => (v >= 0 ? '+' : '') + v.toFixed(d);
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(3)}%`);
const mb = (v: number | undefined): string => (v ? (v / 1048576).toFixed(0) : '–');

function relayCpu(p: PathResult): string {
  const c = p.window.cpuPercent;
  if (c.rtpengine !== undefined) return f(c.rtpengine, 0);
  if (c.serve === undefined) return '–';
  return c.engine !== undefined ? `${c.serve.toFixed(0)} (${c.engine.toFixed(0)})` : c.serve.toFixed(0);
}

/** A figure, with its min–max over the repeats when there were several: `12.1 [11.8–12.9]`. */
function withSpread(p: PathResult, key: string, v: number | null | undefined, d: number): string {
  const s = p.repeat?.figures[key];
  return s && s.min !== s.max ? `${f(v, d)} [${f(s.min, d)}–${f(s.max, d)}]` : f(v, d);
}

function usPerPacket(p: PathResult): string {
  if (p.relayCpuUsPerPacket === null) return '–';
  const main = withSpread(p, 'relayCpuUsPerPacket', p.relayCpuUsPerPacket, 1);
  const engine = p.engineCpuUsPerPacket !== null ? ` (${f(p.engineCpuUsPerPacket, 1)})` : '';
  return `${main}${engine} /proc ${withSpread(p, 'relayCpuUsPerPacketProc', p.relayCpuUsPerPacketProc, 1)}`;
}

function relaySched(p: PathResult): string {
  const r = p.relayPlacement;
  if (!r) return '';
  return `${r.scheduling}${r.mediaCpus !== null ? ` @${r.mediaCpus}` : ''}`;
}

function pathLabel(p: PathResult): string {
  if (!p.engines.relayRequested) return p.path;
  // the engine serve says it forwarded with, when it differs from the one asked for
  return p.engines.relay && p.engines.relay !== p.engines.relayRequested ? `${p.path} (serve: ${p.engines.relay})` : p.path;
}

export function renderTable(r: BenchResult): string {
  const t = new Table({
    head: [
      'N', 'path', 'RT p50', 'RT p99', 'RT p99.9', 'RT max', 'adds p50/p99/p99.9/max', 'relay lat p99', 'late', 'loss', 'max consec',
      'CPU % sim/echo/bench', 'relay CPU % (engine)', 'relay sched', 'relay µs/pkt (engine) /proc', 'caller µs/pkt', 'relay RSS MB', 'ELD p99 ms', 'UDP rcvbuf/in err', 'steal ms', 'SLA',
    ],
    style: {head: [], border: []},
  });
  const line = (n: NResult, p: PathResult | null) => {
    if (!p) return;
    const c = p.window.cpuPercent;
    const over = p.path === 'direct' ? null : n.overDirect[p.path];
    // no round trip of the sim's own (rtpcaller: it forwards load's caller)
    const rt = p.roundTripMs && p.roundTripMs.count > 0 ? p.roundTripMs : null;
    t.push([
      String(n.calls),
      pathLabel(p),
      f(rt?.p50),
      rt ? withSpread(p, 'roundTripMs.p99', rt.p99, 2) : '–',
      f(rt?.p999),
      f(rt?.max),
      over ? [over.addsMs.p50, over.addsMs.p99, over.addsMs.p999, over.addsMs.max].map((v) => signed(v)).join('/') : '–',
      p.relay?.latenessMs ? f(p.relay.latenessMs.p99) : '–',
      pct(p.lateRatio),
      pct(p.lossRatio),
      p.maxConsecutiveMisses === null ? '–' : String(p.maxConsecutiveMisses),
      [c.sim, c.echo, c.harness].map((v) => (v === undefined ? '–' : v.toFixed(0))).join('/'),
      relayCpu(p),
      relaySched(p),
      usPerPacket(p),
      withSpread(p, 'callerCpuUsPerPacket', p.callerCpuUsPerPacket, 1),
      mb(p.window.rssPeakBytes.serve ?? p.window.rssPeakBytes.rtpengine),
      p.serve?.eventLoopDelayMs ? f(p.serve.eventLoopDelayMs.p99) : '–',
      `${p.window.udp.rcvbufErrors}/${p.window.udp.inErrors}`,
      String(p.window.hostSteal.phaseMs),
      p.relay ? (p.relay.sla.pass ? 'PASS' : `FAIL ${p.relay.sla.failed.join(',')}`) : '',
    ]);
  };
  for (const n of r.results) for (const name of PATH_NAMES) line(n, n[name]);
  const lines = [
    t.toString(),
    'RT = round trip measured by the sim, ms; adds = relay − direct of RT p50/p99/p99.9/max, ms; relay = serve with its engine child (the native engine alone in',
    'parentheses) or the rtpengine daemon; steal = CPU time the hypervisor took from this VM during the phase (all CPUs).',
  ];
  for (const s of r.skipped) lines.push(`skipped: ${s.path}: ${s.reason}`);
  const largest = Object.entries(r.largestSlaCleanCalls).filter(([p]) => r.params.paths.includes(p as PathName)).map(([p, v]) => `${p} ${v ?? 'none'}`);
  lines.push(`Largest SLA-clean N (${r.largestSlaCleanBy === 'search' ? 'searched' : 'of the N given'}): ${largest.join(', ')}`);
  for (const [p, s] of Object.entries(r.search ?? {})) if (s?.firstFail) lines.push(`  ${p}: FAIL at ${s.firstFail.calls}: ${s.firstFail.limitingText}`);
  if (r.params.repeat > 1) lines.push(`Each figure is the median of ${r.params.repeat} runs; [min–max] where they differ (every figure's spread: repeat.figures in the JSON).`);
  for (const [k, v] of Object.entries(r.targets)) lines.push(`target ${k}: ${v.met === null ? 'not measured' : v.met ? 'MET' : 'NOT MET'} (${v.detail})`);
  return lines.join('\n');
}
