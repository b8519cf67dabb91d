/**
 * `rtpsla bench`: for each N, the direct path (sim → echo, the benchmark as Stasis app), the
 * rtpsla relay with the native engine and with the node engine (sim → serve → echo, driven by
 * `load`), and rtpengine in userspace (sim → rtpengine → echo, set up per call over ng), each with
 * fresh child processes, measured over the steady window; then the result JSON, the chart's spec
 * (and SVG when vega is installed) and a console table.
 */
import {randomBytes} from 'node:crypto';
import path from 'node:path';
import {writeFileAtomic} from '../sla/render.js';
import {errorMessage} from '../errors.js';
import {parsePortRange} from '../config/parse.js';
import type {BenchCredentials, ChildRegistry} from './children.js';
import {BENCH_SCHEMA_ID, PATH_NAMES, RELAY_PATH_NAMES, type BenchResult, type NResult, type PathName} from './types.js';
import {chartSpec, renderChartSvg, renderTable} from './output.js';
import {planPaths} from './paths.js';
import {rtpengineVersion} from './rtpengine/daemon.js';
import {findTaskset, placementFor, SHARED_CPU_MAX_CALLS} from './placement.js';
import {NG_FLAGS} from './rtpengine/route.js';
import {DEFAULT_RTPENGINE_PORT_RANGE, type BenchOptions} from './options.js';
import {machineInfo, timestamp} from './machine.js';
import {compare, largestClean, targets} from './judge.js';
import {runPhase, type PhaseCtx} from './phase.js';

export {DEFAULT_CALLS, DEFAULT_RTPENGINE_PORT_RANGE, type BenchOptions} from './options.js';

export interface BenchOutput {
  result: BenchResult;
  jsonPath: string;
  chartSpecPath: string;
  svgPath: string | null;
  table: string;
}

/** The notes a bench result carries: how each figure is measured, and which paths were skipped. */
function runNotes(o: BenchOptions, plan: ReturnType<typeof planPaths>): string[] {
  return [
    'Round trip = the sim\'s own per-packet measurement (send of a sequence number → the same one back), on every path.',
    `sim and echo run the ${plan.simEchoEngine} engine on every path (RTPSLA_ENGINE), so the paths differ only in the relay.`,
    'direct and rtpengine paths: late ratio = share of round trips > 20 ms (the sim has no playout deadline); max consecutive misses is rtpsla-only.',
    'CPU % = utime+stime delta of /proc/<pid>/stat (with child processes) over the steady window (all calls originated + settle → first hangup); 100 % = one core.',
    'Relay µs/packet = the relay\'s CPU over the window / packets it forwarded in both directions. Native: the engine\'s own count of datagrams sent and its CPU plus serve\'s, read together at each end of the window (serve\'s /metrics engineCounters; engine alone in parentheses); node: serve\'s packet totals and /proc CPU of serve; rtpengine: its relayedpackets_user and /proc CPU of the daemon.',
    'UDP RcvbufErrors/InErrors are /proc/net/snmp deltas over the window: host-wide, so other processes on the machine count too.',
    'SLA: N = 30/100/150 are judged at their SLA level; any other N at the stress limits with the level call count set to N.',
    `rtpengine runs ${o.rtpengineScheduling === 'default' ? 'with its own default thread scheduling' : 'with --scheduling=fifo --priority=10, the real-time class rtpsla\'s engine runs in'} (--rtpengine-scheduling).`,
    `Placement (--placement ${o.placement ?? 'auto'}): "shared-cpu" pins the media chain of every path (the sim's and echo's engines and the relay: serve's native engine, or every rtpengine thread) to the last CPU; "free" leaves all processes to the kernel. auto shares a CPU up to ${SHARED_CPU_MAX_CALLS} calls. Node processes are never pinned.`,
    ...plan.skipped.map((s) => `${s.path} path skipped: ${s.reason}.`),
  ];
}

/** Every path at N calls, one after the other, and each relay path compared with direct. */
async function runN(ctx: PhaseCtx, n: number, paths: PathName[], taskset: string | null): Promise<NResult> {
  const {o, log, notes} = ctx;
  const nr: NResult = {
    calls: n, direct: null, native: null, node: null, rtpengine: null,
    overDirect: {native: null, node: null, rtpengine: null}, slaClean: {native: null, node: null},
  };
  let placement = placementFor(o.placement ?? 'auto', n);
  if (placement.relay !== null && taskset === null && paths.includes('rtpengine')) {
    notes.push(`N=${n}: no taskset to pin rtpengine with the chain, so every path runs placed by the kernel.`);
    placement = {mode: 'free', sim: null, echo: null, relay: null};
  }
  for (const p of paths) {
    if (o.signal?.aborted) break;
    try {
      nr[p] = await runPhase(ctx, n, p, placement);
    } catch (err) {
      if (o.signal?.aborted) break;
      log(`bench: N=${n} ${p}: failed: ${errorMessage(err)}`);
      notes.push(`N=${n} ${p}: failed: ${errorMessage(err)}`);
    }
  }
  for (const p of RELAY_PATH_NAMES) nr.overDirect[p] = compare(nr.direct, nr[p]);
  nr.slaClean = {native: nr.native?.relay ? nr.native.relay.sla.pass : null, node: nr.node?.relay ? nr.node.relay.sla.pass : null};
  return nr;
}

export async function runBench(o: BenchOptions, reg: ChildRegistry): Promise<BenchOutput> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const started = new Date();
  const runStamp = timestamp(started);
  const creds: BenchCredentials = {user: 'rtpsla', pass: randomBytes(12).toString('hex')};
  const plan = planPaths(o.paths ?? PATH_NAMES);
  const rtpenginePortRange = o.rtpenginePortRange ?? DEFAULT_RTPENGINE_PORT_RANGE;
  const range = parsePortRange(rtpenginePortRange, '--rtpengine-port-range');
  const notes = runNotes(o, plan);
  for (const s of plan.skipped) log(`bench: ${s.path} path skipped: ${s.reason}`);
  const taskset = findTaskset();
  const ctx: PhaseCtx = {reg, creds, o, runStamp, simEchoEngine: plan.simEchoEngine, rtpengine: plan.rtpengine, rtpenginePorts: {min: range.low, max: range.high}, log, notes, taskset};
  const results: NResult[] = [];
  let partial = false;
  for (const n of o.calls) {
    if (o.signal?.aborted) {
      partial = true;
      break;
    }
    const nr = await runN(ctx, n, plan.paths, taskset);
    results.push(nr);
    if (o.signal?.aborted) partial = true;
  }
  const jsonPath = path.join(o.outDir, `${runStamp}.json`);
  const chartSpecPath = path.join(o.outDir, `${runStamp}.chart.json`);
  const result: BenchResult = {
    schema: BENCH_SCHEMA_ID,
    startedAt: started.toISOString(),
    endedAt: new Date().toISOString(),
    ...(partial ? {partial: true} : {}),
    machine: machineInfo(),
    params: {
      calls: o.calls, durationMs: o.durationMs, delayBetweenMs: o.delayBetweenMs, settleMs: o.settleMs, format: o.format,
      endpoint: o.endpoint, simRtpRange: o.simRtpRange, relayPortRange: o.relayPortRange, rtpenginePortRange, paths: plan.paths,
    },
    skipped: plan.skipped,
    rtpengine: plan.paths.includes('rtpengine') && plan.rtpengine
      ? {executable: plan.rtpengine, version: rtpengineVersion(plan.rtpengine), args: ctx.rtpengineArgs ?? [], ngFlags: {...NG_FLAGS}}
      : null,
    notes,
    results,
    largestSlaCleanCalls: {native: largestClean(results, 'native'), node: largestClean(results, 'node')},
    targets: targets(results, plan.skipped),
    chartSpecPath,
  };
  writeFileAtomic(jsonPath, JSON.stringify(result, null, 2) + '\n', '--out');
  writeFileAtomic(chartSpecPath, JSON.stringify(chartSpec(result), null, 2) + '\n', '--out');
  let svgPath: string | null = null;
  if (o.chartSvg !== false) {
    try {
      const svg = await renderChartSvg(chartSpec(result));
      svgPath = path.join(o.outDir, `${runStamp}.svg`);
      writeFileAtomic(svgPath, svg, '--out');
    } catch (err) {
      log(`bench: no SVG chart (${errorMessage(err)}); the chart's spec and data are in ${chartSpecPath}`);
    }
  }
  log(`bench: wrote ${jsonPath}, ${chartSpecPath}${svgPath ? ` and ${svgPath}` : ''}`);
  return {result, jsonPath, chartSpecPath, svgPath, table: renderTable(result)};
}
