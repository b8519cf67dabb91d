import {newRtpPacket, parseRtp, RtpParse} from '../rtp/packet.js';
import {SequenceTracker, SeqVerdict} from '../rtp/sequence.js';
import {InterarrivalJitter} from '../rtp/jitter.js';
import {DeadlineMissCounter} from '../rtp/deadline.js';
import {SendRing} from '../rtp/send-ring.js';
import {CallLatencyHistogram} from './call-histogram.js';
import {type LatencyHistogram} from './histogram.js';
import type {CallStats, LateLeg, MeterSinks} from './call-stats-types.js';
import {EarliestPhaseAnchor, EXACT_WINDOW_US, LatenessJudge, type LatenessRecorder} from './earliest-phase.js';
import {HeldBackPackets} from './held-back.js';
import {OwnBackStream} from './call-stats-stream.js';
import {figuresWithNulls} from './call-stats-nulls.js';
import type {MediaServerKind} from '../protocol/media-server.js';

export type {CallStats, LateBy, LateLeg, MeterSinks, SeenFormat} from './call-stats-types.js';

/** Default deadline: one packetisation interval (docs/measurement.md). */
export const DEFAULT_LATE_THRESHOLD_MS = 20;

/** Send-time ring: when each of the last RING_SIZE up packets went to the echo. */
const RING_SIZE = 1024; // ≈ 20 s of 20 ms packets: an echo later than that is unmatched
/** Ring columns kept beside the send time, for the legs of a late back packet. */
const COL_UP_PHASE_US = 0;
const COL_HOLD_UP_US = 1;

const NO_SINKS: MeterSinks = {lateness: [], rtt: []};
const NONE: readonly LatencyHistogram[] = [];

/**
 * Per-call measurement core used by the relay: feed every datagram of the up stream
 * (Asterisk → relay) to `up`, every one of the back stream (echo → relay) to `back`; an engine
 * that parses headers itself (the native one) calls `upFields` / `backFields` / `malformedPacket`
 * / `foreignPacket` instead. Headers are parsed in place into one reusable object; nothing is
 * allocated per packet.
 *
 * Legs (docs/measurement.md): for up packet p and its back packet q, with times from one monotonic clock,
 * lateness(q) = up_lateness(p) + hold_up(p) + rtt(q) exactly; the send-time ring keeps φ(p) and
 * hold_up(p) beside t_sent_to_echo(p) for that.
 *
 * The anchor is the earliest phase of the up stream of the current SSRC (EarliestPhaseAnchor):
 * the values that depend on it (up_lateness, lateness and the leg of each late packet) of a
 * stream's first `exactWindowUs` are held and judged when the window closes, or when the call's
 * figures are taken (`snapshot`, `finish`), against the earliest phase then known; later ones are
 * judged as they come. rtt and the relay's hold do not depend on the anchor and are recorded at once.
 *
 * What the media server is (`mediaServer`) decides what the back stream means:
 * - `echo`: each back packet is the echo of an up packet (matched by SSRC and sequence), as above;
 * - `stream`: the media server sends its own stream (OwnBackStream): lateness against that
 *   stream's own earliest phase, loss by its own sequence numbers; no rtt, and a late back packet
 *   is counted under `lateBy.mediaServer` (there is no up packet to split its lateness with);
 * - `sink`: nothing comes back; each up packet is judged as delivered to the media server:
 *   lateness = up_lateness(p) + hold_up(p) against the up stream's earliest phase, counted late,
 *   consecutive and lost by the up stream's sequence numbers, and attributed to `asterisk` or `relay`.
 * A figure with no sample is null in the snapshot, with its reason in `nullReasons` (call-stats-nulls.ts).
 */
export class CallMeter {
  readonly lateness = new CallLatencyHistogram();
  readonly rtt = new CallLatencyHistogram();
  readonly upLateness = new CallLatencyHistogram();
  readonly relayHold = new CallLatencyHistogram();
  private readonly pkt = newRtpPacket();
  private anchor: EarliestPhaseAnchor;
  private upJudge: LatenessJudge;
  private readonly upRecorder: LatenessRecorder;
  private readonly heldBack = new HeldBackPackets();
  private streamSsrc = 0;
  private streaming = false;
  private foldedMoves = 0;
  private maxShiftUs = Number.NaN;
  private readonly upSeq = new SequenceTracker();
  private readonly backSeq = new SequenceTracker();
  private readonly upJitter: InterarrivalJitter;
  private readonly backJitter: InterarrivalJitter;
  private readonly misses: DeadlineMissCounter;
  private readonly sent = new SendRing(RING_SIZE, 2);
  private readonly relayHoldSinks: readonly LatencyHistogram[];
  /** The media server's own stream (`stream` only). */
  private readonly own: OwnBackStream | null;

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
  lateByAsterisk = 0;
  lateByRelay = 0;
  lateByMediaServer = 0;
  /** Payload type / size of the first up packet (-1: none yet) and how many up packets differed. */
  seenPayloadType = -1;
  seenPacketBytes = -1;
  otherFormatPackets = 0;
  /**
   * Where each back packet judged late at the relay goes (serve's record `lateFrames`, per call):
   * its RTP timestamp and the leg that contributed most (`a` Asterisk up, `r` the relay's hold,
   * `m` the media server's rtt). Noted when the packet is judged: at once after the up stream's
   * first minute, at the window's close (or the call's end) for that minute's, in sequence order.
   * null: nowhere.
   */
  /** The kernel's unreachable reports for what the relay sent to the media server (set by the native relay); null: not measurable. */
  mediaServerUnreachable: number | null = null;
  /** Where the media server is (`address:port`), for the reason a call names. */
  mediaServerAt = 'the media server';
  lateFrames: {note(ts: number, leg: LateLeg): void} | null = null;
  /** Where each judged back packet goes, by receive time, lateness and (late) leg: the call's timeline (src/metrics/timeline.ts). */
  timeline: {note(tUs: number, latenessUs: number, leg: LateLeg | null): void} | null = null;

  /**
   * `sinks`: histograms that also receive every value as it is measured (serve's global and
   * per-run histograms), so nothing has to be merged when calls end or metrics are scraped.
   */
  constructor(
    readonly clockRateHz: number,
    readonly lateThresholdMs: number = DEFAULT_LATE_THRESHOLD_MS,
    private readonly sinks: MeterSinks = NO_SINKS,
    private readonly exactWindowUs: number = EXACT_WINDOW_US,
    readonly mediaServer: MediaServerKind = 'echo',
  ) {
    const ul = sinks.upLateness ?? NONE;
    const own = this.upLateness;
    this.upRecorder = {
      recordUs(v: number): void {
        own.recordUs(v);
        for (let i = 0; i < ul.length; i++) ul[i].recordUs(v);
      },
    };
    this.anchor = new EarliestPhaseAnchor(clockRateHz);
    this.upJudge = new LatenessJudge(this.anchor, Infinity, this.upRecorder);
    this.upJitter = new InterarrivalJitter(clockRateHz);
    this.backJitter = new InterarrivalJitter(clockRateHz);
    this.misses = new DeadlineMissCounter(lateThresholdMs);
    this.relayHoldSinks = sinks.relayHold ?? NONE;
    this.own = mediaServer === 'stream' ? new OwnBackStream(clockRateHz, exactWindowUs, this.judgeOwnBack) : null;
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
    if (!this.streaming || ssrc !== this.streamSsrc) this.newStream(ssrc);
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
    const a = this.anchor;
    const phaseUs = a.phaseUs(tRecvUs, ts);
    if (!a.settled && a.pastWindow(tRecvUs, this.exactWindowUs)) this.settle();
    a.offer(phaseUs);
    this.upJudge.add(phaseUs, this.upSeq.lastExt);
    const holdUs = tSentUs - tRecvUs;
    this.recordHold(holdUs);
    if (this.mediaServer === 'sink') return this.delivered(phaseUs, holdUs, tRecvUs, ts);
    const slot = this.sent.record(this.upSeq.lastExt, tSentUs);
    this.sent.setValue(slot, COL_UP_PHASE_US, phaseUs);
    this.sent.setValue(slot, COL_HOLD_UP_US, holdUs);
  }

  /** `sink`: up packet p as delivered to the media server, judged like a back packet with rtt 0: φ(p) + hold_up(p) − t0. */
  private delivered(phaseUs: number, holdUs: number, tRecvUs: number, ts: number): void {
    const ext = this.upSeq.lastExt;
    if (this.anchor.settled) this.judgeBack(phaseUs + holdUs, phaseUs, holdUs, 0, ext, tRecvUs, ts);
    else this.heldBack.push(phaseUs + holdUs, phaseUs, holdUs, 0, ext, tRecvUs, ts);
  }

  private recordHold(holdUs: number): void {
    this.relayHold.recordUs(holdUs);
    const rh = this.relayHoldSinks;
    for (let i = 0; i < rh.length; i++) rh[i].recordUs(holdUs);
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
    if (this.mediaServer !== 'echo') return this.notEcho(ssrc, seq, ts, tRecvUs, tSentUs);
    if (!this.streaming || ssrc !== this.streamSsrc) {
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
    const rttUs = tRecvUs - this.sent.sentAtUs(slot);
    this.rtt.recordUs(rttUs);
    const sinks = this.sinks;
    for (let i = 0; i < sinks.rtt.length; i++) sinks.rtt[i].recordUs(rttUs);
    if (tSentUs >= 0) this.recordHold(tSentUs - tRecvUs);
    const backPhaseUs = this.anchor.phaseUs(tRecvUs, ts);
    const upPhaseUs = this.sent.value(slot, COL_UP_PHASE_US);
    const holdUpUs = this.sent.value(slot, COL_HOLD_UP_US);
    if (this.anchor.settled) this.judgeBack(backPhaseUs, upPhaseUs, holdUpUs, rttUs, ext, tRecvUs, ts);
    else this.heldBack.push(backPhaseUs, upPhaseUs, holdUpUs, rttUs, ext, tRecvUs, ts);
    this.backJitter.update(tRecvUs, ts);
  }

  /**
   * Judge back packet q against the anchor: lateness(q) = φ(q) − t0; when late, the leg that
   * contributed most (up_lateness(p) = φ(p) − t0, hold_up(p), rtt(q)); a tie goes to the earlier
   * leg on the path.
   */
  private readonly judgeBack = (backPhaseUs: number, upPhaseUs: number, holdUpUs: number, rttUs: number, ext: number, tRecvUs: number, ts: number): void => {
    const t0 = this.anchor.t0Us;
    const latenessUs = backPhaseUs - t0;
    this.lateness.recordUs(latenessUs);
    const ls = this.sinks.lateness;
    for (let i = 0; i < ls.length; i++) ls[i].recordUs(latenessUs);
    if (latenessUs > this.worstLatenessUs) {
      this.worstLatenessUs = latenessUs;
      this.worstLateAtUs = tRecvUs;
    }
    if (!this.misses.record(latenessUs, ext)) return this.timeline?.note(tRecvUs, latenessUs, null);
    const a = upPhaseUs - t0;
    let leg: LateLeg;
    if (a >= holdUpUs && a >= rttUs) {
      this.lateByAsterisk++;
      leg = 'a';
    } else if (holdUpUs >= rttUs) {
      this.lateByRelay++;
      leg = 'r';
    } else {
      this.lateByMediaServer++;
      leg = 'm';
    }
    if (this.lateFrames !== null) this.lateFrames.note(ts, leg);
    this.timeline?.note(tRecvUs, latenessUs, leg);
  };

  /** A back packet when the media server is no echo: the stream's own packet, or (sink) one nothing expected. */
  private notEcho(ssrc: number, seq: number, ts: number, tRecvUs: number, tSentUs: number): void {
    if (this.own === null) {
      this.unmatchedBack++;
      return;
    }
    if (tSentUs >= 0) this.recordHold(tSentUs - tRecvUs);
    this.own.add(ssrc, seq, ts, tRecvUs);
  }

  /** `stream`: a back packet judged against its own stream's earliest phase; late ones are the media server's. */
  private readonly judgeOwnBack = (latenessUs: number, ext: number, tRecvUs: number, ts: number): void => {
    this.lateness.recordUs(latenessUs);
    const ls = this.sinks.lateness;
    for (let i = 0; i < ls.length; i++) ls[i].recordUs(latenessUs);
    if (latenessUs > this.worstLatenessUs) {
      this.worstLatenessUs = latenessUs;
      this.worstLateAtUs = tRecvUs;
    }
    if (!this.misses.record(latenessUs, ext)) return;
    this.lateByMediaServer++;
    if (this.lateFrames !== null) this.lateFrames.note(ts, 'm');
  };

  /** The up stream's exact window closed: judge what was held against the anchor now known. */
  private settle(): void {
    this.anchor.settled = true;
    this.upJudge.settle();
    this.heldBack.drainInOrder(this.judgeBack);
  }

  /**
   * The call's figures are final (it ended): judge whatever is still held. Idempotent; packets
   * that still come are judged as they come. `snapshot` calls it.
   */
  finish(): void {
    if (this.streaming && !this.anchor.settled) this.settle();
    this.own?.finish();
  }

  /** Bytes the meter holds for its exact window (0 once the window closed). */
  get heldBytes(): number {
    return this.upJudge.heldBytes + this.heldBack.bytes + (this.own?.heldBytes ?? 0);
  }

  /** A datagram that is not RTP (parsed by the engine itself). */
  malformedPacket(): void {
    this.malformed++;
  }

  /** Parse into the reusable packet; a datagram that is not RTP is counted as malformed. */
  private parse(buf: Buffer, len: number): boolean {
    const r = parseRtp(buf, this.pkt, len);
    if (r === RtpParse.Ok) return true;
    this.malformed++;
    return false;
  }

  /** A datagram from an address that is neither the call's Asterisk nor the echo. */
  foreignPacket(): void {
    this.foreign++;
  }

  /** Distinct back packets measured: echoes of up packets, or (stream) packets of the media server's own stream; 0 with a sink. */
  get packetsBack(): number {
    if (this.own !== null) return this.own.distinct;
    return this.foldedBack + this.backSeq.distinct;
  }

  /** Sequence numbers expected: of the up stream, or (stream) of the media server's own stream. */
  get expected(): number {
    if (this.own !== null) return this.own.expected;
    return this.foldedExpected + this.upSeq.expected;
  }

  /**
   * expected − packetsBack: up packets not back (yet; by the end of the call, lost). The one loss
   * formula. With a sink nothing is expected back: the up stream's own gaps; with a stream, its own.
   */
  get lost(): number {
    if (this.mediaServer === 'sink') return this.foldedGaps + this.upSeq.gaps;
    return Math.max(0, this.expected - this.packetsBack);
  }

  get late(): number {
    return this.misses.late;
  }

  get maxConsecutiveLate(): number {
    return this.misses.maxRun;
  }

  /** The call's figures: closes the exact window first (see `finish`), so take it when the call ends. */
  snapshot(): CallStats {
    this.finish();
    const shiftUs = this.streaming ? Math.max(this.anchor.shiftUs, Number.isNaN(this.maxShiftUs) ? 0 : this.maxShiftUs) : Number.NaN;
    const own = this.own;
    const stats: CallStats = {
      mediaServer: this.mediaServer,
      packetsUp: this.packetsUp,
      packetsBack: this.packetsBack,
      expected: this.expected,
      lost: this.lost,
      uplinkGaps: this.foldedGaps + this.upSeq.gaps,
      late: this.misses.late,
      maxConsecutiveLate: this.misses.maxRun,
      duplicatesUp: this.foldedDupUp + this.upSeq.duplicates,
      duplicatesBack: own !== null ? own.duplicates : this.foldedDupBack + this.backSeq.duplicates,
      reorderedUp: this.foldedReUp + this.upSeq.reordered,
      reorderedBack: own !== null ? own.reordered : this.foldedReBack + this.backSeq.reordered,
      outOfRangeUp: this.foldedOorUp + this.upSeq.outOfRange,
      outOfRangeBack: own !== null ? own.outOfRange : this.foldedOorBack + this.backSeq.outOfRange,
      resyncsUp: this.foldedResyncUp + this.upSeq.resyncs,
      resyncsBack: own !== null ? own.resyncs : this.foldedResyncBack + this.backSeq.resyncs,
      unmatchedBack: this.unmatchedBack,
      malformed: this.malformed,
      foreign: this.foreign,
      ssrcChanges: this.ssrcChanges,
      jitterUpMs: round3(this.upJitter.jitterMs),
      jitterBackMs: round3(own !== null ? own.jitterMs : this.backJitter.jitterMs),
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
      anchorShiftMs: Number.isNaN(shiftUs) ? null : round3(shiftUs / 1000),
      anchorMoves: this.foldedMoves + this.anchor.anchorMoves,
      mediaServerUnreachable: this.mediaServerUnreachable,
      nullReasons: {},
      mediaError: null,
    };
    return figuresWithNulls(stats, {lateness: this.lateness.count, rtt: this.rtt.count, upLateness: this.upLateness.count, relayHold: this.relayHold.count}, this.mediaServerAt);
  }

  /** The up stream starts or changes SSRC: judge the old stream, fold its counts, start afresh (a new anchor). */
  private newStream(ssrc: number): void {
    const first = !this.streaming;
    this.streaming = true;
    this.streamSsrc = ssrc;
    if (first) return;
    this.newSsrc();
  }

  /** Fold the ended stream's counts and start the new one's (its own anchor and exact window). */
  private newSsrc(): void {
    if (!this.anchor.settled) this.settle();
    const s = this.anchor.shiftUs;
    if (Number.isNaN(this.maxShiftUs) || s > this.maxShiftUs) this.maxShiftUs = s;
    this.foldedMoves += this.anchor.anchorMoves;
    this.anchor = new EarliestPhaseAnchor(this.clockRateHz);
    this.upJudge = new LatenessJudge(this.anchor, Infinity, this.upRecorder);
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
