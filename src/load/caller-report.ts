/**
 * The caller's side of a report (`load --caller rtp`): each call's figures from its caller meter,
 * the join with the relay's late frames (serve's record), the run's summary from the merged
 * histograms (never averaged percentiles) and the histograms themselves.
 */
import {addLateBy, attributeCallerFrames} from '../metrics/caller-attribution.js';
import {percentilesOrNull, type CallerCallResult, type CallerMeter} from '../metrics/caller-meter.js';
import {LatencyHistogram} from '../metrics/histogram.js';
import type {CallerSide} from '../protocol/report.js';
import type {ServeCallRecord} from '../protocol/serve-api.js';
import {CALLER_FRAME_US} from '../media/source/caller.js';
import type {TimelineLeg, Timeline} from '../metrics/timeline.js';
import type {RelayLateFrames} from '../metrics/caller-attribution.js';

/** Frames after serve's bridge time before loss counts (serve and load read one wall clock, to about a ms). */
export const BRIDGE_MARGIN_FRAMES = 3;

export interface CallerRunSide {
  /** Each call's caller side, by call index. */
  calls: Map<number, CallerSide>;
  summary: CallerSide;
  hears: LatencyHistogram;
  rtt: LatencyHistogram;
  /** Late at the caller and already late at the relay, over the run (for the SLA note). */
  lateAtBoth: number;
  /** Each call's caller timeline, by call index. */
  timelines: Map<number, Timeline>;
}

export interface CallerReportOptions {
  echoes: boolean;
  noEchoReason?: string;
}

/** The engine-clock µs (performance.now() base) of serve's bridge time plus the margin; null: unknown. */
export function countFromUs(r: ServeCallRecord | undefined): number | null {
  if (r?.bridgedAtMs === undefined || r.bridgedAtMs === null) return null;
  const bridgedWallMs = Date.parse(r.startedAt) + r.bridgedAtMs;
  return (bridgedWallMs - performance.timeOrigin) * 1000 + BRIDGE_MARGIN_FRAMES * CALLER_FRAME_US;
}

/** One call's side: its meter's figures and the join with the relay's late frames. */
export function callerSideOf(meter: CallerMeter, r: ServeCallRecord | undefined, o: CallerReportOptions): CallerCallResult & {lateAtBoth: number; timeline: Timeline} {
  const result = meter.finish({countFromUs: countFromUs(r), echoes: o.echoes, noEchoReason: o.noEchoReason, oneWayLegs: false});
  const a = attributeCallerFrames({
    callerLateTs: result.lateTs,
    callerLost: result.side.lost,
    relayLate: r?.lateFrames,
    relayLost: r ? r.lost + r.uplinkGaps : 0,
  });
  result.side.lateBy = a.lateBy;
  result.side.lostAfterRelay = a.lostAfterRelay;
  if (a.relayListTruncated) result.side.relayLateFramesTruncated = true;
  return {...result, lateAtBoth: a.lateAtBoth, timeline: meter.timeline(legOfLateFrame(r?.lateFrames))};
}

/** The leg of a frame late at the caller: the relay's for it when it was late there, else `b` (Asterisk back). */
export function legOfLateFrame(relayLate: RelayLateFrames | undefined): (ts: number) => TimelineLeg {
  const legOf = new Map<number, TimelineLeg>();
  if (relayLate) for (let k = 0; k < relayLate.ts.length; k++) legOf.set(relayLate.ts[k], relayLate.leg.charAt(k) as TimelineLeg);
  return (ts) => legOf.get(ts) ?? 'b';
}

/** Every call's side and the run's. */
export function callerRunSide(meters: ReadonlyMap<number, CallerMeter>, records: ReadonlyMap<number, ServeCallRecord>, o: CallerReportOptions): CallerRunSide {
  const calls = new Map<number, CallerSide>();
  const timelines = new Map<number, Timeline>();
  const hears = new LatencyHistogram();
  const rtt = new LatencyHistogram();
  let lateAtBoth = 0;
  for (const [index, meter] of meters) {
    const r = callerSideOf(meter, records.get(index), o);
    calls.set(index, r.side);
    timelines.set(index, r.timeline);
    hears.merge(r.hears);
    rtt.merge(r.rtt);
    lateAtBoth += r.lateAtBoth;
  }
  return {calls, summary: summarizeCallers([...calls.values()], hears, rtt, o), hears, rtt, lateAtBoth, timelines};
}

/** The run's caller side: counts summed, percentiles from the merged histograms, jitter the worst call's. */
export function summarizeCallers(sides: readonly CallerSide[], hears: LatencyHistogram, rtt: LatencyHistogram, o: CallerReportOptions): CallerSide {
  const s: CallerSide = {
    sent: 0, expected: 0, received: 0, lost: 0, lossRatio: 0, late: 0, lateRatio: 0, maxConsecutiveLate: 0,
    callerRttMs: percentilesOrNull(rtt),
    hearsLatenessMs: percentilesOrNull(hears),
    jitterMs: null,
    lateBy: {asterisk: 0, relay: 0, mediaServer: 0, asteriskBack: 0},
    lostAfterRelay: 0,
    anchorShiftMs: null,
    oneWayLegs: false,
  };
  for (const c of sides) {
    s.sent += c.sent;
    s.expected += c.expected;
    s.received += c.received;
    s.lost += c.lost;
    s.late += c.late;
    s.maxConsecutiveLate = Math.max(s.maxConsecutiveLate, c.maxConsecutiveLate);
    addLateBy(s.lateBy, c.lateBy);
    s.lostAfterRelay! += c.lostAfterRelay ?? 0;
    if (c.jitterMs !== null) s.jitterMs = Math.max(s.jitterMs ?? 0, c.jitterMs);
    if (c.anchorShiftMs !== null && c.anchorShiftMs !== undefined) s.anchorShiftMs = Math.max(s.anchorShiftMs ?? 0, c.anchorShiftMs);
  }
  s.lossRatio = s.expected > 0 ? s.lost / s.expected : 0;
  s.lateRatio = s.received > 0 ? s.late / s.received : 0;
  const nullReasons: Record<string, string> = {};
  if (s.received === 0) nullReasons.hearsLatenessMs = nullReasons.jitterMs = 'no frame came back to any caller';
  if (s.callerRttMs === null)
    nullReasons.callerRttMs = !o.echoes
      ? (o.noEchoReason ?? 'the media server does not echo the caller frames')
      : s.received === 0
        ? 'no frame came back to any caller'
        : 'no frame came back with the timestamp of a frame a caller sent';
  if (sides.length === 0) nullReasons.hearsLatenessMs = 'no call had an RTP caller';
  if (Object.keys(nullReasons).length > 0) s.nullReasons = nullReasons;
  return s;
}
