/**
 * `rtpsla bench`: for each N, the direct path (sim → echo, the benchmark as Stasis app), the
 * rtpsla relay with the native engine and with the node engine (sim → serve → echo, driven by
 * `load`), and rtpengine in userspace (sim → rtpengine → echo, set up per call over ng), each with
 * fresh child processes, measured over the steady window; then the result JSON, the chart's spec
 * (and SVG when vega is installed) and a console table.
 */
import type {SimStats} from '../sim/index.js';
import {randomBytes} from 'node:crypto';
import {cpus, loadavg, release, totalmem} from 'node:os';
import path from 'node:path';
import {writeFileAtomic} from '../sla/render.js';
import {LatencyHistogram} from '../metrics/histogram.js';
import {runLoad, type LoadProgress} from '../load/run.js';
import {evaluateReport} from '../sla/evaluate.js';
import {LEVELS, buildProfile, defaultProfile, type SlaLevel, type SlaProfile} from '../sla/profile.js';
import type {Report} from '../protocol/report.js';
import {errorMessage} from '../errors.js';
import {parsePortRange} from '../config/parse.js';
import {ChildRegistry, pidOf, startPhaseProcesses, type BenchCredentials, type EngineName, type PhaseProcesses} from './children.js';
import {runDirect} from './direct.js';
import {clockTicksPerSec} from '../metrics/host.js';
import {NODE_FLAGS, hasNodeFlags} from '../runtime/gc.js';
import {fdCount, rssBytes} from './proc.js';
import {PhaseWindow, round, type WindowResult} from './window.js';
import {
  BENCH_SCHEMA_ID, PATH_NAMES, RELAY_PATH_NAMES, type BenchResult, type NResult, type OverDirect, type PathName, type PathResult, type PercentilesMsN,
  type TargetCheck,
} from './types.js';
import {chartSpec, renderChartSvg, renderTable} from './output.js';
import {planPaths, parseEchoPacing} from './paths.js';
import {relayedPackets, rtpengineVersion, startRtpengine, type RtpengineScheduling, type RunningRtpengine} from './rtpengine/daemon.js';
import {findTaskset, placementFor, SHARED_CPU_MAX_CALLS, type PhasePlacement, type PlacementSetting} from './placement.js';
import {NG_FLAGS, RtpengineRoute} from './rtpengine/route.js';
import type {EngineCounters} from '../protocol/serve-api.js';

export const DEFAULT_CALLS = [30, 100, 150, 300, 600, 1000];
export const DEFAULT_RTPENGINE_PORT_RANGE = '20000-29999';

export interface BenchOptions {
  calls: number[];
  durationMs: number;
  delayBetweenMs: number;
  /** After the last originate, wait this long before the steady window starts. */
  settleMs: number;
  format: string;
  endpoint: string;
  outDir: string;
  simRtpRange: string;
  relayPortRange: string;
  /** rtpengine's media ports (4 a call). */
  rtpenginePortRange?: string;
  /** Paths to run (default all); those that cannot run here are skipped with a note. */
  paths?: PathName[];
  /** Render the SVG chart (vega, loaded only then); the chart's spec is written either way. */
  chartSvg?: boolean;
  serveCpuProfDir?: string;
  /** Where each N's media chain runs (default auto: one shared CPU up to SHARED_CPU_MAX_CALLS calls). */
  placement?: PlacementSetting;
  /** rtpengine's thread scheduling (default fifo, priority 10, like rtpsla's engine). */
  rtpengineScheduling?: RtpengineScheduling;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface BenchOutput {
  result: BenchResult;
  jsonPath: string;
  chartSpecPath: string;
  svgPath: string | null;
  table: string;
}

type SimStatsBody = Pick<SimStats, 'totals' | 'rttUs' | 'sendJitterUs'>;
interface ServeMetricsBody {
  packetsUp: number;
  packetsBack: number;
  portsHeld: number;
  rssBytes: number;
  eventLoopDelayMs: {p50: number; p99: number; max: number} | null;
  /** Which media engine serve forwards with (`native` / `node`); absent on a serve without engines. */
  engine?: string;
  /** The native engine's own counters and CPU with serve's (null with the Node engine; absent on older serves). */
  engineCounters?: EngineCounters | null;
}

/** `20261122-041455`: UTC, sortable, a file name. */
export function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export function machineInfo(): BenchResult['machine'] {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    totalMemBytes: totalmem(),
    node: process.version,
    platform: process.platform,
    kernel: release(),
    loadAvgAtStart: loadavg().map((v) => round(v, 2)),
    clockTicksPerSec: clockTicksPerSec(),
    nodeFlags: NODE_FLAGS,
    harnessHasNodeFlags: hasNodeFlags(),
  };
}

function auth(c: BenchCredentials): string {
  return 'Basic ' + Buffer.from(`${c.user}:${c.pass}`).toString('base64');
}

async function simStats(url: string, c: BenchCredentials): Promise<SimStatsBody> {
  const res = await fetch(`${url}/_sim/stats`, {headers: {authorization: auth(c)}, signal: AbortSignal.timeout(15_000)});
  if (!res.ok) throw new Error(`sim /_sim/stats answered ${res.status}`);
  return (await res.json()) as SimStatsBody;
}

async function serveMetrics(url: string): Promise<ServeMetricsBody | null> {
  try {
    const res = await fetch(`${url}/metrics`, {headers: {accept: 'application/json'}, signal: AbortSignal.timeout(15_000)});
    return res.ok ? ((await res.json()) as ServeMetricsBody) : null;
  } catch {
    return null;
  }
}

const usToMs = (v: number) => round(v / 1000, 3);
function pMs(p: SimStats['rttUs']): PercentilesMsN {
  return {count: p.count, p50: usToMs(p.p50), p95: usToMs(p.p95), p99: usToMs(p.p99), p999: usToMs(p.p999), max: usToMs(p.max)};
}

/** Fraction of the sim's round trips above `thresholdUs`, from its merged histogram. */
function fractionOver(histogramB64: string, thresholdUs: number): number {
  const h = LatencyHistogram.fromBase64(histogramB64);
  if (h.count === 0) return 0;
  const [atOrBelow] = h.cumulativeCountsUs([thresholdUs]);
  return (h.count - atOrBelow) / h.count;
}

/**
 * The profile a relay report of N calls is judged with: the SLA levels for 30/100/150;
 * any other N is judged at the stress limits with the level's call count set to N (so the run
 * must also have reached N concurrent calls).
 */
export function profileFor(n: number): {profile: SlaProfile; level: SlaLevel | undefined; judgedAt: string} {
  const exact = (Object.entries(LEVELS) as Array<[SlaLevel, number]>).find(([, calls]) => calls === n);
  if (exact) return {profile: defaultProfile(), level: undefined, judgedAt: `${exact[0]} (${n} calls)`};
  const profile = buildProfile({levels: {nominal: {calls: 1}, high: {calls: 2}, stress: {calls: Math.max(3, n)}}}, `bench: stress limits at ${n} calls`);
  return {profile, level: 'stress', judgedAt: `stress limits at ${n} calls (N is not an SLA level)`};
}

interface PhaseCtx {
  reg: ChildRegistry;
  creds: BenchCredentials;
  o: BenchOptions;
  runStamp: string;
  simEchoEngine: EngineName;
  rtpengine: string | null;
  rtpenginePorts: {min: number; max: number};
  log: (line: string) => void;
  notes: string[];
  /** The command line of the first rtpengine daemon of the run. */
  rtpengineArgs?: string[];
  /** taskset, to pin rtpengine with the chain (null: not installed; then no N shares a CPU). */
  taskset: string | null;
}

const perPacket = (cpuUs: number | undefined, packets: number | null) => (cpuUs !== undefined && packets && packets > 0 ? round(cpuUs / packets, 2) : null);

async function runPhase(ctx: PhaseCtx, n: number, pathName: PathName, placement: PhasePlacement): Promise<PathResult> {
  const {reg, creds, o, log} = ctx;
  const rtpsla = pathName === 'native' || pathName === 'node';
  let procs: PhaseProcesses | null = null;
  let daemon: RunningRtpengine | null = null;
  let window: PhaseWindow | null = null;
  try {
    procs = await startPhaseProcesses(reg, {
      withServe: rtpsla,
      simEchoEngine: ctx.simEchoEngine,
      serveEngine: rtpsla ? pathName : undefined,
      echoStats: true,
      creds,
      simRtpRange: o.simRtpRange,
      relayPortRange: o.relayPortRange,
      format: o.format,
      serveCpuProfDir: rtpsla && o.serveCpuProfDir ? path.join(o.serveCpuProfDir, `serve-${pathName}-N${n}`) : undefined,
      engineCpus: placement,
    });
    const p = procs;
    if (pathName === 'rtpengine') {
      daemon = await startRtpengine(reg, ctx.rtpengine!, ctx.rtpenginePorts, placement.relay !== null && ctx.taskset ? {taskset: ctx.taskset, cpus: placement.relay} : null, o.rtpengineScheduling);
      ctx.rtpengineArgs ??= daemon.args;
    }
    const d = daemon;
    const w = new PhaseWindow({sim: pidOf(p.sim), echo: pidOf(p.echo), serve: pidOf(p.serve), rtpengine: d?.pid ?? null, harness: process.pid});
    window = w;
    let metricsAtStart: Promise<ServeMetricsBody | null> = Promise.resolve(null);
    let metricsAtEnd: Promise<ServeMetricsBody | null> = Promise.resolve(null);
    let relayedAtStart: Promise<number | null> = Promise.resolve(null);
    let relayedAtEnd: Promise<number | null> = Promise.resolve(null);
    w.onStart = () => {
      if (p.serveUrl) metricsAtStart = serveMetrics(p.serveUrl);
      if (d) relayedAtStart = relayedPackets(d.ng);
    };
    const onFirstHangup = () => {
      w.firstHangup();
      if (p.serveUrl) metricsAtEnd = serveMetrics(p.serveUrl);
      if (d) relayedAtEnd = relayedPackets(d.ng);
    };
    const runId = `bench-${ctx.runStamp}-${pathName}-n${n}-${randomBytes(2).toString('hex')}`;
    const where = placement.mode === 'free' ? 'processes placed by the kernel' : `media chain on CPU ${placement.relay}`;
    log(`bench: N=${n} ${pathName}: ${n} calls, ${o.durationMs} ms each, ${o.delayBetweenMs} ms apart, ${where}`);

    let direct: Awaited<ReturnType<typeof runDirect>> | null = null;
    let report: Report | null = null;
    let reportPath = '';
    if (!rtpsla) {
      direct = await runDirect({
        ariUrl: p.simUrl, user: creds.user, pass: creds.pass, echoHost: '127.0.0.1', echoPort: p.echoPort,
        count: n, durationMs: o.durationMs, delayBetweenMs: o.delayBetweenMs, format: o.format, endpoint: o.endpoint, runId,
        signal: o.signal, onAllOriginated: () => w.allOriginated(o.settleMs), onFirstHangup,
        route: d ? new RtpengineRoute(d.ng, {echoHost: '127.0.0.1', echoPort: p.echoPort, format: o.format}) : undefined,
      });
    } else {
      let holding = false;
      let hung = false;
      const res = await runLoad({
        ariUrl: p.simUrl, ariUser: creds.user, ariPass: creds.pass, app: 'rtpsla', count: n, durationMs: o.durationMs,
        delayBetweenMs: o.delayBetweenMs, endpoint: o.endpoint, format: o.format, serveUrl: p.serveUrl!,
        outDir: path.join(o.outDir, `${ctx.runStamp}-reports`), runId, lateThresholdMs: 20, signal: o.signal,
        onProgress: (pr: LoadProgress) => {
          if (!holding && pr.phase === 'holding') {
            holding = true;
            w.allOriginated(o.settleMs);
          }
          if (!hung && pr.hungUp > 0) {
            hung = true;
            onFirstHangup();
          }
        },
      });
      report = res.report;
      reportPath = res.path;
    }
    const win: WindowResult = w.finish();
    window = null;
    if (!win.steady) log(`bench: N=${n} ${pathName}: no steady window (setup took longer than the hold); CPU is over the whole phase`);
    const stats = await simStats(p.simUrl, creds);
    const [mStart, mEnd, rStart, rEnd] = await Promise.all([metricsAtStart, metricsAtEnd, relayedAtStart, relayedAtEnd]);
    const mFinal = p.serveUrl ? await serveMetrics(p.serveUrl) : null;
    // echo writes its final counters when it stops (its pacing error: the last line that has it)
    await reg.stop([p.serve, d?.child]);
    await reg.stop([p.sim, p.echo]);
    const echoPacing = parseEchoPacing(p.echo.output);

    const media = stats.totals.media;
    const simLoss = media.packetsSent > 0 ? Math.max(0, media.packetsSent - media.packetsReceived) / media.packetsSent : 0;
    const over20 = fractionOver(stats.rttUs.histogram, 20_000);
    // native: the engine's own counters and CPU with serve's, read at one moment at each end (its
    // records reach serve's totals later, and later still when serve waits for a CPU)
    const c0 = mStart?.engineCounters ?? null;
    const c1 = mEnd?.engineCounters ?? null;
    const counted = c0 !== null && c1 !== null;
    const forwarded = counted
      ? c1.forwardedDatagrams - c0.forwardedDatagrams
      : rtpsla
        ? mStart && mEnd ? mEnd.packetsUp + mEnd.packetsBack - (mStart.packetsUp + mStart.packetsBack) : null
        : rStart !== null && rEnd !== null ? rEnd - rStart : null;
    const relayCpuUs = counted
      ? c1.engineCpuUs + c1.serveCpuUs - (c0.engineCpuUs + c0.serveCpuUs)
      : rtpsla ? win.cpuTimeUs.serve : d ? win.cpuTimeUs.rtpengine : undefined;
    const relayEngine = rtpsla ? ((mFinal ?? mEnd)?.engine ?? null) : d ? 'rtpengine' : null;
    if (rtpsla && relayEngine !== pathName) {
      const why = relayEngine === null ? 'serve\'s /metrics did not say which engine forwarded' : `serve forwarded with the ${relayEngine} engine`;
      ctx.notes.push(`N=${n} ${pathName}: asked serve for RTPSLA_ENGINE=${pathName}, but ${why}.`);
    }
    const result: PathResult = {
      path: pathName,
      engines: {sim: ctx.simEchoEngine, echo: p.echoEngine ?? ctx.simEchoEngine, relayRequested: rtpsla ? pathName : null, relay: relayEngine},
      placement,
      calls: n,
      callsSetUp: direct ? direct.callsSetUp : report!.summary.callsAnswered - report!.summary.callsFailed,
      callsFailed: direct ? direct.callsFailed : report!.summary.callsFailed,
      errors: direct ? direct.errors : [...new Set(report!.calls.map((c) => c.error).filter((e): e is string => !!e))].slice(0, 5),
      roundTripMs: pMs(stats.rttUs),
      simSendJitterMs: pMs(stats.sendJitterUs),
      sim: {
        packetsSent: media.packetsSent,
        packetsReceived: media.packetsReceived,
        lossRatio: round(simLoss, 6),
        roundTripOver20msRatio: round(over20, 6),
        schedulerSkips: media.skips,
      },
      lateRatio: report ? report.summary.lateRatio : round(over20, 6),
      lossRatio: report ? report.summary.lossRatio : round(simLoss, 6),
      maxConsecutiveMisses: report ? Math.max(report.summary.maxConsecutiveLate, ...report.calls.map((c) => c.maxConsecutiveLate)) : null,
      window: win,
      relayCpuUsPerPacket: perPacket(relayCpuUs, forwarded),
      engineCpuUsPerPacket: perPacket(counted ? c1.engineCpuUs - c0.engineCpuUs : win.cpuTimeUs.engine, forwarded),
      packetsForwardedInWindow: forwarded,
      echoPacingErrorUs: echoPacing,
      ...(echoPacing ? {} : {echoPacingNote: 'echo\'s stats lines carry no pacing error (pacingErrorP99Us / pacingErrorUs)'}),
      serve: mFinal ? {eventLoopDelayMs: (mEnd ?? mFinal).eventLoopDelayMs, rssBytesAtEnd: mFinal.rssBytes, portsHeldAtEnd: mFinal.portsHeld} : null,
      relay: null,
      setupMs: direct ? direct.setupMs : null,
    };
    if (report) {
      const {profile, level, judgedAt} = profileFor(n);
      const v = evaluateReport(report, profile, level);
      const s = report.summary;
      result.relay = {
        reportPath, latenessMs: s.latenessMs, rttMs: s.rttMs, packetsUp: s.packetsUp, packetsBack: s.packetsBack, late: s.late, lost: s.lost,
        peakConcurrent: s.peakConcurrent, sla: {pass: v.pass, judgedAt, level: v.level, levelCalls: v.levelCalls, failed: v.failed},
      };
    }
    const c = win.cpuPercent;
    log(
      `bench: N=${n} ${pathName}: RT p50 ${result.roundTripMs.p50} ms, p99 ${result.roundTripMs.p99} ms, p99.9 ${result.roundTripMs.p999} ms, max ${result.roundTripMs.max} ms; ` +
        `CPU sim ${c.sim}% echo ${c.echo}%${c.serve !== undefined ? ` serve ${c.serve}%` : ''}${c.engine !== undefined ? ` (engine ${c.engine}%)` : ''}` +
        `${c.rtpengine !== undefined ? ` rtpengine ${c.rtpengine}%` : ''} over ${win.durationMs} ms` +
        (result.relayCpuUsPerPacket !== null ? `; relay ${result.relayCpuUsPerPacket} µs/packet` : '') +
        (result.relay ? `; SLA ${result.relay.sla.pass ? 'PASS' : `FAIL (${result.relay.sla.failed.join(', ')})`}` : ''),
    );
    return result;
  } catch (err) {
    for (const c of [procs?.sim, procs?.echo, procs?.serve, daemon?.child]) if (c && c.output.trim()) log(c.tail(8));
    throw err;
  } finally {
    window?.finish();
    daemon?.ng.close();
    await reg.stop([procs?.serve, daemon?.child]);
    if (procs) await reg.stop([procs.sim, procs.echo]);
  }
}

function ratio(a: number, b: number): number {
  return b > 0 ? round(a / b, 3) : 0;
}

/** What `relay` adds over `direct` (both measured by the sim), null when either is missing. */
export function compare(direct: PathResult | null, relay: PathResult | null): OverDirect | null {
  if (!direct || !relay || direct.roundTripMs.count === 0 || relay.roundTripMs.count === 0) return null;
  const d = direct.roundTripMs;
  const r = relay.roundTripMs;
  return {
    ratios: {p50: ratio(r.p50, d.p50), p99: ratio(r.p99, d.p99), p999: ratio(r.p999, d.p999), max: ratio(r.max, d.max)},
    addsMs: {p50: round(r.p50 - d.p50, 3), p99: round(r.p99 - d.p99, 3), p999: round(r.p999 - d.p999, 3), max: round(r.max - d.max, 3)},
  };
}

function largestClean(results: NResult[], engine: 'native' | 'node'): number | null {
  const clean = results.filter((r) => r.slaClean[engine] === true).map((r) => r.calls);
  return clean.length ? Math.max(...clean) : null;
}

/** Issue 11's targets, judged on this run. A figure that was not measured is null with why. */
export function targets(results: NResult[], skipped: BenchResult['skipped']): Record<string, TargetCheck> {
  const why = (p: PathName) => skipped.find((s) => s.path === p)?.reason ?? `the ${p} path did not run`;
  // the native targets count only where serve says it forwarded with the native engine
  const notNative = (r: NResult) => r.native !== null && r.native.engines.relay !== 'native';
  const nativeWhy = (r: NResult) =>
    r.native ? `serve forwarded with the ${r.native.engines.relay ?? 'unreported'} engine on the native path at ${r.calls} calls` : `native: ${why('native')}`;
  const at = (n: number) => results.find((r) => r.calls === n);
  const largest = largestClean(results.filter((r) => !notNative(r)), 'native');
  const measured600 = results.some((r) => r.calls >= 600 && r.native?.relay && !notNative(r));
  const at150 = at(150);
  const cpuBelow = (n: number): TargetCheck => {
    const r = at(n);
    if (!r) return {met: null, detail: `N=${n} not run`};
    if (notNative(r)) return {met: null, detail: nativeWhy(r)};
    const nat = r.native?.relayCpuUsPerPacket ?? null;
    const rte = r.rtpengine?.relayCpuUsPerPacket ?? null;
    if (nat === null) return {met: null, detail: r.native ? `native relay CPU per packet not measured at ${n} calls` : nativeWhy(r)};
    if (rte === null) return {met: null, detail: r.rtpengine ? `rtpengine CPU per packet not measured at ${n} calls` : `rtpengine: ${why('rtpengine')}`};
    return {met: nat < rte, detail: `native relay (serve + engine) ${nat} µs vs rtpengine ${rte} µs CPU per forwarded packet at ${n} calls (target: below)`};
  };
  const pacing = results.flatMap((r) => PATH_NAMES.map((p) => ({n: r.calls, p, v: r[p]?.echoPacingErrorUs ?? null}))).filter((x) => x.v !== null);
  const worstPacing = pacing.length ? pacing.reduce((a, b) => (b.v!.p99 > a.v!.p99 ? b : a)) : null;
  const relay1000 = at(1000)?.native ?? at(1000)?.node;
  const rss1000 = relay1000?.window.rssPeakBytes.serve;
  return {
    slaCleanAt600: {
      met: measured600 ? largest !== null && largest >= 600 : null,
      detail: measured600
        ? `largest SLA-clean N (native sim chain) = ${largest ?? 'none'} (target ≥ 600 co-located calls)`
        : 'native path (serve forwarding with the native engine) at N ≥ 600 not measured',
    },
    relayAddsP99At150: {
      met: at150?.overDirect.native && !notNative(at150) ? at150.overDirect.native.addsMs.p99 <= 0.3 : null,
      detail: !at150
        ? 'N=150 not run'
        : !at150.native || notNative(at150)
          ? nativeWhy(at150)
          : at150.overDirect.native
            ? `native relay adds ${at150.overDirect.native.addsMs.p99} ms at p99 over direct at 150 calls (target ≤ 0.3 ms)`
            : 'direct path at 150 not measured',
    },
    relayCpuBelowRtpengineAt150: cpuBelow(150),
    relayCpuBelowRtpengineAt600: cpuBelow(600),
    echoPacingP99: {
      met: worstPacing ? worstPacing.v!.p99 <= 100 : null,
      detail: worstPacing
        ? `echo pacing error p99 ${round(worstPacing.v!.p99 / 1000, 3)} ms at worst (N=${worstPacing.n} ${worstPacing.p}; target ≤ 0.1 ms)`
        : 'echo did not report its pacing error (pacingErrorP99Us / pacingErrorUs in its stats lines; the node echo has none)',
    },
    serveRssAt1000: {
      met: rss1000 ? rss1000 <= 200 * 1048576 : null,
      detail: rss1000 ? `serve (+ engine) peak RSS ${(rss1000 / 1048576).toFixed(1)} MB at 1000 calls, ${relay1000!.path} path (target ≤ 200 MB)` : 'N=1000 relay not run',
    },
  };
}

export async function runBench(o: BenchOptions, reg: ChildRegistry): Promise<BenchOutput> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const started = new Date();
  const runStamp = timestamp(started);
  const creds: BenchCredentials = {user: 'rtpsla', pass: randomBytes(12).toString('hex')};
  const plan = planPaths(o.paths ?? PATH_NAMES);
  const rtpenginePortRange = o.rtpenginePortRange ?? DEFAULT_RTPENGINE_PORT_RANGE;
  const range = parsePortRange(rtpenginePortRange, '--rtpengine-port-range');
  const notes: string[] = [
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
    const nr: NResult = {
      calls: n, direct: null, native: null, node: null, rtpengine: null,
      overDirect: {native: null, node: null, rtpengine: null}, slaClean: {native: null, node: null},
    };
    let placement = placementFor(o.placement ?? 'auto', n);
    if (placement.relay !== null && taskset === null && plan.paths.includes('rtpengine')) {
      notes.push(`N=${n}: no taskset to pin rtpengine with the chain, so every path runs placed by the kernel.`);
      placement = {mode: 'free', sim: null, echo: null, relay: null};
    }
    for (const p of plan.paths) {
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

// ---------------------------------------------------------------- soak

export interface SoakOptions {
  calls: number;
  minutes: number;
  warmUpMs: number;
  sampleEveryMs: number;
  delayBetweenMs: number;
  format: string;
  endpoint: string;
  outDir: string;
  simRtpRange: string;
  relayPortRange: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface SoakSample {
  atMs: number;
  rssBytes: number;
  fds: number;
}

export interface SoakResult {
  schema: 'rtpsla.bench-soak/v1';
  startedAt: string;
  endedAt: string;
  partial?: boolean;
  machine: BenchResult['machine'];
  params: {calls: number; minutes: number; warmUpMs: number; sampleEveryMs: number};
  samples: SoakSample[];
  first: SoakSample | null;
  last: SoakSample | null;
  rssGrowthRatio: number | null;
  fdGrowthRatio: number | null;
  /** Last sample at most 10 % above the first for both RSS and handles (a shrinking RSS is not a leak). */
  stable: boolean | null;
  relay: {reportPath: string; sla: {pass: boolean; failed: string[]}; lossRatio: number; lateRatio: number; latenessMs: Report['summary']['latenessMs']} | null;
}

/** The soak's one-line verdict: serve's RSS and open handles, first sample → last, and the SLA. */
export function soakSummaryLine(result: SoakResult, jsonPath: string): string {
  const mb = (b: number) => (b / 1048576).toFixed(1);
  const f = result.first;
  const l = result.last;
  if (!f || !l) return `soak: too few samples (${result.samples.length}); ${jsonPath}`;
  return (
    `soak: serve RSS ${mb(f.rssBytes)} → ${mb(l.rssBytes)} MB (${((result.rssGrowthRatio ?? 0) * 100).toFixed(1)} %), handles ${f.fds} → ${l.fds}; ` +
    `${result.stable ? 'at most' : 'MORE than'} 10 % above the first sample; SLA ${result.relay?.sla.pass ? 'PASS' : 'FAIL'}; ${jsonPath}`
  );
}

export async function runSoak(o: SoakOptions, reg: ChildRegistry): Promise<{result: SoakResult; jsonPath: string}> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const started = new Date();
  const stamp = timestamp(started);
  const creds: BenchCredentials = {user: 'rtpsla', pass: randomBytes(12).toString('hex')};
  const samples: SoakSample[] = [];
  let procs: PhaseProcesses | null = null;
  let timer: NodeJS.Timeout | undefined;
  let relay: SoakResult['relay'] = null;
  try {
    procs = await startPhaseProcesses(reg, {withServe: true, creds, simRtpRange: o.simRtpRange, relayPortRange: o.relayPortRange, format: o.format});
    const servePid = pidOf(procs.serve)!;
    const durationMs = o.warmUpMs + o.minutes * o.sampleEveryMs + 2000;
    log(`bench soak: ${o.calls} calls for ${(durationMs / 60000).toFixed(1)} min (warm-up ${o.warmUpMs / 1000} s, then a sample every ${o.sampleEveryMs / 1000} s)`);
    let t0 = 0;
    const sample = () => {
      const s = {atMs: Date.now() - t0, rssBytes: rssBytes(servePid), fds: fdCount(servePid)};
      samples.push(s);
      log(`bench soak: t=${(s.atMs / 1000).toFixed(0)} s serve RSS ${(s.rssBytes / 1048576).toFixed(1)} MB, ${s.fds} handles`);
      if (samples.length <= o.minutes) timer = setTimeout(sample, o.sampleEveryMs);
    };
    let holding = false;
    const res = await runLoad({
      ariUrl: procs.simUrl, ariUser: creds.user, ariPass: creds.pass, app: 'rtpsla', count: o.calls, durationMs,
      delayBetweenMs: o.delayBetweenMs, endpoint: o.endpoint, format: o.format, serveUrl: procs.serveUrl!,
      outDir: path.join(o.outDir, `${stamp}-soak-reports`), runId: `soak-${stamp}`, lateThresholdMs: 20, signal: o.signal,
      collectTimeoutMs: 30_000,
      onProgress: (pr) => {
        if (!holding && pr.phase === 'holding') {
          holding = true;
          t0 = Date.now();
          timer = setTimeout(sample, o.warmUpMs);
        }
      },
    });
    clearTimeout(timer);
    const v = evaluateReport(res.report, profileFor(o.calls).profile, profileFor(o.calls).level);
    const s = res.report.summary;
    relay = {reportPath: res.path, sla: {pass: v.pass, failed: v.failed}, lossRatio: s.lossRatio, lateRatio: s.lateRatio, latenessMs: s.latenessMs};
  } finally {
    clearTimeout(timer);
    if (procs) await reg.stop([procs.serve]);
    if (procs) await reg.stop([procs.sim, procs.echo]);
  }
  const first = samples[0] ?? null;
  const last = samples.length > 1 ? samples[samples.length - 1] : null;
  const growth = (a: number | undefined, b: number | undefined) => (a && b !== undefined ? round((b - a) / a, 4) : null);
  const rssGrowthRatio = growth(first?.rssBytes, last?.rssBytes);
  const fdGrowthRatio = growth(first?.fds, last?.fds);
  const result: SoakResult = {
    schema: 'rtpsla.bench-soak/v1',
    startedAt: started.toISOString(),
    endedAt: new Date().toISOString(),
    ...(o.signal?.aborted ? {partial: true} : {}),
    machine: machineInfo(),
    params: {calls: o.calls, minutes: o.minutes, warmUpMs: o.warmUpMs, sampleEveryMs: o.sampleEveryMs},
    samples,
    first,
    last,
    rssGrowthRatio,
    fdGrowthRatio,
    stable: rssGrowthRatio === null || fdGrowthRatio === null ? null : rssGrowthRatio <= 0.1 && fdGrowthRatio <= 0.1,
    relay,
  };
  const jsonPath = path.join(o.outDir, `${stamp}-soak.json`);
  writeFileAtomic(jsonPath, JSON.stringify(result, null, 2) + '\n', '--out');
  log(`bench soak: wrote ${jsonPath}`);
  return {result, jsonPath};
}
