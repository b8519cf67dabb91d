/**
 * What the caller measures (`load --caller rtp`, docs/measurement.md "At the caller"), from the
 * caller engine's records of one call: frames it sent (time just before sendto) and frames Asterisk
 * delivered back to it (kernel receive time; with `matchBy: "ts"` the engine puts beside each the
 * send time of the caller frame with the same RTP timestamp). Records are taken as they come
 * (`sent` / `received`, no allocation beyond the growing per-call columns); the figures are
 * computed once, after the call (`finish`), when the bridge time serve recorded is known:
 *
 * - `callerRttMs`: receive − send of each received frame whose timestamp matched a frame sent
 *   (only an echo media server returns the caller's frames).
 * - `hearsLatenessMs`: each received frame against the earliest phase of its stream (RFC 5481
 *   PDV, src/metrics/earliest-phase.ts: exact for the stream's first 60 s, judged live against the
 *   earliest phase then known after that); a new SSRC starts a new stream. The frames late at the
 *   caller (their RTP timestamps, for the join with the relay's) are those whose phase is behind
 *   the stream's final earliest phase by more than the threshold.
 * - loss by RTP timestamp against the frames sent once the bridge was up (echo), or by the received
 *   stream's sequence numbers (a media server that sends its own stream); late frames and the
 *   longest run of them in the received stream's sequence order; RFC 3550 jitter.
 */
import {InterarrivalJitter} from '../rtp/jitter.js';
import {SequenceTracker, SeqVerdict} from '../rtp/sequence.js';
import {LatencyHistogram} from './histogram.js';
import type {CallerSide, PercentilesMs} from '../protocol/report.js';
import {EarliestPhaseLateness} from './earliest-phase.js';
import {Timeline, type TimelineLeg} from './timeline.js';

/** A growing column of numbers (doubles its typed array when full). */
class Column {
  a: Float64Array;
  n = 0;
  constructor(initial = 512) {
    this.a = new Float64Array(initial);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}

export interface CallerFinishOptions {
  /**
   * Engine-clock µs from which a frame sent counts in `expected` (serve's bridge time plus a
   * margin); null: the bridge time is unknown, loss is judged from the first frame that came back.
   */
  countFromUs: number | null;
  /** Whether the media server returns the caller's own frames (echo): loss and rtt by RTP timestamp. */
  echoes: boolean;
  /** Why rtt is not measured where `echoes` is false (e.g. "media server: stream (no echo)"). */
  noEchoReason?: string;
  /** Whether load and serve share one monotonic clock (one host). */
  oneWayLegs: boolean;
}

/** One call's caller-side figures, and what the run merges and joins. */
export interface CallerCallResult {
  side: CallerSide;
  /** RTP timestamps of the frames late at the caller (for the join with the relay's late frames). */
  lateTs: number[];
  hears: LatencyHistogram;
  rtt: LatencyHistogram;
}

export class CallerMeter {
  private readonly sentTs = new Column();
  private readonly sentAt = new Column();
  private readonly recvStream = new Column();
  private readonly recvPhase = new Column();
  private readonly recvTs = new Column();
  private readonly recvAt = new Column();
  private readonly recvRtt = new Column();
  private readonly seq = new SequenceTracker();
  private readonly jitter: InterarrivalJitter;
  private ssrc = -1;
  private readonly hearsHistogram = LatencyHistogram.perCall();
  private phase: EarliestPhaseLateness;
  /** Earliest phase of each finished stream (µs), and the judged figures folded from them. */
  private readonly streamT0: number[] = [];
  private foldedLate = 0;
  private foldedMaxRun = 0;
  private foldedMoves = 0;
  private firstShiftUs: number | null = null;
  /** Expected by sequence numbers of earlier SSRCs of this call. */
  private foldedSeqExpected = 0;
  private foldedSeqDistinct = 0;
  sent = 0;
  sendErrors = 0;
  foreign = 0;
  malformed = 0;

  constructor(
    readonly clockRateHz: number,
    readonly lateThresholdMs: number,
  ) {
    this.jitter = new InterarrivalJitter(clockRateHz);
    this.phase = this.newPhase();
  }

  private newPhase(): EarliestPhaseLateness {
    return new EarliestPhaseLateness(this.clockRateHz, this.lateThresholdMs * 1000, this.hearsHistogram);
  }

  /** The current stream ended (a new SSRC, or the call): judge what it holds, fold its figures. */
  private endStream(): void {
    const p = this.phase;
    p.finish();
    if (p.judge.judged === 0) return;
    this.firstShiftUs ??= p.anchor.shiftUs;
    this.streamT0.push(p.anchor.t0Us);
    this.foldedLate += p.judge.late;
    this.foldedMaxRun = Math.max(this.foldedMaxRun, p.judge.maxConsecutiveLate);
    this.foldedMoves += p.anchor.anchorMoves;
    this.phase = this.newPhase();
  }

  /** The caller sent the frame with RTP timestamp `ts` at `tSentUs`. */
  noteSent(ts: number, tSentUs: number): void {
    this.sent++;
    this.sentTs.push(ts);
    this.sentAt.push(tSentUs);
  }

  /** A frame came back at `tRecvUs` (kernel time); `tSentUs`: send time of the caller frame with that timestamp (< 0: none). */
  noteReceived(ssrc: number, seq: number, ts: number, tRecvUs: number, tSentUs: number): void {
    if (ssrc !== this.ssrc) {
      if (this.ssrc !== -1) {
        this.foldedSeqExpected += this.seq.maxExt - this.seq.minExt + 1;
        this.foldedSeqDistinct += this.seq.distinct;
        this.seq.reset();
        this.jitter.reset();
        this.endStream();
      }
      this.ssrc = ssrc;
    }
    const v = this.seq.track(seq);
    if (v === SeqVerdict.Duplicate || v === SeqVerdict.OutOfRange) return;
    this.jitter.update(tRecvUs, ts);
    this.phase.add(tRecvUs, ts, this.seq.lastExt);
    this.recvStream.push(this.streamT0.length);
    this.recvPhase.push(this.phase.anchor.phaseUs(tRecvUs, ts));
    this.recvTs.push(ts);
    this.recvAt.push(tRecvUs);
    this.recvRtt.push(tSentUs >= 0 ? tRecvUs - tSentUs : -1);
  }

  get received(): number {
    return this.recvAt.n;
  }

  /** The call's figures (see the module comment). Call once, after the port closed. */
  finish(o: CallerFinishOptions): CallerCallResult {
    this.endStream();
    const n = this.recvAt.n;
    const nullReasons: Record<string, string> = {};
    const rtt = LatencyHistogram.perCall();
    for (let i = 0; i < n; i++) if (this.recvRtt.a[i] >= 0) rtt.recordUs(this.recvRtt.a[i]);
    const thresholdUs = this.lateThresholdMs * 1000;
    const lateTs: number[] = [];
    for (let i = 0; i < n; i++) if (this.recvPhase.a[i] - this.streamT0[this.recvStream.a[i]] > thresholdUs) lateTs.push(this.recvTs.a[i]);
    const loss = o.echoes ? this.lossByTs(o.countFromUs) : this.lossBySeq();
    if (n === 0) nullReasons.hearsLatenessMs = nullReasons.jitterMs = 'no frame came back to the caller';
    if (!o.echoes) nullReasons.callerRttMs = o.noEchoReason ?? 'the media server does not echo the caller frames';
    else if (rtt.count === 0) nullReasons.callerRttMs = n === 0 ? 'no frame came back to the caller' : 'no frame came back with the timestamp of a frame the caller sent';
    const side: CallerSide = {
      sent: this.sent,
      expected: loss.expected,
      received: n,
      lost: loss.lost,
      lossRatio: loss.expected > 0 ? loss.lost / loss.expected : 0,
      late: this.foldedLate,
      lateRatio: n > 0 ? this.foldedLate / n : 0,
      maxConsecutiveLate: this.foldedMaxRun,
      callerRttMs: o.echoes && rtt.count > 0 ? rtt.percentilesMs() : null,
      hearsLatenessMs: n > 0 ? this.hearsHistogram.percentilesMs() : null,
      jitterMs: n > 0 ? round3(this.jitter.jitterMs) : null,
      lateBy: {asterisk: 0, relay: 0, mediaServer: 0, asteriskBack: 0},
      anchorShiftMs: this.firstShiftUs !== null ? round3(this.firstShiftUs / 1000) : null,
      anchorMoves: this.foldedMoves,
      oneWayLegs: o.oneWayLegs,
      lostBySeq: this.lossBySeq().lost,
      ...(this.foreign > 0 ? {foreign: this.foreign} : {}),
      ...(this.malformed > 0 ? {malformed: this.malformed} : {}),
      ...(Object.keys(nullReasons).length > 0 ? {nullReasons} : {}),
    };
    return {side, lateTs, hears: this.hearsHistogram, rtt};
  }

  /**
   * The caller's timeline (src/metrics/timeline.ts): every frame received, at its receive time,
   * with its lateness against its stream's earliest phase; a late one under `legOf(ts)` (the join
   * with the relay's late frames: the relay's leg, else `b`, Asterisk back). Call after `finish`.
   */
  timeline(legOf: (ts: number) => TimelineLeg, into: Timeline = new Timeline()): Timeline {
    const thresholdUs = this.lateThresholdMs * 1000;
    for (let i = 0; i < this.recvAt.n; i++) {
      const latenessUs = this.recvPhase.a[i] - this.streamT0[this.recvStream.a[i]];
      into.note(this.recvAt.a[i], latenessUs, latenessUs > thresholdUs ? legOf(this.recvTs.a[i]) : null);
    }
    return into;
  }

  /**
   * Frames sent from `countFromUs` (or, unknown, from the first frame that came back) whose RTP
   * timestamp never came back. A frame sent in the last moments before the sender stopped still
   * counts: the caller drains before hanging up.
   */
  private lossByTs(countFromUs: number | null): {expected: number; lost: number} {
    const back = new Set<number>();
    let firstBackSentUs = Infinity;
    for (let i = 0; i < this.recvTs.n; i++) {
      back.add(this.recvTs.a[i]);
      if (this.recvRtt.a[i] >= 0) firstBackSentUs = Math.min(firstBackSentUs, this.recvAt.a[i] - this.recvRtt.a[i]);
    }
    const from = countFromUs ?? firstBackSentUs;
    let expected = 0;
    let lost = 0;
    for (let i = 0; i < this.sentTs.n; i++) {
      if (this.sentAt.a[i] < from) continue;
      expected++;
      if (!back.has(this.sentTs.a[i])) lost++;
    }
    return {expected, lost};
  }

  /** Loss by the received stream's own sequence numbers (highest − lowest + 1 − distinct, per SSRC). */
  private lossBySeq(): {expected: number; lost: number} {
    const cur = this.ssrc === -1 ? 0 : this.seq.maxExt - this.seq.minExt + 1;
    const expected = this.foldedSeqExpected + cur;
    const distinct = this.foldedSeqDistinct + (this.ssrc === -1 ? 0 : this.seq.distinct);
    return {expected, lost: Math.max(0, expected - distinct)};
  }
}

/** Percentiles of a run's merged caller histogram, or null when it holds nothing. */
export function percentilesOrNull(h: LatencyHistogram): PercentilesMs | null {
  return h.count > 0 ? h.percentilesMs() : null;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
