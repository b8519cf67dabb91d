/**
 * Lateness from a stream's earliest phase (RFC 5481 packet delay variation; docs/measurement.md,
 * "the anchor"). The phase of a packet is φ = t_recv − (ts − ts_ref) / clock_rate, with ts_ref the
 * stream's first RTP timestamp; the anchor is t0 = min φ over the stream, and a packet's lateness
 * is φ − t0: how far behind the least-delayed packet's schedule it arrived. The first packet is no
 * anchor: a stream whose first packet came late (a stall at set-up) would read every later packet
 * that much early.
 *
 * Exact for the final anchor with bounded memory: the judged values of a stream's first
 * `exactWindowUs` (60 s) are held and judged once the window closes (or the stream ends) against
 * the earliest phase then known; from then on each value is judged as it comes, and an earlier
 * phase found later re-anchors from then on and is counted in `anchorMoves`. The held values are
 * released when the window closes, so a call's memory is constant after its first minute.
 *
 * `EarliestPhaseAnchor` is the anchor alone (the relay judges its back stream against the up
 * stream's anchor); `EarliestPhaseLateness` is one stream judged against its own anchor (what the
 * caller hears).
 */
import {tsDiff} from '../rtp/clock.js';

/** How long a stream's values are held to be judged exactly against its earliest phase. */
export const EXACT_WINDOW_US = 60_000_000;

/** The earliest phase of one stream (one SSRC): t0 and how the anchor moved. */
export class EarliestPhaseAnchor {
  private readonly usPerTick: number;
  private tsRef = 0;
  private started = false;
  /** The earliest phase seen (µs, the receive clock's base); NaN before the first packet. */
  t0Us = Number.NaN;
  /** φ of the stream's first packet (µs). */
  firstPhaseUs = Number.NaN;
  /** Receive time of the first packet (µs). */
  firstRecvUs = Number.NaN;
  /** Earlier phases found after the exact window closed (each re-anchored what came after it). */
  anchorMoves = 0;
  /** Whether the exact window has closed (values are judged as they come from then on). */
  settled = false;

  constructor(clockRateHz: number) {
    this.usPerTick = 1e6 / clockRateHz;
  }

  /** φ of a packet (µs); the first call fixes ts_ref. Does not move the anchor. */
  phaseUs(tRecvUs: number, ts: number): number {
    if (!this.started) {
      this.started = true;
      this.tsRef = ts;
      this.firstRecvUs = tRecvUs;
    }
    return tRecvUs - tsDiff(ts, this.tsRef) * this.usPerTick;
  }

  /** Offer a packet's phase to the anchor: the earliest so far becomes t0 (counted as a move once settled). */
  offer(phaseUs: number): void {
    if (Number.isNaN(this.firstPhaseUs)) this.firstPhaseUs = phaseUs;
    if (Number.isNaN(this.t0Us) || phaseUs < this.t0Us) {
      if (this.settled && !Number.isNaN(this.t0Us)) this.anchorMoves++;
      this.t0Us = phaseUs;
    }
  }

  /** Schedule time of RTP timestamp `ts` on the anchor: t0 + (ts − ts_ref)/clock_rate. */
  expectedUs(ts: number): number {
    return this.t0Us + tsDiff(ts, this.tsRef) * this.usPerTick;
  }

  /** φ(first packet) − t0, µs (0 before any packet). */
  get shiftUs(): number {
    return Number.isNaN(this.t0Us) ? 0 : this.firstPhaseUs - this.t0Us;
  }

  /** Whether a packet received at `tRecvUs` is past the exact window of this stream. */
  pastWindow(tRecvUs: number, windowUs: number): boolean {
    return this.started && tRecvUs - this.firstRecvUs >= windowUs;
  }
}

/** Where judged lateness values go (a LatencyHistogram, µs). */
export interface LatenessRecorder {
  recordUs(valueUs: number): void;
}

/**
 * Values held until the anchor settles: each a phase-like time (µs) whose lateness is value − t0,
 * with an order key (extended sequence number) for counting consecutive misses in sequence order.
 */
class HeldValues {
  private values = new Float64Array(256);
  private keys = new Float64Array(256);
  n = 0;

  push(valueUs: number, key: number): void {
    if (this.n === this.values.length) {
      const v = new Float64Array(this.n * 2);
      v.set(this.values);
      this.values = v;
      const k = new Float64Array(this.n * 2);
      k.set(this.keys);
      this.keys = k;
    }
    this.values[this.n] = valueUs;
    this.keys[this.n] = key;
    this.n++;
  }

  /** The held values in key order, then released. */
  drainInOrder(visit: (valueUs: number) => void): void {
    const order = Array.from({length: this.n}, (_, i) => i).sort((a, b) => this.keys[a] - this.keys[b]);
    for (const i of order) visit(this.values[i]);
    this.values = new Float64Array(0);
    this.keys = new Float64Array(0);
    this.n = 0;
  }

  /** Bytes held (for the memory test). */
  get bytes(): number {
    return this.values.byteLength + this.keys.byteLength;
  }
}

/** The judged figures of a series: late count, longest run of late values, largest lateness. */
export class LatenessJudge {
  late = 0;
  maxConsecutiveLate = 0;
  maxLatenessUs = 0;
  judged = 0;
  private run = 0;
  private readonly held = new HeldValues();

  constructor(
    private readonly anchor: EarliestPhaseAnchor,
    private readonly lateThresholdUs: number,
    private readonly recorder: LatenessRecorder,
  ) {}

  /** A value to judge against the anchor (held until it settles). */
  add(valueUs: number, key: number): void {
    if (this.anchor.settled) this.judge(valueUs - this.anchor.t0Us);
    else this.held.push(valueUs, key);
  }

  /** The anchor settled: judge what was held against it, in key order. */
  settle(): void {
    const t0 = this.anchor.t0Us;
    this.held.drainInOrder((v) => this.judge(v - t0));
  }

  get heldBytes(): number {
    return this.held.bytes;
  }

  private judge(latenessUs: number): void {
    const l = latenessUs > 0 ? latenessUs : 0;
    this.judged++;
    this.recorder.recordUs(l);
    if (l > this.maxLatenessUs) this.maxLatenessUs = l;
    if (l > this.lateThresholdUs) {
      this.late++;
      if (++this.run > this.maxConsecutiveLate) this.maxConsecutiveLate = this.run;
    } else {
      this.run = 0;
    }
  }
}

/** One stream judged against its own earliest phase (what a receiver hears). */
export class EarliestPhaseLateness {
  readonly anchor: EarliestPhaseAnchor;
  readonly judge: LatenessJudge;

  constructor(
    clockRateHz: number,
    lateThresholdUs: number,
    recorder: LatenessRecorder,
    private readonly exactWindowUs: number = EXACT_WINDOW_US,
  ) {
    this.anchor = new EarliestPhaseAnchor(clockRateHz);
    this.judge = new LatenessJudge(this.anchor, lateThresholdUs, recorder);
  }

  /** A packet of the stream: receive time (µs), RTP timestamp, extended sequence number. */
  add(tRecvUs: number, ts: number, extSeq: number): void {
    const a = this.anchor;
    const phase = a.phaseUs(tRecvUs, ts);
    if (!a.settled && a.pastWindow(tRecvUs, this.exactWindowUs)) this.settle();
    a.offer(phase);
    this.judge.add(phase, extSeq);
  }

  /** The stream ended: judge whatever is still held. Idempotent. */
  finish(): void {
    if (!this.anchor.settled) this.settle();
  }

  private settle(): void {
    this.anchor.settled = true;
    this.judge.settle();
  }
}
