/**
 * One phase of `rtpsla bench`: N calls over one path (direct, native, node or rtpengine) with
 * fresh child processes, measured over the steady window, as one PathResult.
 */
import type {SimStats} from '../sim/index.js';
import {randomBytes} from 'node:crypto';
import path from 'node:path';
import {LatencyHistogram} from '../metrics/histogram.js';
import {runLoad, type LoadProgress} from '../load/run.js';
import {evaluateReport} from '../sla/evaluate.js';
import type {Report, ToolEngines} from '../protocol/report.js';
import {parseEngineLine} from '../media/echo/index.js';
import {MARK_SIGNAL} from '../media/echo/mark.js';
import {pidOf, startPhaseProcesses, type BenchCredentials, type ChildRegistry, type EngineName, type PhaseProcesses} from './children.js';
import {runDirect} from './direct.js';
import {PhaseWindow, round, type WindowResult} from './window.js';
import type {PathName, PathResult, PercentilesMsN} from './types.js';
import {parseEchoPacing, windowEchoPacing} from './paths.js';
import {relayedPackets, startRtpengine, type RunningRtpengine} from './rtpengine/daemon.js';
import type {PhasePlacement} from './placement.js';
import {RtpengineRoute} from './rtpengine/route.js';
import type {EngineCounters} from '../protocol/serve-api.js';
import type {BenchOptions} from './options.js';
import {profileFor} from './judge.js';
import {fifoOf, PATH_SPECS, relayPlacementFor} from './variants.js';
import {ENGINE_CPUS_ENV} from '../engine/cpu-list.js';

type SimStatsBody = Pick<SimStats, 'totals' | 'rttUs' | 'sendJitterUs'> & Partial<Pick<SimStats, 'engineInfo'>>;
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

export interface PhaseCtx {
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

/** serve's /metrics and rtpengine's relayed count, read when the steady window opens and closes. */
interface WindowReadings {
  metricsAtStart: Promise<ServeMetricsBody | null>;
  metricsAtEnd: Promise<ServeMetricsBody | null>;
  relayedAtStart: Promise<number | null>;
  relayedAtEnd: Promise<number | null>;
}

/** The phase's processes, its window and the readings at the window's ends. */
interface RunningPhase {
  p: PhaseProcesses;
  placement: PhasePlacement;
  d: RunningRtpengine | null;
  w: PhaseWindow;
  readings: WindowReadings;
  onFirstHangup: () => void;
}

/** What the calls of the phase gave: the direct run's figures, or load's report. */
interface PhaseCalls {
  direct: Awaited<ReturnType<typeof runDirect>> | null;
  report: Report | null;
  reportPath: string;
}

/** What was read after the window closed, with every process of the phase stopped. */
interface PhaseReadings {
  win: WindowResult;
  stats: SimStatsBody;
  mStart: ServeMetricsBody | null;
  mEnd: ServeMetricsBody | null;
  rStart: number | null;
  rEnd: number | null;
  mFinal: ServeMetricsBody | null;
  /** Over the echo's whole life (its last stats line). */
  echoPacing: ReturnType<typeof parseEchoPacing>;
  /** Over the steady window (between its two marks). */
  echoWindowPacing: ReturnType<typeof windowEchoPacing>;
}

const isRtpsla = (pathName: PathName) => PATH_SPECS[pathName].rtpsla;

/** Arm the window's readings: serve's /metrics and rtpengine's count at the start and at the first hangup. */
function watchWindow(w: PhaseWindow, p: PhaseProcesses, d: RunningRtpengine | null): {readings: WindowReadings; onFirstHangup: () => void} {
  const readings: WindowReadings = {
    metricsAtStart: Promise.resolve(null),
    metricsAtEnd: Promise.resolve(null),
    relayedAtStart: Promise.resolve(null),
    relayedAtEnd: Promise.resolve(null),
  };
  // echo logs its pacing-error histogram on each mark: the two bracket the window (media/echo/mark.ts)
  let marked = false;
  const markEcho = () => {
    p.echo.proc.kill(MARK_SIGNAL);
  };
  w.onStart = () => {
    if (p.serveUrl) readings.metricsAtStart = serveMetrics(p.serveUrl);
    if (d) readings.relayedAtStart = relayedPackets(d.ng);
    marked = true;
    markEcho();
  };
  const onFirstHangup = () => {
    w.firstHangup();
    if (p.serveUrl) readings.metricsAtEnd = serveMetrics(p.serveUrl);
    if (d) readings.relayedAtEnd = relayedPackets(d.ng);
    if (marked) markEcho();
  };
  return {readings, onFirstHangup};
}

/** Place the phase's N calls: direct (sim → echo, or through rtpengine) or through serve with `load`. */
async function placeCalls(ctx: PhaseCtx, n: number, pathName: PathName, ph: RunningPhase): Promise<PhaseCalls> {
  const {creds, o} = ctx;
  const {p, d, w, onFirstHangup} = ph;
  const runId = `bench-${ctx.runStamp}-${pathName}-n${n}-${randomBytes(2).toString('hex')}`;
  if (!isRtpsla(pathName)) {
    const direct = await runDirect({
      ariUrl: p.simUrl, user: creds.user, pass: creds.pass, echoHost: '127.0.0.1', echoPort: p.echoPort,
      count: n, durationMs: o.durationMs, delayBetweenMs: o.delayBetweenMs, format: o.format, endpoint: o.endpoint, runId,
      signal: o.signal, onAllOriginated: () => w.allOriginated(o.settleMs), onFirstHangup,
      route: d ? new RtpengineRoute(d.ng, {echoHost: '127.0.0.1', echoPort: p.echoPort, format: o.format}) : undefined,
    });
    return {direct, report: null, reportPath: ''};
  }
  let holding = false;
  let hung = false;
  const caller = PATH_SPECS[pathName].caller;
  // load's caller engine runs in this process: it takes the chain's placement (the sim's CPUs)
  const savedCpus = process.env[ENGINE_CPUS_ENV];
  if (caller === 'rtp') process.env[ENGINE_CPUS_ENV] = ph.placement.sim ?? '';
  const res = await runLoad({
    ariUrl: p.simUrl, ariUser: creds.user, ariPass: creds.pass, app: 'rtpsla', count: n, durationMs: o.durationMs,
    delayBetweenMs: o.delayBetweenMs, endpoint: o.endpoint, format: o.format, serveUrl: p.serveUrl!, caller,
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
  }).finally(() => {
    if (savedCpus === undefined) delete process.env[ENGINE_CPUS_ENV];
    else process.env[ENGINE_CPUS_ENV] = savedCpus;
  });
  return {direct: null, report: res.report, reportPath: res.path};
}

/** Close the window, read the sim's stats and serve's metrics, then stop every process of the phase. */
async function readPhase(ctx: PhaseCtx, n: number, pathName: PathName, ph: RunningPhase): Promise<PhaseReadings> {
  const {p, d, w, readings} = ph;
  const win: WindowResult = w.finish();
  if (!win.steady) ctx.log(`bench: N=${n} ${pathName}: no steady window (setup took longer than the hold); CPU is over the whole phase`);
  const stats = await simStats(p.simUrl, ctx.creds);
  const [mStart, mEnd, rStart, rEnd] = await Promise.all([readings.metricsAtStart, readings.metricsAtEnd, readings.relayedAtStart, readings.relayedAtEnd]);
  const mFinal = p.serveUrl ? await serveMetrics(p.serveUrl) : null;
  // echo writes its final counters when it stops (its pacing error: the last line that has it)
  await ctx.reg.stop([p.serve, d?.child]);
  await ctx.reg.stop([p.sim, p.echo]);
  return {win, stats, mStart, mEnd, rStart, rEnd, mFinal, echoPacing: parseEchoPacing(p.echo.output), echoWindowPacing: windowEchoPacing(p.echo.output)};
}

/** The relay's forwarded packets and CPU over the window, from the best source each path has. */
function relayWork(rtpsla: boolean, hasDaemon: boolean, r: PhaseReadings) {
  const {mStart, mEnd, rStart, rEnd, win} = r;
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
    : rtpsla ? win.cpuTimeUs.serve : hasDaemon ? win.cpuTimeUs.rtpengine : undefined;
  const engineCpuUs = counted ? c1.engineCpuUs - c0.engineCpuUs : win.cpuTimeUs.engine;
  // one instrument for every relay: /proc of each of its processes over the window
  const procCpuUs = rtpsla ? win.cpuTimeUs.serve : hasDaemon ? win.cpuTimeUs.rtpengine : undefined;
  return {forwarded, relayCpuUs, engineCpuUs, procCpuUs};
}

/** The phase's PathResult from its calls and readings. */
function pathResult(ctx: PhaseCtx, n: number, pathName: PathName, placement: PhasePlacement, ph: RunningPhase, calls: PhaseCalls, r: PhaseReadings): PathResult {
  const rtpsla = isRtpsla(pathName);
  const {p, d} = ph;
  const {direct, report} = calls;
  const {win, stats, mEnd, mFinal, echoPacing, echoWindowPacing} = r;
  const media = stats.totals.media;
  const simLoss = media.packetsSent > 0 ? Math.max(0, media.packetsSent - media.packetsReceived) / media.packetsSent : 0;
  const over20 = fractionOver(stats.rttUs.histogram, 20_000);
  // the sim's own round trips exist only where it sent media (not where it forwards load's caller)
  const simSent = media.packetsSent > 0;
  const noSimMedia = PATH_SPECS[pathName].caller === 'rtp'
    ? 'the sim sent no media of its own: it forwarded load\'s caller (its figures are under caller)'
    : 'the sim sent no media';
  const {forwarded, relayCpuUs, engineCpuUs, procCpuUs} = relayWork(rtpsla, d !== null, r);
  const relayEngine = rtpsla ? ((mFinal ?? mEnd)?.engine ?? null) : d ? 'rtpengine' : null;
  const asked = PATH_SPECS[pathName].serveEngine;
  if (rtpsla && relayEngine !== asked) {
    const why = relayEngine === null ? 'serve\'s /metrics did not say which engine forwarded' : `serve forwarded with the ${relayEngine} engine`;
    ctx.notes.push(`N=${n} ${pathName}: asked serve for RTPSLA_ENGINE=${asked}, but ${why}.`);
  }
  const relayPlacement = relayPlacementFor(pathName, placement, ctx.o.rtpengineScheduling);
  return {
    path: pathName,
    engines: {sim: ctx.simEchoEngine, echo: p.echoEngine ?? ctx.simEchoEngine, relayRequested: asked, relay: relayEngine},
    placement,
    calls: n,
    callsSetUp: direct ? direct.callsSetUp : report!.summary.callsAnswered - report!.summary.callsFailed,
    callsFailed: direct ? direct.callsFailed : report!.summary.callsFailed,
    errors: direct ? direct.errors : [...new Set(report!.calls.map((c) => c.error).filter((e): e is string => !!e))].slice(0, 5),
    roundTripMs: simSent ? pMs(stats.rttUs) : null,
    simSendJitterMs: simSent ? pMs(stats.sendJitterUs) : null,
    sim: simSent
      ? {
          packetsSent: media.packetsSent,
          packetsReceived: media.packetsReceived,
          lossRatio: round(simLoss, 6),
          roundTripOver20msRatio: round(over20, 6),
          schedulerSkips: media.skips,
        }
      : null,
    ...(simSent ? {} : {nullReasons: {roundTripMs: noSimMedia, simSendJitterMs: noSimMedia, sim: noSimMedia}}),
    caller: callerFigures(report),
    lateRatio: report ? report.summary.lateRatio : simSent ? round(over20, 6) : null,
    lossRatio: report ? report.summary.lossRatio : simSent ? round(simLoss, 6) : null,
    maxConsecutiveMisses: report ? Math.max(report.summary.maxConsecutiveLate, ...report.calls.map((c) => c.maxConsecutiveLate)) : null,
    window: win,
    relayCpuUsPerPacket: perPacket(relayCpuUs, forwarded),
    engineCpuUsPerPacket: perPacket(engineCpuUs, forwarded),
    relayCpuUsPerPacketProc: perPacket(procCpuUs, forwarded),
    callerCpuUsPerPacket: PATH_SPECS[pathName].caller === 'rtp' ? perPacket(win.cpuTimeUs.caller, forwarded) : null,
    relayPlacement: relayPlacement && d ? {...relayPlacement, threadsPinned: d.threadsPinned} : relayPlacement,
    packetsForwardedInWindow: forwarded,
    toolEngines: grantedEngines(pathName, stats, p.echo.output, report),
    echoPacingErrorUs: echoWindowPacing.pacing,
    echoPacingErrorUsPhase: echoPacing,
    echoPacingNote: [
      echoWindowPacing.pacing ? 'over the steady window: the packets echo held between its two marks (count)' : `over the steady window: not measured (${echoWindowPacing.reason})`,
      echoPacing ? 'Phase: over the echo\'s whole life, setup and teardown included (its last stats line)' : 'Phase: echo\'s stats lines carry no pacing error (pacingErrorP99Us / pacingErrorUs)',
    ].join('; '),
    serve: mFinal ? {eventLoopDelayMs: (mEnd ?? mFinal).eventLoopDelayMs, rssBytesAtEnd: mFinal.rssBytes, portsHeldAtEnd: mFinal.portsHeld} : null,
    relay: calls.report ? judgeRelay(n, calls.report, calls.reportPath) : null,
    setupMs: direct ? direct.setupMs : null,
  };
}

/** What each engine role of the phase was granted (PathResult.toolEngines). */
function grantedEngines(pathName: PathName, stats: SimStatsBody, echoOutput: string, report: Report | null): ToolEngines {
  const fromReport = report?.tool.engines ?? {};
  const out: ToolEngines = {
    sim: stats.engineInfo ?? {unknown: 'the sim\'s /_sim/stats did not say'},
    echo: parseEngineLine(echoOutput) ?? {unknown: 'the echo printed no engine line'},
  };
  if (isRtpsla(pathName)) out.relay = fromReport.relay ?? {unknown: 'load\'s report did not say'};
  else if (pathName !== 'direct') out.relay = {unknown: 'rtpengine: its media threads ran at relayPlacement.scheduling (it does not start when that is refused)'};
  if (PATH_SPECS[pathName].caller === 'rtp') out.caller = fromReport.caller ?? {unknown: 'load\'s report did not say'};
  return out;
}

/** What load's caller engine measured (rtpcaller), from the report's summary; null without one. */
function callerFigures(report: Report | null): PathResult['caller'] {
  const c = report?.summary.caller;
  if (!c) return null;
  return {callerRttMs: c.callerRttMs, hearsLatenessMs: c.hearsLatenessMs, expected: c.expected, received: c.received, late: c.late, lost: c.lost};
}

/** The relay's own figures from load's report, judged with the SLA profile for N. */
function judgeRelay(n: number, report: Report, reportPath: string): PathResult['relay'] {
  const {profile, level, judgedAt} = profileFor(n);
  const v = evaluateReport(report, profile, level);
  const s = report.summary;
  return {
    reportPath, latenessMs: s.latenessMs, rttMs: s.rttMs, packetsUp: s.packetsUp, packetsBack: s.packetsBack, late: s.late, lost: s.lost,
    peakConcurrent: s.peakConcurrent, sla: {pass: v.pass, judgedAt, level: v.level, levelCalls: v.levelCalls, failed: v.failed},
  };
}

/** The round trip the log line quotes: the sim's, or where it sent none the caller's. */
function rtLine(result: PathResult): string {
  const rt = result.roundTripMs;
  if (rt) return `RT p50 ${rt.p50} ms, p99 ${rt.p99} ms, p99.9 ${rt.p999} ms, max ${rt.max} ms`;
  const c = result.caller?.callerRttMs;
  if (c) return `caller RTT p50 ${c.p50} ms, p99 ${c.p99} ms, p99.9 ${c.p999} ms, max ${c.max} ms`;
  return `RT not measured (${result.nullReasons?.roundTripMs ?? 'no round trips'})`;
}

function logResult(log: (line: string) => void, n: number, pathName: PathName, result: PathResult): void {
  const win = result.window;
  const c = win.cpuPercent;
  log(
    `bench: N=${n} ${pathName}: ${rtLine(result)}; ` +
      `CPU sim ${c.sim}% echo ${c.echo}%${c.serve !== undefined ? ` serve ${c.serve}%` : ''}${c.engine !== undefined ? ` (engine ${c.engine}%)` : ''}` +
      `${c.rtpengine !== undefined ? ` rtpengine ${c.rtpengine}%` : ''} over ${win.durationMs} ms` +
      (result.relayCpuUsPerPacket !== null ? `; relay ${result.relayCpuUsPerPacket} µs/packet` : '') +
      (result.relay ? `; SLA ${result.relay.sla.pass ? 'PASS' : `FAIL (${result.relay.sla.failed.join(', ')})`}` : ''),
  );
}

/** Start the phase's sim, echo and serve (or rtpengine daemon), and its window. */
async function startPhase(ctx: PhaseCtx, n: number, pathName: PathName, placement: PhasePlacement, started: {procs: PhaseProcesses | null; daemon: RunningRtpengine | null}): Promise<RunningPhase> {
  const {o} = ctx;
  const rtpsla = isRtpsla(pathName);
  const spec = PATH_SPECS[pathName];
  const relay = relayPlacementFor(pathName, placement, o.rtpengineScheduling);
  const p = await startPhaseProcesses(ctx.reg, {
    withServe: rtpsla,
    simEchoEngine: ctx.simEchoEngine,
    serveEngine: spec.serveEngine ?? undefined,
    echoStats: true,
    creds: ctx.creds,
    simRtpRange: o.simRtpRange,
    relayPortRange: o.relayPortRange,
    format: o.format,
    serveCpuProfDir: rtpsla && o.serveCpuProfDir ? path.join(o.serveCpuProfDir, `serve-${pathName}-N${n}`) : undefined,
    engineCpus: {...placement, relay: relay?.mediaCpus ?? null},
  });
  started.procs = p;
  let d: RunningRtpengine | null = null;
  if (spec.daemon && relay) {
    const pin = relay.mediaCpus !== null && ctx.taskset ? {taskset: ctx.taskset, cpus: relay.mediaCpus} : null;
    const priority = fifoOf(relay.scheduling);
    d = await startRtpengine(ctx.reg, ctx.rtpengine!, ctx.rtpenginePorts, pin, priority === null ? 'default' : 'fifo', priority ?? undefined);
    started.daemon = d;
    if (!spec.defaults) ctx.rtpengineArgs ??= d.args;
  }
  const w = new PhaseWindow({sim: pidOf(p.sim), echo: pidOf(p.echo), serve: pidOf(p.serve), rtpengine: d?.pid ?? null, harness: process.pid});
  return {p, placement, d, w, ...watchWindow(w, p, d)};
}

export async function runPhase(ctx: PhaseCtx, n: number, pathName: PathName, placement: PhasePlacement): Promise<PathResult> {
  const {reg, o, log} = ctx;
  const started: {procs: PhaseProcesses | null; daemon: RunningRtpengine | null} = {procs: null, daemon: null};
  let window: PhaseWindow | null = null;
  try {
    const ph = await startPhase(ctx, n, pathName, placement, started);
    window = ph.w;
    const where = placement.mode === 'free' ? 'processes placed by the kernel' : `media chain on CPU ${placement.relay}`;
    log(`bench: N=${n} ${pathName}: ${n} calls, ${o.durationMs} ms each, ${o.delayBetweenMs} ms apart, ${where}`);
    const calls = await placeCalls(ctx, n, pathName, ph);
    window = null;
    const readings = await readPhase(ctx, n, pathName, ph);
    const result = pathResult(ctx, n, pathName, placement, ph, calls, readings);
    logResult(log, n, pathName, result);
    return result;
  } catch (err) {
    const {procs, daemon} = started;
    for (const c of [procs?.sim, procs?.echo, procs?.serve, daemon?.child]) if (c && c.output.trim()) log(c.tail(8));
    throw err;
  } finally {
    const {procs, daemon} = started;
    window?.finish();
    daemon?.ng.close();
    await reg.stop([procs?.serve, daemon?.child]);
    if (procs) await reg.stop([procs.sim, procs.echo]);
  }
}
