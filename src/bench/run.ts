/**
 * `rtpsla bench`: for each N, the direct path (sim → echo, the benchmark as Stasis app), the
 * rtpsla relay with the native engine and with the node engine (sim → serve → echo, driven by
 * `load`), and rtpengine in userspace (sim → rtpengine → echo, set up per call over ng), each with
 * fresh child processes, measured over the steady window; then the result JSON, the chart's data
 * (a Chart.js config, as JSON) and its self-contained HTML page, and a console table.
 */
import {randomBytes} from 'node:crypto';
import path from 'node:path';
import {writeFileAtomic} from '../sla/render.js';
import {errorMessage} from '../errors.js';
import {parsePortRange} from '../config/parse.js';
import type {BenchCredentials, ChildRegistry} from './children.js';
import {BENCH_SCHEMA_ID, PATH_NAMES, RELAY_PATH_NAMES, RTPSLA_PATH_NAMES, type BenchResult, type NResult, type PathName, type PathResult} from './types.js';
import {tryReadReportFile} from '../metrics/report-file.js';
import {combineRuns} from './repeat.js';
import {searchPath} from './search.js';
import type {PhasePlacement} from './placement.js';
import {chartConfig, chartHtml, renderTable} from './output.js';
import {planPaths} from './paths.js';
import {rtpengineVersion} from './rtpengine/daemon.js';
import {findTaskset, placementFor, SHARED_CPU_MAX_CALLS} from './placement.js';
import {NG_FLAGS} from './rtpengine/route.js';
import {DEFAULT_RTPENGINE_PORT_RANGE, type BenchOptions} from './options.js';
import {machineInfo, timestamp} from './machine.js';
import {compare, largestSlaClean, targets} from './judge.js';
import {runPhase, type PhaseCtx} from './phase.js';

export {DEFAULT_CALLS, DEFAULT_RTPENGINE_PORT_RANGE, type BenchOptions} from './options.js';

export interface BenchOutput {
  result: BenchResult;
  jsonPath: string;
  chartSpecPath: string;
  /** The chart's page (null with --no-chart, or when it could not be written). */
  htmlPath: string | null;
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
    `rtpengine (like for like) runs ${o.rtpengineScheduling === 'default' ? 'with its own default thread scheduling' : 'its media threads (pollers, media player, send and codec timers) with --scheduling=fifo at the priority rtpsla\'s relay engine gets (12 pinned, 10 placed by the kernel)'} (--rtpengine-scheduling), pinned where rtpsla's relay engine is; its other threads are free, as serve's Node process is. native-defaults and rtpengine-defaults run each relay at its own defaults: serve's engine unpinned (FIFO 10), rtpengine without --scheduling or pinning (relayPlacement in each result).`,
    `Placement (--placement ${o.placement ?? 'auto'}): "shared-cpu" pins the media chain of every path (the sim's and echo's engines, load's caller engine, and the relay's media threads) to the last CPU; "free" leaves all processes to the kernel. auto shares a CPU up to ${SHARED_CPU_MAX_CALLS} calls. Node processes are never pinned.`,
    'Relay µs/packet /proc (relayCpuUsPerPacketProc): the same relay\'s CPU read by one instrument for every relay, utime+stime of each of its processes from /proc over the window (serve with its engine child; rtpengine\'s every thread), over the same packets: a cross-check of the engine counters.',
    'rtpcaller: load --caller rtp (the caller engine in the bench process → the sim\'s forwarding → serve\'s native relay → echo); caller µs/packet = the caller engine\'s /proc CPU over the window / the packets the relay forwarded then (each sent or received once by the caller). The sim forwards instead of sending tones, so its round trip, send jitter and counts are null on this path (nullReasons); the caller engine\'s own figures are under caller.',
    ...plan.skipped.map((s) => `${s.path} path skipped: ${s.reason}.`),
  ];
}

/** The placement of every path at N (free when rtpengine runs and cannot be pinned with the chain). */
function placementAt(ctx: PhaseCtx, n: number, paths: readonly PathName[], note = true): PhasePlacement {
  const placement = placementFor(ctx.o.placement ?? 'auto', n);
  if (placement.relay === null || ctx.taskset !== null || !paths.includes('rtpengine')) return placement;
  if (note) ctx.notes.push(`N=${n}: no taskset to pin rtpengine with the chain, so every path runs placed by the kernel.`);
  return {mode: 'free', sim: null, echo: null, relay: null};
}

/** Every path at N calls, one after the other (--repeat times over), and each relay path compared with direct. */
async function runN(ctx: PhaseCtx, n: number, paths: PathName[]): Promise<NResult> {
  const {o, log, notes} = ctx;
  const nr = {calls: n, overDirect: {}, slaClean: {}} as NResult;
  for (const p of PATH_NAMES) nr[p] = null;
  const placement = placementAt(ctx, n, paths);
  const runs = new Map<PathName, PathResult[]>(paths.map((p) => [p, []]));
  for (let k = 0; k < (o.repeat ?? 1); k++) {
    for (const p of paths) {
      if (o.signal?.aborted) break;
      try {
        runs.get(p)!.push(await runPhase(ctx, n, p, placement));
      } catch (err) {
        if (o.signal?.aborted) break;
        log(`bench: N=${n} ${p}: failed: ${errorMessage(err)}`);
        notes.push(`N=${n} ${p}${o.repeat && o.repeat > 1 ? ` (run ${k + 1})` : ''}: failed: ${errorMessage(err)}`);
      }
    }
  }
  for (const [p, r] of runs) nr[p] = r.length > 0 ? combineRuns(r) : null;
  for (const p of RELAY_PATH_NAMES) nr.overDirect[p] = compare(nr.direct, nr[p]);
  for (const p of RTPSLA_PATH_NAMES) nr.slaClean[p] = nr[p]?.relay ? nr[p].relay.sla.pass : null;
  return nr;
}

/** --search: each rtpsla path's largest SLA-clean N by the capacity search. */
async function searchAll(ctx: PhaseCtx, paths: PathName[]): Promise<NonNullable<BenchResult['search']>> {
  const out: NonNullable<BenchResult['search']> = {};
  const s = ctx.o.search!;
  for (const p of RTPSLA_PATH_NAMES) {
    if (!paths.includes(p) || ctx.o.signal?.aborted) continue;
    out[p] = await searchPath(ctx, p, {
      ...s, placementAt: (n) => placementAt(ctx, n, paths, false),
      readReport: (file) => {
        const r = tryReadReportFile(file);
        return r.ok ? r.report : null;
      },
    });
  }
  return out;
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
  const ctx: PhaseCtx = {reg, creds, o, runStamp, simEchoEngine: plan.simEchoEngine, rtpengine: plan.rtpengine, rtpenginePorts: {min: range.low, max: range.high}, log, notes, taskset: findTaskset()};
  const results: NResult[] = [];
  let partial = false;
  for (const n of o.calls) {
    if (o.signal?.aborted) {
      partial = true;
      break;
    }
    const nr = await runN(ctx, n, plan.paths);
    results.push(nr);
    if (o.signal?.aborted) partial = true;
  }
  const search = o.search && !o.signal?.aborted ? await searchAll(ctx, plan.paths) : null;
  if (o.signal?.aborted) partial = true;
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
      repeat: o.repeat ?? 1, search: o.search ?? null,
    },
    skipped: plan.skipped,
    rtpengine: plan.paths.includes('rtpengine') && plan.rtpengine
      ? {executable: plan.rtpengine, version: rtpengineVersion(plan.rtpengine), args: ctx.rtpengineArgs ?? [], ngFlags: {...NG_FLAGS}}
      : null,
    notes,
    results,
    largestSlaCleanCalls: largestSlaClean(results, search),
    largestSlaCleanBy: search ? 'search' : 'calls given',
    search,
    targets: targets(results, plan.skipped),
    chartSpecPath,
  };
  writeFileAtomic(jsonPath, JSON.stringify(result, null, 2) + '\n', '--out');
  writeFileAtomic(chartSpecPath, JSON.stringify(chartConfig(result), null, 2) + '\n', '--out');
  let htmlPath: string | null = null;
  if (o.chartHtml !== false) {
    try {
      htmlPath = path.join(o.outDir, `${runStamp}.html`);
      writeFileAtomic(htmlPath, chartHtml(result), '--out');
    } catch (err) {
      htmlPath = null;
      log(`bench: no HTML chart (${errorMessage(err)}); the chart's data is in ${chartSpecPath}`);
    }
  }
  log(`bench: wrote ${jsonPath}, ${chartSpecPath}${htmlPath ? ` and ${htmlPath}` : ''}`);
  return {result, jsonPath, chartSpecPath, htmlPath, table: renderTable(result)};
}
