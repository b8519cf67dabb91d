/**
 * The run report, schema `rtpsla.report/v1` (docs/measurement.md, reports): the single source of truth.
 * The zod schema below defines what a valid report is; the TypeScript types are inferred
 * from it. Unknown extra fields are allowed at every level (forward compatible). Reading and
 * writing report files is src/metrics/report-file.ts; the summary is src/metrics/summary.ts.
 */
import {z} from 'zod';

/** Percentiles of a latency distribution in ms (p50 … max). */
export type PercentilesMs = {p50: number; p95: number; p99: number; p999: number; max: number};

export const REPORT_SCHEMA_ID = 'rtpsla.report/v1';

const count = z.number().int().nonnegative();
const nonNegative = z.number().nonnegative();
const ratio = z.number().min(0).max(1);
const isoTime = z.iso.datetime({offset: true});
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64 text');

export const PercentilesMsSchema = z.looseObject({
  p50: nonNegative,
  p95: nonNegative,
  p99: nonNegative,
  p999: nonNegative,
  max: nonNegative,
});

export const ReportTargetSchema = z.looseObject({
  ariUrl: z.string(),
  app: z.string(),
  /** Asterisk version string ("22.10.1") or "sim" for the embedded stand-in. */
  asterisk: z.string(),
});

export const ReportParamsSchema = z.looseObject({
  count: count,
  durationMs: nonNegative,
  delayBetweenMs: nonNegative,
  format: z.string().min(1),
  lateThresholdMs: nonNegative,
  /** `rtp`: rtpsla's caller engine is the caller (an externalMedia channel); `endpoint`: an originated endpoint (optional: older reports lack it). */
  caller: z.enum(['rtp', 'endpoint']).optional(),
  /** What the media server behind the relay is (optional: older reports lack it; they ran an echo). */
  mediaServer: z.enum(['echo', 'stream', 'sink']).optional(),
});

/** Leftovers after a run; a figure is null when the leak check could not be made (summary.leakCheckError says why). */
export const LeakedSchema = z.looseObject({
  channels: count.nullable(),
  bridges: count.nullable(),
  ports: count.nullable(),
});

/** Late back packets counted under the leg that contributed most (legs, docs/measurement.md). */
export const LateBySchema = z.looseObject({
  asterisk: count,
  relay: count,
  mediaServer: count,
});

/**
 * What the caller hears (`load --caller rtp`, docs/measurement.md "At the caller"), measured by
 * load's caller engine: frames it sent, frames Asterisk delivered back to it, their lateness
 * against the earliest phase of the stream it receives (`hearsLatenessMs`), the round trip of the
 * caller's own frames matched by RTP timestamp (`callerRttMs`, only where the media server
 * echoes), loss (a frame sent once the bridge was up that never came back), RFC 3550 jitter,
 * late frames (lateness over the threshold) and the longest run of them. A figure with no sample
 * is null, and `nullReasons` says why (e.g. `{"callerRttMs": "media server: stream (no echo)"}`).
 * `lateBy`: each frame late at the caller, under the relay's leg for that frame when it was
 * already late at the relay, else `asteriskBack` (relay → Asterisk → caller), joined on
 * (call, RTP timestamp) after the run.
 */
/** Why each null figure of a record is null, by field name: `{"rttMs": "media server: stream (no echo)"}`. */
export const NullReasonsSchema = z.record(z.string(), z.string());

export const CallerLateBySchema = z.looseObject({
  asterisk: count,
  relay: count,
  mediaServer: count,
  asteriskBack: count,
});

export const CallerSideSchema = z.looseObject({
  sent: count,
  /** Frames sent once the bridge was up: the denominator of loss. */
  expected: count,
  received: count,
  lost: count,
  lossRatio: ratio,
  late: count,
  lateRatio: ratio,
  maxConsecutiveLate: count,
  callerRttMs: PercentilesMsSchema.nullable(),
  hearsLatenessMs: PercentilesMsSchema.nullable(),
  jitterMs: nonNegative.nullable(),
  lateBy: CallerLateBySchema,
  /** Frames lost on relay → Asterisk → caller: back at the relay, never at the caller. */
  lostAfterRelay: count.optional(),
  /** φ(first received frame) − earliest phase, ms (null: nothing received). */
  anchorShiftMs: nonNegative.nullable().optional(),
  /** Whether one-way legs between caller and relay were measured (load and serve on one host, one monotonic clock). */
  oneWayLegs: z.boolean(),
  /** Why a null figure is null, by field name. */
  nullReasons: z.record(z.string(), z.string()).optional(),
});
export type CallerSide = z.infer<typeof CallerSideSchema>;
export type CallerLateBy = z.infer<typeof CallerLateBySchema>;

export const ReportSummarySchema = z.looseObject({
  callsAttempted: count,
  callsAnswered: count,
  callsFailed: count,
  peakConcurrent: count,
  packetsUp: count,
  packetsBack: count,
  lost: count,
  lossRatio: ratio,
  late: count,
  lateRatio: ratio,
  maxConsecutiveLate: count,
  /** null: no sample (no back packet measured; a stream or sink media server has no rtt): `nullReasons` says why. */
  latenessMs: PercentilesMsSchema.nullable(),
  rttMs: PercentilesMsSchema.nullable(),
  leaked: LeakedSchema,
  /** Why `leaked.*` is null: the leak check could not list channels, bridges or serve's calls. */
  leakCheckError: z.string().optional(),
  /** legs, docs/measurement.md (optional: reports from before them lack them). Arrival from Asterisk against the schedule. */
  upLatenessMs: PercentilesMsSchema.nullable().optional(),
  /** The relay's own hold, receive → forward, both directions. */
  relayHoldMs: PercentilesMsSchema.nullable().optional(),
  lateBy: LateBySchema.optional(),
  /** What the callers heard (`load --caller rtp`; absent with `--caller endpoint`). */
  caller: CallerSideSchema.optional(),
  /** Why a null figure is null, by field name (optional: older reports have no null figure). */
  nullReasons: NullReasonsSchema.optional(),
});

/**
 * One side's timeline of a call (the relay's or the caller's), on the host's epoch grid: bucket
 * `first + i` covers the wall-clock epoch ms [(first + i)·bucketMs, (first + i + 1)·bucketMs).
 * Arrays per field, one entry per bucket: `worstMs[i]`, the worst lateness of the frames received
 * in the bucket (ms, 0.1 ms; null: none received); `late[i]`, how many of them were late;
 * `leg[i]` (one character per bucket), the leg that dominated the bucket's late frames: `a`
 * Asterisk up, `r` the relay, `m` the media server, `b` Asterisk back (caller side only), `-` none
 * late.
 */
export const TimelineSeriesSchema = z.looseObject({
  first: z.number().int(),
  worstMs: z.array(z.number().nullable()),
  late: z.array(count),
  leg: z.string().regex(/^[armb-]*$/, 'expected one of a, r, m, b, - per bucket'),
});
export type TimelineSeries = z.infer<typeof TimelineSeriesSchema>;

/**
 * A call's timeline (optional: older reports lack it): the relay's series (serve measures it) and
 * the caller's (`load --caller rtp`), both of buckets `bucketMs` wide (1 s; wider, by doubling, so
 * that no call has more than 1800 buckets). Every call of a report has the same `bucketMs` as the
 * report's `timeline`.
 */
export const CallTimelineSchema = z.looseObject({
  bucketMs: z.number().int().positive(),
  relay: TimelineSeriesSchema.optional(),
  caller: TimelineSeriesSchema.optional(),
});
export type CallTimeline = z.infer<typeof CallTimelineSchema>;

/**
 * The run's timeline (optional, written by load): the grid every call's timeline is on
 * (`bucketMs`; `first`, the bucket of `startedAt`) and, per bucket from `first`, the CPU time the
 * hypervisor took from the machine that ran load (`stealMs`, all CPUs; null: unreadable), sampled
 * once per bucket. The stalls load saw are `loadHost.stalls.events` (times after `startedAt`).
 */
export const RunTimelineSchema = z.looseObject({
  bucketMs: z.number().int().positive(),
  first: z.number().int(),
  stealMs: z.array(nonNegative.nullable()),
});
export type RunTimeline = z.infer<typeof RunTimelineSchema>;

/**
 * One `calls[]` entry. Fields a failed call may never have reached (channel, relay port,
 * setup/first-media time) are required but may be null.
 */
export const CallRecordSchema = z.looseObject({
  index: count,
  channelId: z.string().nullable(),
  port: z.number().int().min(0).max(65535).nullable(),
  startedAt: isoTime,
  endedAt: isoTime,
  setupMs: nonNegative.nullable(),
  firstMediaMs: nonNegative.nullable(),
  packetsUp: count,
  packetsBack: count,
  lost: count,
  late: count,
  maxConsecutiveLate: count,
  /**
   * Figures with no sample are null (no back packet measured; no rtt from a stream or sink media
   * server; no back jitter from a sink), and `nullReasons` says why; never 0.
   */
  latenessMs: PercentilesMsSchema.nullable(),
  rttMs: PercentilesMsSchema.nullable(),
  jitterMs: nonNegative.nullable(),
  error: z.string().nullable(),
  /**
   * What the media server was taken to be (optional: older reports lack it, and ran an echo): with
   * `stream`, packetsBack / lost / late / latenessMs are of its own stream (no rtt); with `sink`,
   * packetsBack is 0 and lost / late / latenessMs are of the up stream as delivered to it.
   */
  mediaServer: z.enum(['echo', 'stream', 'sink']).optional(),
  /** Why each null figure is null, by field name (optional: older reports have no null figure). */
  nullReasons: NullReasonsSchema.optional(),
  /** When the call's worst packet (its largest lateness) came back, ms after `startedAt` (optional: older reports lack it). */
  worstLateAtMs: nonNegative.nullable().optional(),
  /** the legs of this call (docs/measurement.md) (optional: older reports lack them). */
  upLatenessMs: PercentilesMsSchema.nullable().optional(),
  relayHoldMs: PercentilesMsSchema.nullable().optional(),
  lateBy: LateBySchema.optional(),
  /** Payload type and datagram size (bytes, RTP header included) of the media the relay measured (null: none came). */
  payloadType: z.number().int().min(0).max(127).nullable().optional(),
  packetBytes: count.nullable().optional(),
  /**
   * Packets ignored as out of sequence range (RFC 3550 A.1 very large jumps, e.g. a forged or
   * stray packet), up and back: not measured, not counted in `lost` (optional: older reports lack them).
   */
  outOfRangeUp: count.optional(),
  outOfRangeBack: count.optional(),
  /** Times the sender restarted its sequence numbering (RFC 3550 A.1 resync), up and back (optional: older reports lack them). */
  resyncsUp: count.optional(),
  resyncsBack: count.optional(),
  /**
   * φ(first up packet) − the up stream's earliest phase (the anchor), ms: how late the stream's
   * first packet came; null: no up packet (optional: older reports lack it).
   */
  anchorShiftMs: nonNegative.nullable().optional(),
  /** Earlier phases found after the exact first minute of a stream, each re-anchoring from then on (optional: older reports lack it). */
  anchorMoves: count.optional(),
  /** What this call's caller heard (`load --caller rtp`; absent with `--caller endpoint`). */
  caller: CallerSideSchema.optional(),
  /** Per-bucket lateness of this call (optional: older reports lack it). */
  timeline: CallTimelineSchema.optional(),
  /** The kernel's unreachable reports for what the relay sent to the media server; null: not measurable (Node engine). Optional: older reports lack it. */
  mediaServerUnreachable: count.nullable().optional(),
});

/**
 * Stalls of load's own event loop from the first originate to the last hangup (load is nearly
 * idle then, so a stall there is a stall of the machine): those of `thresholdMs` or more, counted,
 * and the first ones with their time. `atMs`: when the stall ended, in ms after the report's
 * `startedAt`.
 */
export const HostStallsSchema = z.looseObject({
  thresholdMs: nonNegative,
  count,
  totalMs: nonNegative,
  maxMs: nonNegative,
  events: z.array(z.looseObject({atMs: nonNegative, stallMs: nonNegative})),
});

export type HostStalls = z.infer<typeof HostStallsSchema>;

/**
 * The machine that ran `load` (optional, written by load): its CPU count and the CPU time its
 * hypervisor took from it during the run ("steal", all CPUs; null where unreadable), and the stalls
 * load itself saw. Where the media path (Asterisk or sim, serve, echo) shares that machine, such
 * stalls stop all of it at once.
 */
export const LoadHostSchema = z.looseObject({
  cpus: count,
  stealMs: nonNegative.nullable(),
  /** Optional: reports from before it lack it. */
  stalls: HostStallsSchema.optional(),
});

export type LoadHost = z.infer<typeof LoadHostSchema>;

export const ReportHistogramsSchema = z.looseObject({
  latenessUs: base64,
  rttUs: base64,
  /** legs, docs/measurement.md (optional: older reports lack them). */
  upLatenessUs: base64.optional(),
  relayHoldUs: base64.optional(),
  /** The callers' side (`load --caller rtp`). */
  callerRttUs: base64.optional(),
  hearsLatenessUs: base64.optional(),
});

/**
 * How one media engine role measured (`tool.engines`): which engine, the CPU scheduling the OS
 * granted it (`fifo:<prio>`, `nice:<n>` or `normal`), its CPU pinning (`all` or a list) and where
 * its receive times came from (`kernel`, `user`, or `mixed` with the counts). `restarts`: times
 * serve restarted its engine during the run's calls. A role the reporting process cannot know (a
 * stand-alone echo seen from serve) is `{unknown: "<reason>"}`.
 */
export const EngineRoleInfoSchema = z.looseObject({
  engine: z.enum(['native', 'node']),
  scheduling: z.string(),
  cpus: z.string(),
  timestamps: z.enum(['kernel', 'user', 'mixed']),
  timestampCounts: z.looseObject({kernel: count, user: count}).optional(),
  restarts: count.optional(),
});
export type EngineRoleInfo = z.infer<typeof EngineRoleInfoSchema>;
export const ToolEnginesSchema = z.partialRecord(z.enum(['relay', 'echo', 'caller', 'sim']), z.union([EngineRoleInfoSchema, z.looseObject({unknown: z.string()})]));
export type ToolEngines = z.infer<typeof ToolEnginesSchema>;

export const ReportSchema = z.looseObject({
  schema: z.literal(REPORT_SCHEMA_ID),
  runId: z.string().min(1),
  /** `engine`: which media engine measured (optional: older reports lack it, and were measured by node). */
  tool: z.looseObject({name: z.string(), version: z.string(), engine: z.enum(['native', 'node']).optional(), engines: ToolEnginesSchema.optional()}),
  startedAt: isoTime,
  endedAt: isoTime,
  /** Set by `load` when the run was interrupted (Ctrl-C): such a report can never pass `sla`. */
  partial: z.boolean().optional(),
  target: ReportTargetSchema,
  params: ReportParamsSchema,
  summary: ReportSummarySchema,
  calls: z.array(CallRecordSchema),
  histograms: ReportHistogramsSchema,
  loadHost: LoadHostSchema.optional(),
  /** The run's time grid and per-bucket steal (optional: older reports lack it). */
  timeline: RunTimelineSchema.optional(),
  /** Things a reader of the figures should know (peak concurrency below count, steal, interruption). */
  notes: z.array(z.string()).optional(),
});

export type Report = z.infer<typeof ReportSchema>;
export type ReportSummary = z.infer<typeof ReportSummarySchema>;
export type CallRecord = z.infer<typeof CallRecordSchema>;
export type ReportParams = z.infer<typeof ReportParamsSchema>;
export type ReportTarget = z.infer<typeof ReportTargetSchema>;
export type ReportHistograms = z.infer<typeof ReportHistogramsSchema>;
export type Leaked = z.infer<typeof LeakedSchema>;
export type LateBy = z.infer<typeof LateBySchema>;


// Compile-time check: the schema's percentiles and PercentilesMs are the same shape.
const _percentilesSameShape: PercentilesMs = {} as z.infer<typeof PercentilesMsSchema>;
void _percentilesSameShape;

export type ValidateResult = {ok: true; report: Report} | {ok: false; reason: string};

/** How many schema problems a reason line names before "… and N more". */
const MAX_PROBLEMS_NAMED = 3;

/** Checks `json` against `rtpsla.report/v1`. On failure `reason` is one line naming the first problems by JSON path. */
export function validateReport(json: unknown): ValidateResult {
  const r = ReportSchema.safeParse(json);
  if (r.success) return {ok: true, report: r.data};
  return {ok: false, reason: describeIssues(r.error.issues, json)};
}

/** One readable line from zod issues: `summary.lossRatio: expected number, got string; calls[3].error: required`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string {
  const parts = issues.slice(0, MAX_PROBLEMS_NAMED).map((issue) => {
    const where = formatPath(issue.path);
    return `${where === '' ? '(top level)' : where}: ${describeIssue(issue, input)}`;
  });
  if (issues.length > MAX_PROBLEMS_NAMED) parts.push(`… and ${issues.length - MAX_PROBLEMS_NAMED} more`);
  return parts.join('; ');
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const {found, value} = lookup(input, issue.path);
  if (!found) return 'required';
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, got ${typeName(value)}`;
    case 'invalid_value':
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${JSON.stringify(value)}`;
    case 'too_small':
      return `${JSON.stringify(value)} is below the minimum ${String(issue.minimum)}`;
    case 'too_big':
      return `${JSON.stringify(value)} is above the maximum ${String(issue.maximum)}`;
    case 'invalid_format':
      return issue.format === 'datetime'
        ? `expected an ISO-8601 date-time, got ${JSON.stringify(value)}`
        : `${JSON.stringify(value)} is not valid ${issue.format}`;
    default:
      return issue.message.replace(/^Invalid input: /, '');
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  if (typeof v === 'number' && !Number.isInteger(v)) return `number ${v}`;
  return typeof v;
}

function lookup(input: unknown, p: readonly PropertyKey[]): {found: boolean; value: unknown} {
  let cur: unknown = input;
  for (const key of p) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, key)) return {found: false, value: undefined};
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return {found: cur !== undefined, value: cur};
}

/** `['calls', 3, 'error']` → `calls[3].error`. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const key of p) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

