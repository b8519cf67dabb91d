/**
 * What `rtpsla serve` exposes over HTTP to `rtpsla load` (and to anyone polling it): the bodies of
 * `GET /health`, `GET /calls`, `GET /runs/:runId` (and its `?brief=1` progress) and the call
 * record inside them. The one declaration of each field: serve builds these shapes (its call record
 * through `callRecordFrom`, validated when built) and load parses serve's JSON with these schemas,
 * never casting it. Extra fields are allowed (a newer serve may add some).
 */
import {z} from 'zod';
import {EngineRoleInfoSchema} from './report.js';
import {describeIssues, CallRecordSchema, LateBySchema, PercentilesMsSchema} from './report.js';
import type {EngineKind} from './engine-kind.js';
import {MEDIA_SERVER_KINDS} from './media-server.js';

const count = z.number().int().nonnegative();
const nonNegative = z.number().nonnegative();
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64 text');
/** The media engine that forwards and measures. */
export const EngineKindSchema = z.enum(['native', 'node']);
// Compile-time check: the schema names exactly the engine kinds.
const _engineKinds: EngineKind = '' as z.infer<typeof EngineKindSchema>;
void _engineKinds;

/**
 * One finished call as serve recorded it: a report `calls[]` entry (CallRecordSchema, whose
 * `channelId` is the caller's channel, the one load originated) plus what only serve knows.
 * Times "ms after startedAt" are from the monotonic clock, relative to serve's StasisStart.
 * Fields optional in the report schema (older reports lack them) are required here: serve
 * always measures them.
 */
export const ServeCallRecordSchema = CallRecordSchema.extend({
  /** The load run the call belongs to (from its appArgs); null: not a load call. */
  runId: z.string().nullable(),
  /** serve's externalMedia channel (null: never created) and mixing bridge. */
  externalMediaChannelId: z.string().nullable(),
  bridgeId: z.string().nullable(),
  worstLateAtMs: nonNegative.nullable(),
  upLatenessMs: PercentilesMsSchema.nullable(),
  relayHoldMs: PercentilesMsSchema.nullable(),
  lateBy: LateBySchema,
  payloadType: z.number().int().min(0).max(127).nullable(),
  packetBytes: count.nullable(),
  /** Up packets whose payload type or size differed from the first one. */
  otherFormatPackets: count,
  /** Why serve tore the call down ("caller left Stasis", "setup failed", …). */
  endReason: z.string(),
  /** When serve began tearing the call down, ms after `startedAt` (the call was up until then). */
  endMs: nonNegative,
  /** Longest stretch between two up packets, ms (0: fewer than two). */
  upGapMaxMs: nonNegative,
  /** When that stretch began (the last packet before it), ms after `startedAt`; null without one. */
  upGapAtMs: nonNegative.nullable(),
  /** The last up packet, ms after `startedAt` (null: none came). */
  lastUpMs: nonNegative.nullable(),
  /** Interarrival jitter of the up stream (RFC 3550), ms; `jitterMs` is the back stream's. */
  jitterUpMs: nonNegative,
  /** Sequence numbers expected on the up stream (highest − lowest + 1, per SSRC, summed); lost = expected − packetsBack. */
  expected: count,
  /** Gaps on the Asterisk → relay leg alone. */
  uplinkGaps: count,
  duplicatesUp: count,
  duplicatesBack: count,
  reorderedUp: count,
  reorderedBack: count,
  /** Back packets that matched no up packet (unknown SSRC or sequence). */
  unmatchedBack: count,
  /** Datagrams that were not RTP v2 (dropped). */
  malformed: count,
  /** Datagrams from addresses other than the call's Asterisk and echo addresses (dropped). */
  foreign: count,
  ssrcChanges: count,
  /** φ(first up packet) − the up stream's earliest phase, ms (null: no up packet). */
  anchorShiftMs: nonNegative.nullable(),
  /** Earlier phases found after a stream's exact first minute (each re-anchored from then on). */
  anchorMoves: count,
  /**
   * When serve's addChannel of the call's second channel succeeded (both channels bridged: media
   * can flow), ms after `startedAt`; null: never bridged (optional: older serves lack it).
   */
  bridgedAtMs: nonNegative.nullable().optional(),
  /**
   * The back packets late at the relay, for the caller-side join on RTP timestamp: `ts[i]` and
   * `leg[i]` (one character a frame: `a` Asterisk up, `r` relay, `m` media server), at most
   * LATE_FRAMES_MAX of them (`truncated` says when more were late). Serve's API only: the report's
   * calls[] leave it out.
   */
  lateFrames: z.looseObject({ts: z.array(count), leg: z.string(), truncated: z.boolean()}).optional(),
});
/** The most late frames a call record lists (`lateFrames`): 50 s of a call late at every frame. */
export const LATE_FRAMES_MAX = 2500;
export type ServeCallRecord = z.infer<typeof ServeCallRecordSchema>;

/** HDR histograms (µs, base64) of every packet measured for a run's calls. */
export const RunHistogramsSchema = z.looseObject({
  latenessUs: base64,
  rttUs: base64,
  upLatenessUs: base64,
  relayHoldUs: base64,
});

/** `GET /runs/:runId`: the run's finished calls (sorted by index) and, once none is live, its histograms. */
export const RunRecordsSchema = z.looseObject({
  runId: z.string().min(1),
  /** Calls of this run still being set up or measured. */
  activeCalls: count,
  calls: z.array(ServeCallRecordSchema),
  /**
   * Only once no call of the run is live: encoding them takes milliseconds of serve's event loop,
   * which a client polling while calls still stream (or drain) would otherwise steal from their packets.
   */
  histograms: RunHistogramsSchema.nullable(),
  /**
   * The exact largest value of each histogram (µs), beside them (the base64 encoding keeps only
   * the top of the max's bucket); null with the histograms (optional: older serves lack it).
   */
  histogramMaxUs: z.looseObject({latenessUs: nonNegative, rttUs: nonNegative, upLatenessUs: nonNegative, relayHoldUs: nonNegative}).nullable().optional(),
  /** Which media engine measured (optional: older serves, which ran the node relay, lack it). */
  engine: EngineKindSchema.optional(),
  /** How serve's relay measured (scheduling, pinning, timestamps, restarts): the report's `tool.engines.relay`. */
  relayEngine: EngineRoleInfoSchema.optional(),
});
export type RunRecords = z.infer<typeof RunRecordsSchema>;

/** `GET /runs/:runId?brief=1`: progress only, cheap enough to poll while calls stream. */
export const RunProgressSchema = z.looseObject({
  runId: z.string().min(1),
  activeCalls: count,
  /** Finished calls recorded for the run. */
  recorded: count,
});
export type RunProgress = z.infer<typeof RunProgressSchema>;

export const CALL_STATES = ['setup', 'up', 'ending', 'ended'] as const;
export type CallState = (typeof CALL_STATES)[number];

/** One entry of `GET /calls`: a call being set up or measured, with its counts so far. */
export const LiveCallSchema = z.looseObject({
  /** The caller's channel id. */
  callId: z.string(),
  runId: z.string().nullable(),
  index: count,
  state: z.enum(CALL_STATES),
  /** The relay port the call holds (null: none yet, or a leg without a relay). */
  port: z.number().int().min(0).max(65535).nullable(),
  externalMediaChannelId: z.string(),
  bridgeId: z.string(),
  startedAt: z.iso.datetime({offset: true}),
  setupMs: nonNegative.nullable(),
  packetsUp: count,
  packetsBack: count,
  late: count,
});
export type LiveCall = z.infer<typeof LiveCallSchema>;

export const LiveCallsSchema = z.looseObject({calls: z.array(LiveCallSchema)});

/** `GET /health` (200 when ARI is connected and nothing else keeps serve from its job, else 503). */
export const HealthSchema = z.looseObject({
  status: z.enum(['ok', 'degraded']),
  ari: z.enum(['connected', 'disconnected']),
  /** Why serve is degraded although ARI is connected (e.g. ApplicationReplaced). */
  reason: z.string().optional(),
  callsActive: count,
  /** The externalMedia format serve asks Asterisk for: load must originate with it (optional: older serves lack it). */
  format: z.string().optional(),
  /** The Stasis app serve runs (optional: older serves lack it). */
  app: z.string().optional(),
  /** The native media engine's pid (null while it is down or restarting) and how often it was restarted; absent with the Node engine. */
  enginePid: z.number().int().nullable().optional(),
  engineRestarts: count.optional(),
  /** What serve takes its media server to be (`--media-server`; optional: older serves lack it, and ran an echo). */
  mediaServer: z.enum(MEDIA_SERVER_KINDS).optional(),
  /** The media server's address the relay sends to, `host:port` (`[v6]:port`; optional: older serves lack it). */
  echo: z.string().optional(),
});
export type Health = z.infer<typeof HealthSchema>;

/**
 * `engineCounters` of the JSON `GET /metrics` (null with the Node engine): the native engine's
 * own count of datagrams it sent and its CPU, and serve's process CPU, read at one moment. The
 * media totals of /metrics come from the engine's records, which reach serve later (in batches,
 * later still when serve is starved of CPU), so a rate over an interval takes these instead.
 */
export const EngineCountersSchema = z.looseObject({
  forwardedDatagrams: count,
  engineCpuUs: count,
  serveCpuUs: count,
});
export type EngineCounters = z.infer<typeof EngineCountersSchema>;

/** serve answered something this version cannot read: one line naming the endpoint and the first problems. */
export class ServeProtocolError extends Error {
  constructor(endpoint: string, reason: string) {
    super(`serve's answer to ${endpoint} is not what this rtpsla expects: ${reason}`);
    this.name = 'ServeProtocolError';
  }
}

/** Parse `json` with `schema`, or throw ServeProtocolError naming `endpoint`. */
export function parseServeAnswer<S extends z.ZodType>(schema: S, json: unknown, endpoint: string): z.infer<S> {
  const r = schema.safeParse(json);
  if (!r.success) throw new ServeProtocolError(endpoint, describeIssues(r.error.issues, json));
  return r.data;
}
