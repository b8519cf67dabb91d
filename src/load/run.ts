import {randomBytes} from 'node:crypto';
import {availableParallelism} from 'node:os';
import {checkAri} from '../ari/check.js';
import {AriRest} from '../ari/rest.js';
import {ConfigError, errorMessage} from '../errors.js';
import {LatencyHistogram} from '../metrics/histogram.js';
import {HostStallWatch, hostStealUs} from '../metrics/host.js';
import {REPORT_SCHEMA_ID, type CallRecord, type Leaked, type LoadHost, type Report} from '../protocol/report.js';
import {buildSummary, encodeHistograms} from '../metrics/summary.js';
import {writeReportAtomic} from '../metrics/report-file.js';
import type {ServeCallRecord} from '../protocol/serve-api.js';
import {reportCallRecord, unrecordedCallRecord} from '../metrics/call-record-from.js';
import {newRunToken} from '../protocol/app-args.js';
import {TOOL_VERSION} from '../version.js';
import {stallNoteFor, stealNoteFor} from './host-notes.js';
import {callEndError, formatMismatchError, measuredFormat} from './call-outcome.js';
import {peakConcurrency, type CallInterval} from './concurrency.js';
import {OriginateLoop, type OriginatedCall} from './originate.js';
import {ServeClient} from './serve-client.js';

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
 * `<outDir>/<runId>.json` (schema v1, atomic). Preconditions (ARI and serve reachable,
 * credentials) fail with a ConnectError before anything is originated or written.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const runId = o.runId ?? newRunId();
  // the run's secret: serve lets only its holder consume the run's records
  const token = newRunToken();
  const progress: LoadProgress = {phase: 'checking', count: o.count, originated: 0, failed: 0, active: 0, hungUp: 0, measured: 0};
  const emit = (phase?: LoadPhase) => {
    if (phase) progress.phase = phase;
    o.onProgress?.({...progress});
  };
  emit();
  const info = await checkAri(o.ariUrl, o.ariUser, o.ariPass, {timeoutMs: 5000});
  const serve = new ServeClient(o.serveUrl);
  const serveInfo = await serve.checkHealthy();
  // Formats agree or the run stops: serve asks Asterisk for its own format, whatever load originates with.
  if (serveInfo.format !== null && serveInfo.format !== o.format)
    throw new ConfigError(
      `--format ${o.format} does not match serve's format ${serveInfo.format}: run load with --format ${serveInfo.format} or start serve with --format ${o.format}`,
    );

  const rest = new AriRest({url: o.ariUrl, user: o.ariUser, pass: o.ariPass, maxSockets: 32});
  const startedAt = new Date();
  const stealAtStartUs = hostStealUs();
  // load's own event loop as a witness of the machine while it holds the calls (nearly idle then)
  const stallWatch = new HostStallWatch();
  stallWatch.start();
  const aborted = () => o.signal?.aborted === true;
  const loop = new OriginateLoop({
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
    onOriginated: () => {
      progress.originated++;
      progress.active++;
      emit();
    },
    onOriginateFailed: () => {
      progress.failed++;
      emit();
    },
    onAllOriginated: () => emit('holding'),
    onHungUp: () => {
      progress.active--;
      progress.hungUp++;
      emit();
    },
  });
  const calls = loop.calls;

  try {
    emit('originating');
    await loop.run();
    stallWatch.stop();

    emit('collecting');
    const originated = calls.filter((c) => c.originatedAtMs !== null).length;
    const {run, error: collectError} = await collect(serve, runId, token, originated, o.collectTimeoutMs ?? 15_000, (n) => {
      progress.measured = n;
      emit();
    });

    emit('leak-check');
    const records = new Map<number, ServeCallRecord>();
    for (const r of run?.calls ?? []) records.set(r.index, r);
    const leak = await leakCheck(rest, serve, runId, calls, [...records.values()]);

    emit('writing');
    const callRecords: CallRecord[] = calls.map((c) => toCallRecord(c, records.get(c.index), startedAt, o, collectError));
    const decode = (b64: string | undefined) => (b64 ? LatencyHistogram.fromBase64(b64) : new LatencyHistogram());
    const lateness = decode(run?.histograms?.latenessUs);
    const rtt = decode(run?.histograms?.rttUs);
    const upLateness = decode(run?.histograms?.upLatenessUs);
    const relayHold = decode(run?.histograms?.relayHoldUs);
    const intervals: CallInterval[] = calls
      .filter((c) => c.originatedAtMs !== null && c.hungUpAtMs !== null && records.get(c.index)?.error === null)
      .map((c) => ({startMs: c.originatedAtMs!, endMs: c.hungUpAtMs!}));
    const peak = peakConcurrency(intervals);
    const summary = buildSummary(callRecords, {lateness, rtt, upLateness, relayHold}, {
      peakConcurrent: peak,
      leaked: leak.leaked,
      ...(leak.error !== null ? {leakCheckError: leak.error} : {}),
      callsAnswered: callRecords.filter((r) => r.setupMs !== null).length,
    });
    // A histogram decoded from base64 reports its max as the top of the max's bucket (up to 0.1 %
    // high); the per-call records carry the exact maxima, so the run's max is taken from them.
    const measured = callRecords.filter((r) => r.packetsBack > 0);
    if (measured.length > 0) {
      if (summary.latenessMs) summary.latenessMs.max = Math.max(...measured.map((r) => r.latenessMs?.max ?? 0));
      if (summary.rttMs) summary.rttMs.max = Math.max(...measured.map((r) => r.rttMs?.max ?? 0));
      if (summary.upLatenessMs) summary.upLatenessMs.max = Math.max(...measured.map((r) => r.upLatenessMs?.max ?? 0));
      if (summary.relayHoldMs) summary.relayHoldMs.max = Math.max(...measured.map((r) => r.relayHoldMs?.max ?? 0));
    }
    const notes: string[] = [];
    if (peak < o.count)
      notes.push(
        `peak concurrency was ${peak} of ${o.count} calls` +
          (o.delayBetweenMs * (o.count - 1) >= o.durationMs ? ' (count × delay-between exceeds duration: calls did not all overlap)' : ''),
      );
    if (aborted()) notes.push(`interrupted: ${calls.length} of ${o.count} calls originated before the run was stopped`);
    const loadHost: LoadHost = {cpus: availableParallelism(), stealMs: stealSince(stealAtStartUs), stalls: stallWatch.summary()};
    for (const note of [stealNoteFor(loadHost), stallNoteFor(loadHost, callRecords, startedAt.getTime())]) if (note !== null) notes.push(note);
    const report: Report = {
      schema: REPORT_SCHEMA_ID,
      runId,
      tool: {name: 'rtpsla', version: TOOL_VERSION, engine: run?.engine ?? 'node'},
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      ...(aborted() ? {partial: true} : {}),
      target: {ariUrl: o.ariUrl, app: o.app, asterisk: info.isSim ? 'sim' : info.version},
      params: {
        count: o.count,
        durationMs: o.durationMs,
        delayBetweenMs: o.delayBetweenMs,
        // the format actually measured (a call whose media differed from the asked one failed)
        format: measuredFormat(o.format, callRecords),
        formatAsked: o.format,
        lateThresholdMs: o.lateThresholdMs,
        endpoint: o.endpoint,
      },
      summary,
      calls: callRecords,
      histograms: encodeHistograms({lateness, rtt, upLateness, relayHold}),
      loadHost,
      ...(notes.length ? {notes} : {}),
    };
    const path = writeReportAtomic(o.outDir, runId, report);
    emit('done');
    return {report, path};
  } finally {
    stallWatch.stop();
    // whatever happened, nothing this run originated stays up
    await loop.hangUpAll();
    rest.close();
  }
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
    return {run: await serve.run(runId, {token}), error: null};
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

function toCallRecord(
  c: OriginatedCall,
  r: ServeCallRecord | undefined,
  runStart: Date,
  o: Pick<LoadOptions, 'durationMs' | 'format'>,
  collectError: string | null,
): CallRecord {
  if (r) {
    // serve's own error first; then what only load can tell (ended before its hangup, media
    // stopped, not the format asked); then load's own step errors (hangup failed)
    const error =
      r.error ??
      callEndError(r, {durationMs: o.durationMs, hungUpAtMs: c.hungUpAtMs}) ??
      formatMismatchError(o.format, r) ??
      c.error;
    return {...reportCallRecord(r), index: c.index, error};
  }
  return unrecordedCallRecord({
    index: c.index,
    channelId: c.originatedAtMs !== null ? c.channelId : null,
    startedAt: new Date(c.originatedAtMs ?? runStart.getTime()),
    endedAt: new Date(c.hungUpAtMs ?? Date.now()),
    error:
      c.error ??
      (collectError !== null ? `serve's records could not be read: ${collectError}` : 'serve recorded no call for it (did the call reach the Stasis app?)'),
  });
}

function stealSince(startUs: number | null): number | null {
  const nowUs = hostStealUs();
  return startUs === null || nowUs === null ? null : Math.max(0, Math.round((nowUs - startUs) / 1000));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
