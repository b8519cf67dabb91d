import {seqDiff} from './clock.js';

/**
 * Bitmap window of extended sequence numbers: 4096 packets (82 s of 20 ms packets, 512 bytes per
 * stream), far more than the MAX_MISORDER a packet may lag behind the highest.
 */
const WINDOW = 4096;
/** Extended numbers start one full 16-bit cycle up, so packets reordered before the first stay positive. */
const EXT_START = 65536;
/** RFC 3550 A.1: the largest forward jump accepted as a gap (packets lost in between). */
export const MAX_DROPOUT = 3000;
/** RFC 3550 A.1: the furthest behind the highest a packet may be and still count as reordered or duplicate. */
export const MAX_MISORDER = 100;

/** What a sequence number turned out to be, relative to what the tracker had seen. */
export const enum SeqVerdict {
  /** First time seen, at or beyond the highest so far (gaps before it are possible). */
  InOrder = 0,
  /** First time seen, but below the highest so far (arrived out of order). */
  Reordered = 1,
  /** Seen before (within the window). */
  Duplicate = 2,
  /**
   * RFC 3550 A.1 "very large jump": more than MAX_DROPOUT ahead or MAX_MISORDER behind the
   * highest. Ignored (a forged or stray packet must not count as thousands lost) unless the next
   * packet follows it, in which case the stream restarted there (resync, see `track`).
   */
  OutOfRange = 3,
}

/**
 * Extended sequence numbers across 16-bit wrap with RFC 3550 A.1's validity rules: a jump of
 * fewer than MAX_DROPOUT ahead is in order (the gap is loss), up to MAX_MISORDER behind is
 * reordered or duplicate, anything else is out of range and ignored, unless the packet right
 * after it follows it (seq + 1): then the sender restarted its numbering and the tracker resyncs,
 * continuing its extended numbers without counting the jump as loss. Per-stream distinct/
 * duplicate/reordering accounting with a 4096-bit window (512 bytes per stream, allocated once).
 */
export class SequenceTracker {
  private readonly seen = new Uint32Array(WINDOW / 32);
  private started = false;
  private maxSeq = 0;
  /** Highest extended sequence number seen. */
  maxExt = 0;
  /** Lowest extended sequence number seen. */
  minExt = 0;
  /** Extended sequence number of the most recent packet (valid after `track`). */
  lastExt = 0;
  distinct = 0;
  duplicates = 0;
  reordered = 0;
  /** Packets ignored as out of range (RFC 3550 A.1 very large jumps that were not a restart). */
  outOfRange = 0;
  /** Times the numbering restarted (two consecutive packets after a very large jump). */
  resyncs = 0;
  /** seq + 1 of the last out-of-range packet (-1: none): the packet that would confirm a restart. */
  private badSeq = -1;

  /** Extended value `seq` would get, without recording it. */
  extend(seq: number): number {
    return this.started ? this.maxExt + seqDiff(seq, this.maxSeq) : seq;
  }

  track(seq: number): SeqVerdict {
    if (!this.started) {
      this.started = true;
      this.maxSeq = seq;
      // Start at one full cycle so reordered packets before the first stay non-negative.
      this.maxExt = this.minExt = this.lastExt = seq + EXT_START;
      this.setBit(this.maxExt);
      this.distinct = 1;
      return SeqVerdict.InOrder;
    }
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (udelta >= MAX_DROPOUT && udelta <= 65536 - MAX_MISORDER) {
      if (seq !== this.badSeq) {
        // a very large jump: ignored unless the next packet follows it
        this.badSeq = (seq + 1) & 0xffff;
        this.outOfRange++;
        this.lastExt = this.maxExt + seqDiff(seq, this.maxSeq);
        return SeqVerdict.OutOfRange;
      }
      // two sequential packets after the jump: the sender restarted; continue right after the highest
      this.resyncs++;
      this.badSeq = -1;
      const ext = this.maxExt + 1;
      this.lastExt = ext;
      this.maxExt = ext;
      this.maxSeq = seq;
      this.setBit(ext);
      this.distinct++;
      return SeqVerdict.InOrder;
    }
    this.badSeq = -1;
    const ext = this.maxExt + seqDiff(seq, this.maxSeq);
    this.lastExt = ext;
    if (ext > this.maxExt) {
      this.clearRange(this.maxExt + 1, ext);
      this.maxExt = ext;
      this.maxSeq = seq;
      this.setBit(ext);
      this.distinct++;
      return SeqVerdict.InOrder;
    }
    if (this.getBit(ext)) {
      this.duplicates++;
      return SeqVerdict.Duplicate;
    }
    this.setBit(ext);
    this.distinct++;
    this.reordered++;
    if (ext < this.minExt) this.minExt = ext;
    return SeqVerdict.Reordered;
  }

  /** Number of sequence numbers between lowest and highest seen, inclusive. */
  get expected(): number {
    return this.started ? this.maxExt - this.minExt + 1 : 0;
  }

  /** Sequence numbers in [lowest, highest] never seen (gaps). */
  get gaps(): number {
    return this.expected - this.distinct;
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** True when extended seq `ext` was seen (false when outside the window). */
  has(ext: number): boolean {
    return this.started && ext <= this.maxExt && ext > this.maxExt - WINDOW && this.getBit(ext);
  }

  reset(): void {
    this.seen.fill(0);
    this.started = false;
    this.maxSeq = this.maxExt = this.minExt = this.lastExt = 0;
    this.distinct = this.duplicates = this.reordered = this.outOfRange = this.resyncs = 0;
    this.badSeq = -1;
  }

  private setBit(ext: number): void {
    const i = ext & (WINDOW - 1);
    this.seen[i >>> 5] |= 1 << (i & 31);
  }

  private getBit(ext: number): boolean {
    const i = ext & (WINDOW - 1);
    return (this.seen[i >>> 5] & (1 << (i & 31))) !== 0;
  }

  private clearRange(fromExt: number, toExt: number): void {
    if (toExt - fromExt + 1 >= WINDOW) {
      this.seen.fill(0);
      return;
    }
    for (let e = fromExt; e <= toExt; e++) {
      const i = e & (WINDOW - 1);
      this.seen[i >>> 5] &= ~(1 << (i & 31));
    }
  }
}
