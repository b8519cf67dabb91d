/** The figures a CallMeter keeps of one call (docs/measurement.md) and what it feeds as it measures. */
import type {LatencyHistogram, PercentilesMs} from './histogram.js';
import type {MediaServerKind} from '../protocol/media-server.js';

/** Extra histograms fed live by a CallMeter. */
export interface MeterSinks {
  readonly lateness: readonly LatencyHistogram[];
  readonly rtt: readonly LatencyHistogram[];
  /** up_lateness of every up packet (legs, docs/measurement.md); optional so older callers keep working. */
  readonly upLateness?: readonly LatencyHistogram[];
  /** The relay's own hold, both directions. */
  readonly relayHold?: readonly LatencyHistogram[];
}

/** The leg a late back packet is counted under: `a` Asterisk up, `r` relay hold, `m` media server. */
export type LateLeg = 'a' | 'r' | 'm';

/** Late back packets, each counted under the leg that contributed most to its lateness (docs/measurement.md). */
export type LateBy = {asterisk: number; relay: number; mediaServer: number};

/** What the meter saw of the up stream's format: payload type and datagram size (bytes, header included). */
export type SeenFormat = {
  /** Payload type of the first up packet (null: no up packet yet). */
  payloadType: number | null;
  /** Size of the first up packet in bytes, RTP header included (null: none yet). */
  packetBytes: number | null;
  /** Up packets whose payload type or size differed from the first one. */
  otherPackets: number;
};

/** One call's media figures (docs/measurement.md), as the relay measured them. */
export interface CallStats {
  /** What the media server was taken to be, which decides what the back-stream figures mean (call-stats.ts). */
  mediaServer: MediaServerKind;
  /** Valid RTP packets received from Asterisk (duplicates included). */
  packetsUp: number;
  /** Distinct up packets that came back from the echo (matched by SSRC and sequence); with a stream, distinct packets of its own stream; 0 with a sink. */
  packetsBack: number;
  /** Sequence numbers expected on the up stream (highest − lowest + 1, per SSRC, summed); with a stream, on its own stream. */
  expected: number;
  /** expected − packetsBack: application-level loss (not back by the end of the call); with a sink, the up stream's gaps. */
  lost: number;
  /** Gaps on the Asterisk → relay leg alone. */
  uplinkGaps: number;
  late: number;
  maxConsecutiveLate: number;
  duplicatesUp: number;
  duplicatesBack: number;
  reorderedUp: number;
  reorderedBack: number;
  /**
   * Packets ignored as out of range (RFC 3550 A.1: more than MAX_DROPOUT ahead of or MAX_MISORDER
   * behind the highest sequence number, and not a restart): neither measured nor counted as lost.
   */
  outOfRangeUp: number;
  outOfRangeBack: number;
  /** Times the sequence numbering restarted (two consecutive packets after a very large jump). */
  resyncsUp: number;
  resyncsBack: number;
  /** Back packets that matched no up packet (unknown SSRC or sequence). */
  unmatchedBack: number;
  malformed: number;
  /** Packets from addresses other than the call's Asterisk and echo addresses. */
  foreign: number;
  ssrcChanges: number;
  jitterUpMs: number;
  /** null: no back packet (a sink sends none); `nullReasons.jitterMs` says why. */
  jitterBackMs: number | null;
  /** null (no sample): `nullReasons.latenessMs` says why. */
  latenessMs: PercentilesMs | null;
  /** null with a stream or a sink (no echo), or when nothing came back: `nullReasons.rttMs` says why. */
  rttMs: PercentilesMs | null;
  /** up_lateness per up packet: arrival at the relay against the anchor's schedule (legs, docs/measurement.md). null: no up packet. */
  upLatenessMs: PercentilesMs | null;
  /** The relay's own hold, receive → forward, both directions. null: nothing forwarded. */
  relayHoldMs: PercentilesMs | null;
  /** Why each null figure is null, by the call record's field name (`jitterMs` for jitterBackMs). */
  nullReasons: Record<string, string>;
  /** What the media server did that makes this call's figures meaningless (not echoes under `echo`); null: nothing. */
  mediaError: string | null;
  lateBy: LateBy;
  /** The format the meter actually saw on the up stream. */
  seen: SeenFormat;
  /** Monotonic µs of the first up packet (0 = none yet). */
  firstUpUs: number;
  lastUpUs: number;
  lastBackUs: number;
  /** Monotonic µs at which the latest (largest lateness) back packet was received (0 = none). */
  worstLateAtUs: number;
  /** Longest time between two consecutive up packets, µs (0: fewer than two). */
  upGapMaxUs: number;
  /**
   * φ(first up packet) − t0 of the up stream (the largest over its SSRCs), ms: how late the first
   * packet was against the stream's earliest phase. null: no up packet.
   */
  anchorShiftMs: number | null;
  /** Earlier phases found after a stream's exact window (each re-anchored what came after it). */
  anchorMoves: number;
  /**
   * The kernel's port/host unreachable reports for datagrams the relay sent to the media server
   * (the native engine's IP_RECVERR); null: not measurable (the Node engine cannot see them).
   */
  mediaServerUnreachable: number | null;
  /** Receive time of the up packet that began that gap (0: none). */
  upGapAtUs: number;
}

