/**
 * The one producer of a call record: `callRecordFrom(stats, meta)` turns what the relay measured
 * (CallStats, null when no media leg measured anything) and what the lifecycle knows of the call
 * (CallMeta) into the ServeCallRecord of src/protocol/serve-api.ts. Monotonic µs become ms after
 * the call's start; a call without stats gets zero counts and null times. The result is checked
 * against ServeCallRecordSchema: a record that does not conform keeps its figures but fails, with
 * the reason as its error (never served as if it were valid).
 */
import {CallMeter, type CallStats} from './call-stats.js';
import {z} from 'zod';
import {CallRecordSchema, describeIssues, type CallRecord, type CallTimeline} from '../protocol/report.js';
import {ServeCallRecordSchema, type ServeCallRecord} from '../protocol/serve-api.js';

/** What the lifecycle knows of a call, beside its media figures. */
export interface CallMeta {
  index: number;
  runId: string | null;
  /**
   * The caller's channel (the one load originated): the report's `channelId` (docs/measurement.md, reports). serve
   * records no second copy of it; null only for a call that was never originated.
   */
  channelId: string | null;
  externalMediaChannelId: string | null;
  bridgeId: string | null;
  port: number | null;
  /** Wall-clock start (StasisStart) and end (record written). */
  startedAt: Date;
  endedAt: Date;
  /** Monotonic µs of the start and of the beginning of teardown (the CallStats clock). */
  tStartUs: number;
  tEndUs: number;
  setupMs: number | null;
  endReason: string;
  error: string | null;
  /** Monotonic µs at which both channels were bridged (null: never; absent: not known). */
  bridgedAtUs?: number | null;
  /** The relay's late back frames for the caller-side join (absent: not collected). */
  lateFrames?: {ts: number[]; leg: string; truncated: boolean};
  /** The relay's timeline of the call (absent: nothing judged, or not collected). */
  timeline?: CallTimeline;
}

export function callRecordFrom(stats: CallStats | null, m: CallMeta): ServeCallRecord {
  const s = stats ?? noStats();
  const since = (tUs: number) => round3(Math.max(0, tUs - m.tStartUs) / 1000);
  const heard = s.firstUpUs > 0;
  // the figures whose name and meaning are the same in CallStats and in the record are carried
  // over as they are (a counter added to CallStats reaches the record without another line here);
  // the others are converted below
  const {jitterBackMs, seen, firstUpUs, lastUpUs, lastBackUs: _lastBackUs, worstLateAtUs, upGapMaxUs, upGapAtUs, mediaError, ...carried} = s;
  const record: ServeCallRecord = {
    index: m.index,
    runId: m.runId,
    channelId: m.channelId,
    externalMediaChannelId: m.externalMediaChannelId,
    bridgeId: m.bridgeId,
    port: m.port,
    startedAt: m.startedAt.toISOString(),
    endedAt: m.endedAt.toISOString(),
    setupMs: m.setupMs,
    ...carried,
    firstMediaMs: heard ? since(firstUpUs) : null,
    jitterMs: jitterBackMs,
    worstLateAtMs: worstLateAtUs > 0 ? since(worstLateAtUs) : null,
    payloadType: seen.payloadType,
    packetBytes: seen.packetBytes,
    otherFormatPackets: seen.otherPackets,
    upGapMaxMs: heard ? round3(upGapMaxUs / 1000) : 0,
    upGapAtMs: heard && upGapMaxUs > 0 ? since(upGapAtUs) : null,
    lastUpMs: heard ? since(lastUpUs) : null,
    endReason: m.endReason,
    endMs: since(m.tEndUs),
    error: m.error ?? mediaError,
    ...(m.bridgedAtUs !== undefined ? {bridgedAtMs: m.bridgedAtUs === null ? null : since(m.bridgedAtUs)} : {}),
    ...(m.lateFrames !== undefined ? {lateFrames: m.lateFrames} : {}),
    ...(m.timeline !== undefined ? {timeline: m.timeline} : {}),
  };
  const check = ServeCallRecordSchema.safeParse(record);
  if (!check.success) record.error = `invalid call record (a bug in serve): ${describeIssues(check.error.issues, record)}`;
  return record;
}

/** The figures of a call no media leg measured: what a meter that saw nothing reports. */
function noStats(): CallStats {
  return new CallMeter(8000).snapshot();
}

/** Every CallStats field carried over by name is a field of the record schema (compile-time check). */
type Carried = Omit<CallStats, 'jitterBackMs' | 'seen' | 'firstUpUs' | 'lastUpUs' | 'lastBackUs' | 'worstLateAtUs' | 'upGapMaxUs' | 'upGapAtUs' | 'mediaError'>;
const _carriedDeclared: Exclude<keyof Carried, keyof typeof ServeCallRecordSchema.shape> extends never ? true : false = true;
void _carriedDeclared;

/**
 * The report's `calls[]` entry of a call serve recorded: the record without `runId` (the report
 * has it once, at the top) and without `lateFrames`.
 */
export function reportCallRecord(r: ServeCallRecord): CallRecord {
  // the relay's late frames serve load's join only; a report's calls[] leave them out
  const {runId: _runId, lateFrames: _lateFrames, ...rest} = r;
  return rest;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The report's own fields of a record (serve's extras dropped). */
const ReportFieldsOnly = z.object(CallRecordSchema.shape);

/**
 * The report's `calls[]` entry of a call serve never recorded (originate failed, or the call
 * never reached the Stasis app): the record of a call with no media, its report fields only.
 */
export function unrecordedCallRecord(m: {index: number; channelId: string | null; startedAt: Date; endedAt: Date; error: string}): CallRecord {
  const none = callRecordFrom(null, {
    ...m,
    runId: null,
    externalMediaChannelId: null,
    bridgeId: null,
    port: null,
    tStartUs: 0,
    tEndUs: 0,
    setupMs: null,
    endReason: '',
  });
  return ReportFieldsOnly.parse(none);
}
