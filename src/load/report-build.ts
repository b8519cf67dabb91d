/**
 * The report of a load run, built once from what the run gathered: the per-call records (serve's,
 * or load's own for a call serve never recorded), the run's histograms with their exact maxima
 * (serve sends them beside the base64 text, which keeps only the top of the max's bucket), the
 * leak check, the host's witness figures and, with `--caller rtp`, the caller's side.
 */
import {availableParallelism} from 'node:os';
import type {EngineKind} from '../engine/engine-types.js';
import {LatencyHistogram} from '../metrics/histogram.js';
import {hostStealUs, type HostStallWatch} from '../metrics/host.js';
import {buildSummary, encodeHistograms, type MergedHistograms} from '../metrics/summary.js';
import {reportCallRecord, unrecordedCallRecord} from '../metrics/call-record-from.js';
import type {AriCheckResult} from '../ari/check.js';
import {REPORT_SCHEMA_ID, type CallRecord, type Leaked, type LoadHost, type Report, type ToolEngines, type EngineRoleInfo} from '../protocol/report.js';
import type {RunRecords, ServeCallRecord} from '../protocol/serve-api.js';
import {TOOL_VERSION} from '../version.js';
import {callerRunSide} from './caller-report.js';
import {callEndError, formatMismatchError, measuredFormat} from './call-outcome.js';
import {peakConcurrency, type CallInterval} from './concurrency.js';
import {stallNoteFor, stealNoteFor} from './host-notes.js';
import type {OriginatedCall} from './originate.js';
import type {RtpCallers} from './rtp-callers.js';
import {attachTimelines} from './run-timeline.js';
import {neverEnteredNotes} from './call-follower.js';
import type {SumTimeline} from '../metrics/timeline.js';

/** What of load's options the report records. */
export interface LoadOptions {
  ariUrl: string;
  app: string;
  count: number;
  durationMs: number;
  delayBetweenMs: number;
  endpoint: string;
  format: string;
  lateThresholdMs: number;
  caller?: 'rtp' | 'endpoint';
  signal?: AbortSignal;
}

/** The RTP callers of a run and the engine they ran on. */
export interface RtpRun {
  callers: RtpCallers;
  engine: EngineKind;
  fallbackReason: string | null;
  /** How the caller engine measures (`tool.engines.caller`). */
  engineInfo: () => Promise<EngineRoleInfo>;
}

/** What load collected from serve after the holds. */
export interface CollectedRun {
  run: RunRecords | undefined;
  collectError: string | null;
  records: Map<number, ServeCallRecord>;
  leak: {leaked: Leaked; error: string | null};
}

export interface ReportFacts {
  o: LoadOptions;
  runId: string;
  info: AriCheckResult;
  startedAt: Date;
  calls: readonly OriginatedCall[];
  run: CollectedRun;
  stallWatch: HostStallWatch;
  /** The host's CPU steal per timeline bucket. */
  steal: SumTimeline;
  stealAtStartUs: number | null;
  rtp: RtpRun | null;
  /** How each media engine role measured (`tool.engines`). */
  engines: ToolEngines;
  /** What serve takes its media server to be (null: an older serve that does not say: an echo). */
  mediaServer: 'echo' | 'stream' | 'sink' | null;
  /** Why load could not follow its calls into the app (null: it did). */
  followNote?: string | null;
}

export function buildReport(f: ReportFacts): Report {
  const {o, run: collected} = f;
  const {run, records} = collected;
  const callRecords: CallRecord[] = f.calls.map((c) => toCallRecord(c, records.get(c.index), f.startedAt, o, collected.collectError));
  const merged = runHistograms(run);
  const intervals: CallInterval[] = f.calls
    .filter((c) => c.originatedAtMs !== null && c.hungUpAtMs !== null && records.get(c.index)?.error === null)
    .map((c) => ({startMs: c.originatedAtMs!, endMs: c.hungUpAtMs!}));
  const peak = peakConcurrency(intervals);
  const summary = buildSummary(callRecords, merged, {
    peakConcurrent: peak,
    leaked: collected.leak.leaked,
    ...(collected.leak.error !== null ? {leakCheckError: collected.leak.error} : {}),
    callsAnswered: callRecords.filter((r) => r.setupMs !== null).length,
  });
  const histograms: Report['histograms'] = encodeHistograms(merged);
  const notes = runNotes(f, peak, callRecords);
  const loadHost: LoadHost = {cpus: availableParallelism(), stealMs: stealSince(f.stealAtStartUs), stalls: f.stallWatch.summary()};
  for (const note of [stealNoteFor(loadHost), stallNoteFor(loadHost, callRecords, f.startedAt.getTime())]) if (note !== null) notes.push(note);
  const callerTimelines = f.rtp ? addCallerSide(f.rtp, records, callRecords, summary, histograms, notes, (f.mediaServer ?? 'echo') === 'echo') : null;
  const timeline = attachTimelines(callRecords, callerTimelines, f.steal);
  return {
    schema: REPORT_SCHEMA_ID,
    runId: f.runId,
    tool: {name: 'rtpsla', version: TOOL_VERSION, engine: run?.engine ?? 'node', engines: f.engines},
    startedAt: f.startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    ...(o.signal?.aborted === true ? {partial: true} : {}),
    target: {ariUrl: o.ariUrl, app: o.app, asterisk: f.info.isSim ? 'sim' : f.info.version},
    params: {
      count: o.count,
      durationMs: o.durationMs,
      delayBetweenMs: o.delayBetweenMs,
      // the format actually measured (a call whose media differed from the asked one failed)
      format: measuredFormat(o.format, callRecords),
      formatAsked: o.format,
      mediaServer: f.mediaServer ?? 'echo',
      lateThresholdMs: o.lateThresholdMs,
      caller: o.caller ?? 'endpoint',
      ...(f.rtp ? {} : {endpoint: o.endpoint}),
    },
    summary,
    calls: callRecords,
    histograms,
    loadHost,
    timeline,
    ...(notes.length ? {notes} : {}),
  };
}

/** The caller's side of every call and of the run (`--caller rtp`); returns each call's caller timeline. */
/** The callers' side of the report; `echoes`: only an echo returns the caller's own frames (a round trip), a stream's frames are the bot's own. */
function addCallerSide(rtp: RtpRun, records: Map<number, ServeCallRecord>, callRecords: CallRecord[], summary: Report['summary'], histograms: Report['histograms'], notes: string[], echoes: boolean) {
  const meters = new Map([...rtp.callers.ports].map(([index, port]) => [index, port.meter] as const));
  const side = callerRunSide(meters, records, {echoes});
  for (const r of callRecords) {
    const c = side.calls.get(r.index);
    if (c) r.caller = c;
  }
  summary.caller = side.summary;
  histograms.callerRttUs = side.rtt.toBase64();
  histograms.hearsLatenessUs = side.hears.toBase64();
  if (rtp.fallbackReason !== null) notes.push(`the RTP caller ran on the Node engine (receive times taken in Node, not the kernel): ${rtp.fallbackReason}`);
  return side.timelines;
}

/** serve's run histograms, each with its exact max when serve sent it. */
function runHistograms(run: RunRecords | undefined): MergedHistograms {
  const max = run?.histogramMaxUs ?? null;
  const decode = (b64: string | undefined, exactMaxUs: number | undefined) => (b64 ? LatencyHistogram.fromBase64(b64, exactMaxUs) : new LatencyHistogram());
  return {
    lateness: decode(run?.histograms?.latenessUs, max?.latenessUs),
    rtt: decode(run?.histograms?.rttUs, max?.rttUs),
    upLateness: decode(run?.histograms?.upLatenessUs, max?.upLatenessUs),
    relayHold: decode(run?.histograms?.relayHoldUs, max?.relayHoldUs),
  };
}

/**
 * Why calls did not all overlap when set-up was what took the time: the longest and median
 * set-up against the hold, and the calls still in set-up when their hold ended. Null when no
 * call's set-up took a tenth of the hold.
 */
export function setupNote(records: readonly Pick<CallRecord, 'setupMs' | 'error'>[], durationMs: number): string | null {
  const setups = records.flatMap((r) => (r.setupMs !== null ? [r.setupMs] : [])).sort((a, b) => a - b);
  const unfinished = records.filter((r) => r.error?.startsWith('call ended during setup') === true).length;
  const longest = setups.at(-1) ?? 0;
  if (unfinished === 0 && longest < durationMs / 10) return null;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const median = setups.length ? setups[(setups.length - 1) >> 1] : null;
  return (
    (setups.length ? `set-up took up to ${s(longest)} (median ${s(median!)}) of each call's ${s(durationMs)} hold` : `no call finished its set-up within its ${s(durationMs)} hold`) +
    (unfinished > 0 ? `; ${unfinished} call${unfinished === 1 ? ' was' : 's were'} still in set-up when the hold ended` : '')
  );
}

function runNotes(f: ReportFacts, peak: number, records: readonly CallRecord[]): string[] {
  const {o} = f;
  const notes: string[] = [];
  const never = f.calls.filter((c) => c.neverEnteredApp === true);
  // calls that never reached the app say why themselves; the concurrency they lacked would only repeat it
  if (never.length > 0) notes.push(...neverEnteredNotes(never, o.app));
  else if (peak < o.count) {
    const setup = setupNote(records, o.durationMs);
    notes.push(
      `peak concurrency was ${peak} of ${o.count} calls` +
        (o.delayBetweenMs * (o.count - 1) >= o.durationMs ? ' (count × delay-between exceeds duration: calls did not all overlap)' : '') +
        (setup !== null ? `: ${setup}` : ''),
    );
  }
  if (f.followNote) notes.push(f.followNote);
  if (o.signal?.aborted === true) notes.push(`interrupted: ${f.calls.length} of ${o.count} calls originated before the run was stopped`);
  return notes;
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
      c.instrumentError ??
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
      c.instrumentError ??
      c.error ??
      (collectError !== null
        ? collectError.startsWith('serve at ') ? collectError : `serve's records could not be read: ${collectError}`
        : 'serve recorded no call for it (did the call reach the Stasis app?)'),
  });
}

function stealSince(startUs: number | null): number | null {
  const nowUs = hostStealUs();
  return startUs === null || nowUs === null ? null : Math.max(0, Math.round((nowUs - startUs) / 1000));
}
