/**
 * The back stream of a media server that sends its own stream (`serve --media-server stream`: a
 * voice bot, not an echo). Its packets match no up packet, so the stream is judged on its own: its
 * lateness against ITS OWN earliest phase (EarliestPhaseAnchor, the same rule and exact first
 * minute as the up stream's), loss by its own sequence numbers, RFC 3550 jitter. A new SSRC starts
 * a new stream (its own anchor); the ended one's counts are folded in. Values of a stream's first
 * minute are held (HeldBackPackets) and judged in sequence order when the window closes or the
 * call ends. Nothing is allocated per packet once the window closed.
 */
import {SequenceTracker, SeqVerdict} from '../rtp/sequence.js';
import {InterarrivalJitter} from '../rtp/jitter.js';
import {EarliestPhaseAnchor} from './earliest-phase.js';
import {HeldBackPackets} from './held-back.js';

/** Judges one back packet: its lateness against the stream's earliest phase (µs), extended sequence, receive time, RTP timestamp. */
export type OwnBackJudge = (latenessUs: number, ext: number, tRecvUs: number, ts: number) => void;

export class OwnBackStream {
  private anchor: EarliestPhaseAnchor;
  private readonly seq = new SequenceTracker();
  private readonly jitter: InterarrivalJitter;
  private readonly held = new HeldBackPackets();
  private ssrc = 0;
  private started = false;
  private foldedExpected = 0;
  private foldedDistinct = 0;
  private foldedDup = 0;
  private foldedRe = 0;
  private foldedOor = 0;
  private foldedResync = 0;
  ssrcChanges = 0;

  constructor(
    private readonly clockRateHz: number,
    private readonly exactWindowUs: number,
    private readonly judge: OwnBackJudge,
  ) {
    this.anchor = new EarliestPhaseAnchor(clockRateHz);
    this.jitter = new InterarrivalJitter(clockRateHz);
  }

  /** A back packet of the media server's own stream. */
  add(ssrc: number, seq: number, ts: number, tRecvUs: number): void {
    if (!this.started || ssrc !== this.ssrc) this.newStream(ssrc);
    const v = this.seq.track(seq);
    if (v === SeqVerdict.Duplicate || v === SeqVerdict.OutOfRange) return;
    this.jitter.update(tRecvUs, ts);
    const a = this.anchor;
    const phaseUs = a.phaseUs(tRecvUs, ts);
    if (!a.settled && a.pastWindow(tRecvUs, this.exactWindowUs)) this.settle();
    a.offer(phaseUs);
    const ext = this.seq.lastExt;
    if (a.settled) this.judge(phaseUs - a.t0Us, ext, tRecvUs, ts);
    else this.held.push(phaseUs, 0, 0, 0, ext, tRecvUs, ts);
  }

  /** The call ended: judge what is held. Idempotent. */
  finish(): void {
    if (this.started && !this.anchor.settled) this.settle();
  }

  get heldBytes(): number {
    return this.held.bytes;
  }

  /** Distinct packets of the stream(s). */
  get distinct(): number {
    return this.foldedDistinct + this.seq.distinct;
  }

  /** Sequence numbers expected (highest − lowest + 1, per SSRC, summed). */
  get expected(): number {
    return this.foldedExpected + this.seq.expected;
  }

  get duplicates(): number {
    return this.foldedDup + this.seq.duplicates;
  }

  get reordered(): number {
    return this.foldedRe + this.seq.reordered;
  }

  get outOfRange(): number {
    return this.foldedOor + this.seq.outOfRange;
  }

  get resyncs(): number {
    return this.foldedResync + this.seq.resyncs;
  }

  get jitterMs(): number {
    return this.jitter.jitterMs;
  }

  private settle(): void {
    const a = this.anchor;
    a.settled = true;
    const t0 = a.t0Us;
    this.held.drainInOrder((phaseUs, _u, _h, _r, ext, tRecvUs, ts) => this.judge(phaseUs - t0, ext, tRecvUs, ts));
  }

  private newStream(ssrc: number): void {
    if (this.started) {
      this.finish();
      this.ssrcChanges++;
      this.foldedExpected += this.seq.expected;
      this.foldedDistinct += this.seq.distinct;
      this.foldedDup += this.seq.duplicates;
      this.foldedRe += this.seq.reordered;
      this.foldedOor += this.seq.outOfRange;
      this.foldedResync += this.seq.resyncs;
      this.seq.reset();
      this.jitter.reset();
      this.anchor = new EarliestPhaseAnchor(this.clockRateHz);
    }
    this.started = true;
    this.ssrc = ssrc;
  }
}
