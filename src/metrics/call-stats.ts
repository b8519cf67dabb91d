import {newRtpPacket, parseRtp, RtpParse} from '../rtp/packet.js';
import {SequenceTracker, SeqVerdict} from '../rtp/sequence.js';
import {InterarrivalJitter} from '../rtp/jitter.js';
import {DeadlineMissCounter, PlayoutClock} from '../rtp/deadline.js';
import {SendRing} from '../rtp/send-ring.js';
import {CallLatencyHistogram} from './call-histogram.js';
import {type LatencyHistogram, type PercentilesMs} from './histogram.js';

/** Default deadline: one packetisation interval (docs/measurement.md). */
export const DEFAULT_LATE_THRESHOLD_MS = 20;

/** Send-time ring: when each of the last RING_SIZE up packets went to the echo. */
const RING_SIZE = 1024; // ≈ 20 s of 20 ms packets: an echo later than that is unmatched
/** Ring columns kept beside the send time, for the legs of a late back packet. */
const COL_UP_LATE_US = 0;
const COL_HOLD_UP_US = 1;

/** Extra histograms fed live by a CallMeter. */
export interface MeterSinks {
  readonly lateness: readonly LatencyHistogram[];
  readonly rtt: readonly LatencyHistogram[];
  /** up_lateness of every up packet (legs, docs/measurement.md); optional so older callers keep working. */
  readonly upLateness?: readonly LatencyHistogram[];
  /** The relay's own hold, both directions. */
  readonly relayHold?: readonly LatencyHistogram[];
}

const NO_SINKS: MeterSinks = {lateness: [], rtt: []};
const NONE: readonly LatencyHistogram[] = [];

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
  /** Valid RTP packets received from Asterisk (duplicates included). */
  packetsUp: number;
  /** Distinct up packets that came back from the echo (matched by SSRC and sequence). */
  packetsBack: number;
  /** Sequence numbers expected on the up stream (highest − lowest + 1, per SSRC, summed). */
  expected: number;
  /** expected − packetsBack: application-level loss (not back by the end of the call). */
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
  jitterBackMs: number;
  latenessMs: PercentilesMs;
  rttMs: PercentilesMs;
  /** up_lateness per up packet: arrival at the relay against the anchor's schedule (legs, docs/measurement.md). */
  upLatenessMs: PercentilesMs;
  /** The relay's own hold, receive → forward, both directions. */
  relayHoldMs: PercentilesMs;
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
  /** Receive time of the up packet that began that gap (0: none). */
  upGapAtUs: number;
}

/**
 * Per-call measurement core used by the relay: feed every datagram of the up stream
 * (Asterisk → relay) to `up`, every one of the back stream (echo → relay) to `back`; an engine
 * that parses headers itself (the native one) calls `upFields` / `backFields` / `malformedPacket`
 * / `foreignPacket` instead. Headers are parsed in place into one reusable object; nothing is
 * allocated per packet.
 *
 * Legs (docs/measurement.md): for up packet p and its back packet q, with times from one monotonic clock,
 * lateness(q) = up_lateness(p) + hold_up(p) + rtt(q) exactly; the send-time ring keeps
 * up_lateness(p) and hold_up(p) beside t_sent_to_echo(p) for that.
 */
export class CallMeter {
  readonly lateness = new CallLatencyHistogram();
  readonly rtt = new CallLatencyHistogram();
  readonly upLateness = new CallLatencyHistogram();
  readonly relayHold = new CallLatencyHistogram();
  private readonly pkt = newRtpPacket();
  private readonly clock: PlayoutClock;
  private readonly upSeq = new SequenceTracker();
  private readonly backSeq = new SequenceTracker();
  private readonly upJitter: InterarrivalJitter;
  private readonly backJitter: InterarrivalJitter;
  private readonly misses: DeadlineMissCounter;
  private readonly sent = new SendRing(RING_SIZE, 2);
  private readonly upLatenessSinks: readonly LatencyHistogram[];
  private readonly relayHoldSinks: readonly LatencyHistogram[];

  // Totals folded in from earlier SSRCs of this call.
  private foldedExpected = 0;
  private foldedBack = 0;
  private foldedGaps = 0;
  private foldedDupUp = 0;
  private foldedDupBack = 0;
  private foldedReUp = 0;
  private foldedReBack = 0;
  private foldedOorUp = 0;
  private foldedOorBack = 0;
  private foldedResyncUp = 0;
  private foldedResyncBack = 0;

  packetsUp = 0;
  unmatchedBack = 0;
  malformed = 0;
  foreign = 0;
  ssrcChanges = 0;
  firstUpUs = 0;
  lastUpUs = 0;
  lastBackUs = 0;
  /** Receive time (monotonic µs) of the back packet with the largest lateness so far. */
  worstLateAtUs = 0;
  /** Longest silence between two up packets (µs) and the receive time of the packet before it. */
  upGapMaxUs = 0;
  upGapAtUs = 0;
  private worstLatenessUs = -Infinity;
  /** Why the most recent datagram was malformed (RtpParse), for diagnostics. */
  lastMalformed: RtpParse = RtpParse.Ok;
  lateByAsterisk = 0;
  lateByRelay = 0;
  lateByMediaServer = 0;
  /** Payload type / size of the first up packet (-1: none yet) and how many up packets differed. */
  seenPayloadType = -1;
  seenPacketBytes = -1;
  otherFormatPackets = 0;
  /** Where each late back packet's RTP timestamp and leg go (serve's record `lateFrames`); null: nowhere. */
  lateFrames: {note(ts: number, leg: 'a' | 'r' | 'm'): void} | null = null;

  /**
   * `sinks`: histograms that also receive every value as it is measured (serve's global and
   * per-run histograms), so nothing has to be merged when calls end or metrics are scraped.
   */
  constructor(
    readonly clockRateHz: number,
    readonly lateThresholdMs: number = DEFAULT_LATE_THRESHOLD_MS,
    private readonly sinks: MeterSinks = NO_SINKS,
  ) {
    this.clock = new PlayoutClock(clockRateHz);
    this.upJitter = new InterarrivalJitter(clockRateHz);
    this.backJitter = new InterarrivalJitter(clockRateHz);
    this.misses = new DeadlineMissCounter(lateThresholdMs);
    this.upLatenessSinks = sinks.upLateness ?? NONE;
    this.relayHoldSinks = sinks.relayHold ?? NONE;
  }

  /**
   * An up datagram received at `tRecvUs`, about to be sent to the echo at `tSentUs`.
   * Returns false if it is not RTP (counted as malformed: do not forward it).
   */
  up(buf: Buffer, len: number, tRecvUs: number, tSentUs: number): boolean {
    if (!this.parse(buf, len)) return false;
    const p = this.pkt;
    this.upFields(p.ssrc, p.sequence, p.timestamp, p.payloadType, p.marker, len, tRecvUs, tSentUs);
    return true;
  }

  /**
   * A back datagram from the echo received at `tRecvUs` and sent on to Asterisk at `tSentUs`
   * (negative: not forwarded, e.g. while the call drains). Returns false if malformed.
   */
  back(buf: Buffer, len: number, tRecvUs: number, tSentUs = -1): boolean {
    if (!this.parse(buf, len)) return false;
    const p = this.pkt;
    this.backFields(p.ssrc, p.sequence, p.timestamp, p.payloadType, p.marker, len, tRecvUs, tSentUs);
    return true;
  }

  /**
   * A parsed up packet (`sizeBytes`: the whole datagram, header included) received at `tRecvUs`
   * and sent to the echo at `tSentUs`.
   */
  upFields(ssrc: number, seq: number, ts: number, pt: number, marker: boolean, sizeBytes: number, tRecvUs: number, tSentUs: number): void {
    void marker;
    if (this.clock.anchor(ssrc, ts, tRecvUs) && this.packetsUp > 0) this.newSsrc();
    this.packetsUp++;
    if (this.seenPayloadType < 0) {
      this.seenPayloadType = pt;
      this.seenPacketBytes = sizeBytes;
    } else if (pt !== this.seenPayloadType || sizeBytes !== this.seenPacketBytes) {
      this.otherFormatPackets++;
    }
    if (this.firstUpUs === 0) this.firstUpUs = tRecvUs;
    else if (tRecvUs - this.lastUpUs > this.upGapMaxUs) {
      this.upGapMaxUs = tRecvUs - this.lastUpUs;
      this.upGapAtUs = this.lastUpUs;
    }
    this.lastUpUs = tRecvUs;
    const v = this.upSeq.track(seq);
    if (v === SeqVerdict.Duplicate || v === SeqVerdict.OutOfRange) return;
    this.upJitter.update(tRecvUs, ts);
    const upLateUs = this.clock.latenessUs(ts, tRecvUs);
    const holdUs = tSentUs - tRecvUs;
    this.upLateness.recordUs(upLateUs);
    this.relayHold.recordUs(holdUs);
    const ul = this.upLatenessSinks;
    for (let i = 0; i < ul.length; i++) ul[i].recordUs(upLateUs);
    const rh = this.relayHoldSinks;
    for (let i = 0; i < rh.length; i++) rh[i].recordUs(holdUs);
    const slot = this.sent.record(this.upSeq.lastExt, tSentUs);
    this.sent.setValue(slot, COL_UP_LATE_US, upLateUs);
    this.sent.setValue(slot, COL_HOLD_UP_US, holdUs);
  }

  /**
   * A parsed back packet received from the echo at `tRecvUs` and sent on to Asterisk at
   * `tSentUs` (negative: not forwarded; no hold recorded).
   */
  backFields(ssrc: number, seq: number, ts: number, pt: number, marker: boolean, sizeBytes: number, tRecvUs: number, tSentUs: number): void {
    void pt;
    void marker;
    void sizeBytes;
    this.lastBackUs = tRecvUs;
    if (!this.clock.anchored || ssrc !== this.clock.ssrc) {
      this.unmatchedBack++;
      return;
    }
    const ext = this.upSeq.extend(seq);
    const slot = this.sent.find(ext);
    if (slot < 0) {
      this.unmatchedBack++;
      return;
    }
    // tracked in the up stream's extended numbering (the same as `seq` until the up stream
    // resyncs), so a sender restart is not a second, out-of-range jump on the back stream
    const v = this.backSeq.track(ext & 0xffff);
    if (v === SeqVerdict.Duplicate || v === SeqVerdict.OutOfRange) return;
    const latenessUs = this.clock.latenessUs(ts, tRecvUs);
    const rttUs = tRecvUs - this.sent.sentAtUs(slot);
    this.rtt.recordUs(rttUs);
    this.lateness.recordUs(latenessUs);
    const sinks = this.sinks;
    for (let i = 0; i < sinks.rtt.length; i++) sinks.rtt[i].recordUs(rttUs);
    for (let i = 0; i < sinks.lateness.length; i++) sinks.lateness[i].recordUs(latenessUs);
    if (tSentUs >= 0) {
      const holdUs = tSentUs - tRecvUs;
      this.relayHold.recordUs(holdUs);
      const rh = this.relayHoldSinks;
      for (let i = 0; i < rh.length; i++) rh[i].recordUs(holdUs);
    }
    if (latenessUs > this.worstLatenessUs) {
      this.worstLatenessUs = latenessUs;
      this.worstLateAtUs = tRecvUs;
    }
    if (this.misses.record(latenessUs, ext)) {
      // The leg that contributed most; a tie goes to the earlier leg on the path.
      const a = this.sent.value(slot, COL_UP_LATE_US);
      const r = this.sent.value(slot, COL_HOLD_UP_US);
      if (a >= r && a >= rttUs) this.lateByAsterisk++;
      else if (r >= rttUs) this.lateByRelay++;
      else this.lateByMediaServer++;
      this.lateFrames?.note(ts, a >= r && a >= rttUs ? 'a' : r >= rttUs ? 'r' : 'm');
    }
    this.backJitter.update(tRecvUs, ts);
  }

  /** A datagram that is not RTP (parsed by the engine itself); `reason` when known. */
  malformedPacket(reason: RtpParse = RtpParse.TooShort): void {
    this.malformed++;
    this.lastMalformed = reason;
  }

  /** Parse into the reusable packet; a datagram that is not RTP is counted as malformed. */
  private parse(buf: Buffer, len: number): boolean {
    const r = parseRtp(buf, this.pkt, len);
    if (r === RtpParse.Ok) return true;
    this.malformed++;
    this.lastMalformed = r;
    return false;
  }

  /** A datagram from an address that is neither the call's Asterisk nor the echo. */
  foreignPacket(): void {
    this.foreign++;
  }

  get packetsBack(): number {
    return this.foldedBack + this.backSeq.distinct;
  }

  get expected(): number {
    return this.foldedExpected + this.upSeq.expected;
  }

  /** expected − packetsBack: up packets not back (yet; by the end of the call, lost). The one loss formula. */
  get lost(): number {
    return Math.max(0, this.expected - this.packetsBack);
  }

  get late(): number {
    return this.misses.late;
  }

  get maxConsecutiveLate(): number {
    return this.misses.maxRun;
  }

  snapshot(): CallStats {
    return {
      packetsUp: this.packetsUp,
      packetsBack: this.packetsBack,
      expected: this.expected,
      lost: this.lost,
      uplinkGaps: this.foldedGaps + this.upSeq.gaps,
      late: this.misses.late,
      maxConsecutiveLate: this.misses.maxRun,
      duplicatesUp: this.foldedDupUp + this.upSeq.duplicates,
      duplicatesBack: this.foldedDupBack + this.backSeq.duplicates,
      reorderedUp: this.foldedReUp + this.upSeq.reordered,
      reorderedBack: this.foldedReBack + this.backSeq.reordered,
      outOfRangeUp: this.foldedOorUp + this.upSeq.outOfRange,
      outOfRangeBack: this.foldedOorBack + this.backSeq.outOfRange,
      resyncsUp: this.foldedResyncUp + this.upSeq.resyncs,
      resyncsBack: this.foldedResyncBack + this.backSeq.resyncs,
      unmatchedBack: this.unmatchedBack,
      malformed: this.malformed,
      foreign: this.foreign,
      ssrcChanges: this.ssrcChanges,
      jitterUpMs: round3(this.upJitter.jitterMs),
      jitterBackMs: round3(this.backJitter.jitterMs),
      latenessMs: this.lateness.percentilesMs(),
      rttMs: this.rtt.percentilesMs(),
      upLatenessMs: this.upLateness.percentilesMs(),
      relayHoldMs: this.relayHold.percentilesMs(),
      lateBy: {asterisk: this.lateByAsterisk, relay: this.lateByRelay, mediaServer: this.lateByMediaServer},
      seen: {
        payloadType: this.seenPayloadType < 0 ? null : this.seenPayloadType,
        packetBytes: this.seenPacketBytes < 0 ? null : this.seenPacketBytes,
        otherPackets: this.otherFormatPackets,
      },
      firstUpUs: this.firstUpUs,
      lastUpUs: this.lastUpUs,
      lastBackUs: this.lastBackUs,
      worstLateAtUs: this.worstLateAtUs,
      upGapMaxUs: this.upGapMaxUs,
      upGapAtUs: this.upGapAtUs,
    };
  }

  /** The up stream changed SSRC: fold this segment's counts and start fresh (re-anchored). */
  private newSsrc(): void {
    this.ssrcChanges++;
    this.foldedExpected += this.upSeq.expected;
    this.foldedBack += this.backSeq.distinct;
    this.foldedGaps += this.upSeq.gaps;
    this.foldedDupUp += this.upSeq.duplicates;
    this.foldedDupBack += this.backSeq.duplicates;
    this.foldedReUp += this.upSeq.reordered;
    this.foldedReBack += this.backSeq.reordered;
    this.foldedOorUp += this.upSeq.outOfRange;
    this.foldedOorBack += this.backSeq.outOfRange;
    this.foldedResyncUp += this.upSeq.resyncs;
    this.foldedResyncBack += this.backSeq.resyncs;
    this.upSeq.reset();
    this.backSeq.reset();
    this.upJitter.reset();
    this.backJitter.reset();
    this.sent.clear();
    this.misses.reset();
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
