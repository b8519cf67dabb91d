import {newRtpPacket, parseRtp, RtpParse} from '../rtp/packet.js';
import {SequenceTracker, SeqVerdict} from '../rtp/sequence.js';
import {InterarrivalJitter} from '../rtp/jitter.js';
import {DeadlineMissCounter, PlayoutClock} from '../rtp/deadline.js';
import {CallLatencyHistogram} from './call-histogram.js';
import {type LatencyHistogram, type PercentilesMs} from './histogram.js';

/** Default deadline: one packetisation interval (SPEC §4). */
export const DEFAULT_LATE_THRESHOLD_MS = 20;

/** Send-time ring: remembers when each of the last RING_SIZE up packets went to the echo. */
const RING_SIZE = 1024; // ≈ 20 s of 20 ms packets: an echo later than that is unmatched
const RING_MASK = RING_SIZE - 1;

/** Extra histograms fed live by a CallMeter. */
export interface MeterSinks {
  readonly lateness: readonly LatencyHistogram[];
  readonly rtt: readonly LatencyHistogram[];
}

const NO_SINKS: MeterSinks = {lateness: [], rtt: []};

/** One call's media figures (SPEC §4), as the relay measured them. */
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
  /** Monotonic µs of the first up packet (0 = none yet). */
  firstUpUs: number;
  lastUpUs: number;
  lastBackUs: number;
  /** Monotonic µs at which the latest (largest lateness) back packet was received (0 = none). */
  worstLateAtUs: number;
}

/**
 * Per-call measurement core used by the relay: feed every datagram of the up stream
 * (Asterisk → relay) to `up`, every one of the back stream (echo → relay) to `back`.
 * Headers are parsed in place into one reusable object; nothing is allocated per packet.
 */
export class CallMeter {
  readonly lateness = new CallLatencyHistogram();
  readonly rtt = new CallLatencyHistogram();
  private readonly pkt = newRtpPacket();
  private readonly clock: PlayoutClock;
  private readonly upSeq = new SequenceTracker();
  private readonly backSeq = new SequenceTracker();
  private readonly upJitter: InterarrivalJitter;
  private readonly backJitter: InterarrivalJitter;
  private readonly misses: DeadlineMissCounter;
  private readonly ringSentUs = new Float64Array(RING_SIZE);
  private readonly ringExt = new Int32Array(RING_SIZE).fill(-1);

  // Totals folded in from earlier SSRCs of this call.
  private foldedExpected = 0;
  private foldedBack = 0;
  private foldedGaps = 0;
  private foldedDupUp = 0;
  private foldedDupBack = 0;
  private foldedReUp = 0;
  private foldedReBack = 0;

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
  private worstLatenessUs = -Infinity;
  /** Why the most recent datagram was malformed (RtpParse), for diagnostics. */
  lastMalformed: RtpParse = RtpParse.Ok;

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
  }

  /**
   * An up datagram received at `tRecvUs`, about to be sent to the echo at `tSentUs`.
   * Returns false if it is not RTP (counted as malformed: do not forward it).
   */
  up(buf: Buffer, len: number, tRecvUs: number, tSentUs: number): boolean {
    if (!this.parse(buf, len)) return false;
    const p = this.pkt;
    if (this.clock.anchor(p.ssrc, p.timestamp, tRecvUs) && this.packetsUp > 0) this.newSsrc();
    this.packetsUp++;
    if (this.firstUpUs === 0) this.firstUpUs = tRecvUs;
    this.lastUpUs = tRecvUs;
    const v = this.upSeq.track(p.sequence);
    if (v === SeqVerdict.Duplicate || v === SeqVerdict.TooOld) return true;
    this.upJitter.update(tRecvUs, p.timestamp);
    const ext = this.upSeq.lastExt;
    const slot = ext & RING_MASK;
    this.ringExt[slot] = ext;
    this.ringSentUs[slot] = tSentUs;
    return true;
  }

  /** A back datagram from the echo received at `tRecvUs`. Returns false if malformed. */
  back(buf: Buffer, len: number, tRecvUs: number): boolean {
    if (!this.parse(buf, len)) return false;
    const p = this.pkt;
    this.lastBackUs = tRecvUs;
    if (!this.clock.anchored || p.ssrc !== this.clock.ssrc) {
      this.unmatchedBack++;
      return true;
    }
    const ext = this.upSeq.extend(p.sequence);
    const slot = ext & RING_MASK;
    if (this.ringExt[slot] !== ext) {
      this.unmatchedBack++;
      return true;
    }
    const v = this.backSeq.track(p.sequence);
    if (v === SeqVerdict.Duplicate || v === SeqVerdict.TooOld) return true;
    const latenessUs = this.clock.latenessUs(p.timestamp, tRecvUs);
    const rttUs = tRecvUs - this.ringSentUs[slot];
    this.rtt.recordUs(rttUs);
    this.lateness.recordUs(latenessUs);
    const sinks = this.sinks;
    for (let i = 0; i < sinks.rtt.length; i++) sinks.rtt[i].recordUs(rttUs);
    for (let i = 0; i < sinks.lateness.length; i++) sinks.lateness[i].recordUs(latenessUs);
    if (latenessUs > this.worstLatenessUs) {
      this.worstLatenessUs = latenessUs;
      this.worstLateAtUs = tRecvUs;
    }
    this.misses.record(latenessUs, ext);
    this.backJitter.update(tRecvUs, p.timestamp);
    return true;
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

  get late(): number {
    return this.misses.late;
  }

  get maxConsecutiveLate(): number {
    return this.misses.maxRun;
  }

  snapshot(): CallStats {
    const expected = this.expected;
    const packetsBack = this.packetsBack;
    return {
      packetsUp: this.packetsUp,
      packetsBack,
      expected,
      lost: Math.max(0, expected - packetsBack),
      uplinkGaps: this.foldedGaps + this.upSeq.gaps,
      late: this.misses.late,
      maxConsecutiveLate: this.misses.maxRun,
      duplicatesUp: this.foldedDupUp + this.upSeq.duplicates,
      duplicatesBack: this.foldedDupBack + this.backSeq.duplicates,
      reorderedUp: this.foldedReUp + this.upSeq.reordered,
      reorderedBack: this.foldedReBack + this.backSeq.reordered,
      unmatchedBack: this.unmatchedBack,
      malformed: this.malformed,
      foreign: this.foreign,
      ssrcChanges: this.ssrcChanges,
      jitterUpMs: round3(this.upJitter.jitterMs),
      jitterBackMs: round3(this.backJitter.jitterMs),
      latenessMs: this.lateness.percentilesMs(),
      rttMs: this.rtt.percentilesMs(),
      firstUpUs: this.firstUpUs,
      lastUpUs: this.lastUpUs,
      lastBackUs: this.lastBackUs,
      worstLateAtUs: this.worstLateAtUs,
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
    this.upSeq.reset();
    this.backSeq.reset();
    this.upJitter.reset();
    this.backJitter.reset();
    this.ringExt.fill(-1);
    this.misses.reset();
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
