/** Rendering of a benchmark result: the vega-lite SVG chart and the cli-table3 console table. */
import Table from 'cli-table3';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type {BenchResult, PathResult} from './types.js';

/** Round trip (as the sim measures it) p50/p99/p99.9 against N, both paths, log-log axes. */
export async function renderChartSvg(r: BenchResult): Promise<string> {
  const rows: Array<{calls: number; path: string; percentile: string; ms: number}> = [];
  for (const n of r.results) {
    for (const p of [n.direct, n.relay]) {
      if (!p || p.roundTripMs.count === 0) continue;
      rows.push({calls: n.calls, path: p.path, percentile: 'p50', ms: p.roundTripMs.p50});
      rows.push({calls: n.calls, path: p.path, percentile: 'p99', ms: p.roundTripMs.p99});
      rows.push({calls: n.calls, path: p.path, percentile: 'p99.9', ms: p.roundTripMs.p999});
    }
  }
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'rtpsla: RTP round trip (sim → [serve relay] → echo → sim) vs concurrent calls',
      subtitle: `${r.machine.cpus}× ${r.machine.cpuModel}, Node ${r.machine.node}, ${r.startedAt.slice(0, 10)}, ${r.params.durationMs / 1000} s per phase`,
    },
    width: 640,
    height: 380,
    background: 'white',
    data: {values: rows},
    mark: {type: 'line', point: true},
    encoding: {
      x: {field: 'calls', type: 'quantitative', title: 'concurrent calls (N)', scale: {type: 'log'}, axis: {values: r.results.map((n) => n.calls)}},
      y: {field: 'ms', type: 'quantitative', title: 'round trip (ms, log)', scale: {type: 'log'}},
      color: {field: 'path', type: 'nominal', title: 'path', scale: {domain: ['direct', 'relay'], range: ['#4c78a8', '#e45756']}},
      strokeDash: {field: 'percentile', type: 'nominal', title: 'percentile', sort: ['p50', 'p99', 'p99.9']},
      shape: {field: 'percentile', type: 'nominal', sort: ['p50', 'p99', 'p99.9']},
      tooltip: [{field: 'calls'}, {field: 'path'}, {field: 'percentile'}, {field: 'ms'}],
    },
  };
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), {renderer: 'none'});
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const f = (v: number | null | undefined, d = 2): string => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(3)}%`);
const mb = (v: number | undefined): string => (v ? (v / 1048576).toFixed(0) : '–');

export function renderTable(r: BenchResult): string {
  const t = new Table({
    head: ['N', 'path', 'RT p50', 'RT p99', 'RT p99.9', 'RT max', 'relay lat p99', 'late', 'loss', 'max consec', 'CPU sim/echo/serve/bench %', 'µs/pkt', 'serve RSS MB', 'ELD p99 ms', 'UDP rcvbuf/in err', 'steal ms', 'SLA'],
    style: {head: [], border: []},
  });
  const line = (n: number, p: PathResult | null, ratio?: string) => {
    if (!p) return;
    const c = p.window.cpuPercent;
    t.push([
      String(n),
      p.path + (ratio ? `\n${ratio}` : ''),
      f(p.roundTripMs.p50),
      f(p.roundTripMs.p99),
      f(p.roundTripMs.p999),
      f(p.roundTripMs.max),
      p.relay ? f(p.relay.latenessMs.p99) : '–',
      pct(p.lateRatio),
      pct(p.lossRatio),
      p.maxConsecutiveMisses === null ? '–' : String(p.maxConsecutiveMisses),
      [c.sim, c.echo, c.serve, c.harness].map((v) => (v === undefined ? '–' : v.toFixed(0))).join('/'),
      f(p.relayCpuUsPerPacket, 1),
      mb(p.window.rssPeakBytes.serve),
      p.serve?.eventLoopDelayMs ? f(p.serve.eventLoopDelayMs.p99) : '–',
      `${p.window.udp.rcvbufErrors}/${p.window.udp.inErrors}`,
      String(p.window.hostSteal.phaseMs),
      p.relay ? (p.relay.sla.pass ? 'PASS' : `FAIL ${p.relay.sla.failed.join(',')}`) : '',
    ]);
  };
  for (const n of r.results) {
    line(n.calls, n.direct);
    const ratio = n.ratios ? `×${f(n.ratios.p50)}/${f(n.ratios.p99)}/${f(n.ratios.p999)}` : undefined;
    line(n.calls, n.relay, ratio);
  }
  const lines = [
    t.toString(),
    'RT = round trip measured by the sim, ms; relay row: relay/direct ratio of RT p50/p99/p99.9; steal = CPU time the hypervisor took from this VM during the phase (all CPUs).',
  ];
  lines.push(`Largest SLA-clean N (relay path): ${r.largestSlaCleanCalls ?? 'none'}`);
  for (const [k, v] of Object.entries(r.targets)) lines.push(`target ${k}: ${v.met === null ? 'not measured' : v.met ? 'MET' : 'NOT MET'} (${v.detail})`);
  return lines.join('\n');
}
