import type {EngineRoleInfo} from '../protocol/report.js';
import {randomBytes} from 'node:crypto';
import {checkAri} from '../ari/check.js';
import {AriRest} from '../ari/rest.js';
import {ConfigError, errorMessage} from '../errors.js';
import type {EngineChoice} from '../engine/engine-types.js';
import {HostStallWatch, hostStealUs} from '../metrics/host.js';
import {createCallerEngine} from '../media/source/caller-engine.js';
import {NativeCallerEngine} from '../media/source/caller-native.js';
import {superviseStarted} from '../engine/engine-supervisor.js';
import type {PortRange} from '../media/source/caller.js';
import {type Leaked, type Report} from '../protocol/report.js';
import {writeReportAtomic} from '../metrics/report-file.js';
import type {ServeCallRecord} from '../protocol/serve-api.js';
import {newRunToken} from '../protocol/app-args.js';
import {checkCallerPortRange} from './caller-ports.js';
import {OriginateLoop, type OriginatedCall} from './originate.js';
import {buildReport, type CollectedRun, type RtpRun} from './report-build.js';
import {toolEngines} from './engines.js';
import {RtpCallers} from './rtp-callers.js';
import {StealSampler} from './run-timeline.js';
import {ServeClient} from './serve-client.js';
import {watchCalls, type CallWatch} from './follow-calls.js';

/** `--caller-port-range` default. */
export const DEFAULT_CALLER_PORT_RANGE: PortRange = {low: 52000, high: 59999};

export interface LoadOptions {
  ariUrl: string;
  ariUser: string;
  ariPass: string;
  app: string;
  count: number;
  durationMs: number;
  delayBetweenMs: number;
  endpoint: string;
  format: string;
  serveUrl: string;
  outDir: string;
  runId?: string;
  lateThresholdMs: number;
  /** `rtp`: rtpsla's own RTP stream is each call's caller; `endpoint` (default here): `endpoint` is originated. */
  caller?: 'rtp' | 'endpoint';
  /** The RTP caller's bind address (default 127.0.0.1), port range (default 52000-59999) and engine (default auto). */
  callerBindIp?: string;
  callerPortRange?: PortRange;
  callerEngine?: EngineChoice;
  /** The media server's engine, when whoever started it knows it (npm start, the bench): `tool.engines.echo`. */
  echoEngine?: EngineRoleInfo;
  /** How long a failed hangup is retried (with backoff) before the call counts as leaked; default 10 s. */
  hangupRetryMs?: number;
  /** How long to wait for serve's records after the last hangup. */
  collectTimeoutMs?: number;
  /** Aborting (Ctrl-C) stops originating, hangs up what was originated, writes a partial report. */
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
}

export type LoadPhase = 'checking' | 'originating' | 'holding' | 'collecting' | 'leak-check' | 'writing' | 'done';

export interface LoadProgress {
  phase: LoadPhase;
  count: number;
  originated: number;
  failed: number;
  active: number;
  hungUp: number;
  measured: number;
}

export interface LoadResult {
  report: Report;
  path: string;
  /** Why the run was cut short by the instrument itself (load's caller engine died), or null. */
  cutShort: string | null;
}

/** `20261122-041455-a3f9`: sortable, unique enough, usable as a file name. */
export function newRunId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const d = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${d}-${randomBytes(2).toString('hex')}`;
}

/**
 * Originate `count` calls through ARI into the app `serve` runs, `delayBetweenMs` apart, hold
 * each for `durationMs`, hang up, collect serve's per-call records, check for leftovers and write
 * `<outDir>/<runId>.json` (schema v1, atomic). With `caller: 'rtp'` each call's caller is rtpsla's
 * own RTP stream (src/load/rtp-callers.ts), measured at the caller too. Preconditions (ARI and
 * serve reachable, credentials, ports) fail with a ConnectError or ConfigError before anything is
 * originated or written.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const runId = o.runId ?? newRunId();
  // the run's secret: serve lets only its holder consume the run's records
  const token = newRunToken();
  const progress = new ProgressEmitter(o);
  const {info, serve, servePortRange, mediaServer} = await checkPreconditions(o);
  const caller = o.caller ?? 'endpoint';
  if (caller === 'rtp') checkCallerPortRange(o.callerPortRange ?? DEFAULT_CALLER_PORT_RANGE, {servePortRange, targetIsSim: info.isSim});
  const rest = new AriRest({url: o.ariUrl, user: o.ariUser, pass: o.ariPass, maxSockets: 32});
  // the run stops early on Ctrl-C, or when load's own caller engine dies (then the calls fail with its reason)
  const abort = new AbortController();
  if (o.signal?.aborted) abort.abort();
  const outer = o.signal;
  const passOn = () => abort.abort();
  outer?.addEventListener('abort', passOn, {once: true});
  let cutShort: string | null = null;
  let calls: readonly OriginatedCall[] = [];
  const onCallerEngineDeath = (line: string) => {
    cutShort = line;
    failLiveCalls(calls, line);
    abort.abort();
  };
  o = {...o, signal: abort.signal};
  const rtp = caller === 'rtp' ? await startRtpCallers(o, rest, runId, token, onCallerEngineDeath) : null;
  const startedAt = new Date();
  const stealAtStartUs = hostStealUs();
  // load's own event loop as a witness of the machine while it holds the calls (nearly idle then)
  const stallWatch = new HostStallWatch();
  stallWatch.start();
  // the host's CPU steal, once per timeline bucket
  const steal = new StealSampler();
  steal.start();
  // each call is followed until it enters serve's app: one that never does fails with Asterisk's reason
  const watch = await watchCalls({
    ariUrl: o.ariUrl, ariUser: o.ariUser, ariPass: o.ariPass, app: o.app, runId,
    endpointOf: () => (rtp ? "the RTP caller's externalMedia channel" : o.endpoint),
    onNeverEntered: () => {
      progress.p.failed++;
      progress.emit();
    },
  });
  const loop = originateLoop(o, rest, runId, token, progress, rtp?.callers ?? null, watch);
  calls = loop.calls;
  try {
    progress.emit('originating');
    await loop.run();
    stallWatch.stop();
    steal.stop();
    const run = await collectRun(o, serve, rest, runId, token, loop.calls, progress);
    progress.emit('writing');
    const engines = await toolEngines({...o, info, run: run.run, caller: rtp?.engineInfo ?? null, echo: o.echoEngine});
    const report = buildReport({o, runId, info, startedAt, calls: loop.calls, run, stallWatch, steal: steal.steal, stealAtStartUs, rtp, engines, mediaServer, followNote: watch.note});
    const path = writeReportAtomic(o.outDir, runId, report);
    progress.emit('done');
    return {report, path, cutShort};
  } finally {
    outer?.removeEventListener('abort', passOn);
    stallWatch.stop();
    steal.stop();
    // whatever happened, nothing this run originated stays up
    await loop.hangUpAll();
    watch.close();
    await rtp?.callers.closeAll();
    rest.close();
  }
}

/** Emits the run's progress (a copy each time) to `onProgress`. */
class ProgressEmitter {
  readonly p: LoadProgress;
  constructor(private readonly o: Pick<LoadOptions, 'count' | 'onProgress'>) {
    this.p = {phase: 'checking', count: o.count, originated: 0, failed: 0, active: 0, hungUp: 0, measured: 0};
    this.emit();
  }
  emit(phase?: LoadPhase): void {
    if (phase) this.p.phase = phase;
    this.o.onProgress?.({...this.p});
  }
}

/** ARI and serve reachable, credentials right, formats agree: else a one-line error before anything is originated. */
async function checkPreconditions(o: LoadOptions) {
  const info = await checkAri(o.ariUrl, o.ariUser, o.ariPass, {timeoutMs: 5000});
  const serve = new ServeClient(o.serveUrl);
  const serveInfo = await serve.checkHealthy();
  // the same app, or no call would ever reach serve: one line before anything is originated
  if (serveInfo.app !== null && serveInfo.app !== o.app) throw new ConfigError(`serve at ${o.serveUrl} runs app \`${serveInfo.app}\`, not \`${o.app}\`: run load with --app ${serveInfo.app}`);
  // Formats agree or the run stops: serve asks Asterisk for its own format, whatever load originates with.
  if (serveInfo.format !== null && serveInfo.format !== o.format)
    throw new ConfigError(
      `--format ${o.format} does not match serve's format ${serveInfo.format}: run load with --format ${serveInfo.format} or start serve with --format ${o.format}`,
    );
  return {info, serve, servePortRange: serveInfo.portRange, mediaServer: serveInfo.mediaServer};
}

/** Every call still up when the instrument died fails with its reason and the time into the call. */
function failLiveCalls(calls: readonly OriginatedCall[], line: string): void {
  const now = Date.now();
  for (const c of calls)
    if (c.originatedAtMs !== null && c.hungUpAtMs === null) c.instrumentError ??= `${line} at ${((now - c.originatedAtMs) / 1000).toFixed(1)} s`;
}

async function startRtpCallers(o: LoadOptions, rest: AriRest, runId: string, token: string, onEngineDeath: (line: string) => void): Promise<RtpRun> {
  const {caller: engine, fallbackReason} = await createCallerEngine({
    engine: o.callerEngine ?? 'auto',
    format: o.format,
    bindIp: o.callerBindIp ?? '127.0.0.1',
    portRange: o.callerPortRange ?? DEFAULT_CALLER_PORT_RANGE,
    lateThresholdMs: o.lateThresholdMs,
  });
  // the caller is a role of the engine supervision: it does not restart (a report must not mix engines)
  if (engine instanceof NativeCallerEngine) await superviseStarted('caller', engine.native, (line) => onEngineDeath(line.replace(/^the caller media engine died: /, '')));
  const callers = new RtpCallers({rest, engine, app: o.app, format: o.format, runId, token, bindIp: o.callerBindIp ?? '127.0.0.1'});
  return {callers, engine: engine.kind, fallbackReason, engineInfo: () => engine.info()};
}

function originateLoop(o: LoadOptions, rest: AriRest, runId: string, token: string, progress: ProgressEmitter, callers: RtpCallers | null, watch: CallWatch): OriginateLoop {
  const p = progress.p;
  return new OriginateLoop({
    rest,
    app: o.app,
    endpoint: o.endpoint,
    format: o.format,
    runId,
    token,
    count: o.count,
    durationMs: o.durationMs,
    delayBetweenMs: o.delayBetweenMs,
    hangupRetryMs: o.hangupRetryMs,
    signal: o.signal,
    ...(callers ? {startCall: (c) => callers.start(c), beforeHangup: (c) => callers.stop(c), afterHangup: (c) => callers.close(c)} : {}),
    onStarting: watch.hooks.onStarting,
    holdEnds: watch.hooks.holdEnds,
    onOriginated: (c) => {
      watch.hooks.originated(c);
      p.originated++;
      p.active++;
      progress.emit();
    },
    onOriginateFailed: (c) => {
      watch.hooks.failedToStart(c);
      p.failed++;
      progress.emit();
    },
    onAllOriginated: () => progress.emit('holding'),
    onHungUp: () => {
      p.active--;
      p.hungUp++;
      progress.emit();
    },
  });
}

/** serve's records of the run, then the leak check. */
async function collectRun(o: LoadOptions, serve: ServeClient, rest: AriRest, runId: string, token: string, calls: readonly OriginatedCall[], progress: ProgressEmitter): Promise<CollectedRun> {
  progress.emit('collecting');
  // a call that never entered the app has no record at serve to wait for
  const originated = calls.filter((c) => c.originatedAtMs !== null && c.neverEnteredApp !== true).length;
  const {run, error} = await collect(serve, runId, token, originated, o.collectTimeoutMs ?? 15_000, (n) => {
    progress.p.measured = n;
    progress.emit();
  });
  progress.emit('leak-check');
  const records = new Map<number, ServeCallRecord>();
  for (const r of run?.calls ?? []) records.set(r.index, r);
  const leak = await leakCheck(rest, serve, runId, calls, [...records.values()]);
  return {run, collectError: error, records, leak};
}

/**
 * Poll serve's cheap progress view until every originated call of the run is recorded and none
 * is live (or the timeout), then fetch the records and histograms once, consuming them with the run's token.
 */
async function collect(serve: ServeClient, runId: string, token: string, expected: number, timeoutMs: number, onCount: (n: number) => void) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let progress: Awaited<ReturnType<ServeClient['runProgress']>>;
    try {
      progress = await serve.runProgress(runId);
    } catch {
      progress = undefined;
    }
    onCount(progress?.recorded ?? 0);
    if (((progress?.activeCalls ?? 0) === 0 && (progress?.recorded ?? 0) >= expected) || Date.now() > deadline) break;
    await sleep(100);
  }
  try {
    const run = await serve.run(runId, {token});
    if (run === undefined && expected > 0) return {run, error: `serve at ${serve.baseUrl} has no call of run ${runId}: none of the run's calls reached it`};
    return {run, error: null};
  } catch (err) {
    // serve gone, or an answer this version cannot read (ServeProtocolError): every call says why
    return {run: undefined, error: errorMessage(err)};
  }
}

/**
 * Channels, bridges and relay ports of this run still present after it: the run's own
 * originated channels, the externalMedia channels and bridges serve recorded for it, and
 * serve's live calls of the run (each holds a port). Polled briefly since teardown is async.
 * When no listing ever succeeded, the figures are unknown (null) with the reason (docs/measurement.md, reports).
 */
export async function leakCheck(
  rest: Pick<AriRest, 'listChannels' | 'listBridges'>,
  serve: Pick<ServeClient, 'liveCalls'>,
  runId: string,
  calls: ReadonlyArray<Pick<OriginatedCall, 'channelId'>>,
  records: ReadonlyArray<Pick<ServeCallRecord, 'externalMediaChannelId' | 'bridgeId'>>,
  timeoutMs = 5000,
): Promise<{leaked: Leaked; error: string | null}> {
  const ownChannels = new Set<string>(calls.map((c) => c.channelId));
  for (const r of records) if (r.externalMediaChannelId) ownChannels.add(r.externalMediaChannelId);
  const ownBridges = new Set<string>(records.map((r) => r.bridgeId).filter((b): b is string => !!b));
  let leaked: Leaked | null = null;
  let error = '';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const [channels, bridges, live] = await Promise.all([rest.listChannels(), rest.listBridges(), serve.liveCalls()]);
      leaked = {
        channels: channels.filter((c) => ownChannels.has(c.id)).length,
        bridges: bridges.filter((b) => ownBridges.has(b.id)).length,
        ports: live.filter((c) => c.runId === runId && c.port !== null).length,
      };
      error = '';
    } catch (err) {
      // keep the last answer; a transient failure is retried until the deadline
      error = errorMessage(err);
    }
    if (leaked !== null && leaked.channels === 0 && leaked.bridges === 0 && leaked.ports === 0) return {leaked, error: null};
    if (Date.now() > deadline) {
      if (leaked !== null) return {leaked, error: null};
      return {leaked: {channels: null, bridges: null, ports: null}, error: `leak check failed: could not list channels, bridges or serve's calls (${error})`};
    }
    await sleep(200);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
