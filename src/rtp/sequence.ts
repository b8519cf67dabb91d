import {seqDiff} from './clock.js';

/**
 * Bitmap window of extended sequence numbers: 4096 packets (82 s of 20 ms packets, 512 bytes per
 * stream). A packet further behind the highest than that is "too old" and ignored.
 */
const WINDOW = 4096;
/** Extended numbers start one full 16-bit cycle up, so packets reordered before the first stay positive. */
const EXT_START = 65536;

/** What a sequence number turned out to be, relative to what the tracker had seen. */
export const enum SeqVerdict {
  /** First time seen, at or beyond the highest so far (gaps before it are possible). */
  InOrder = 0,
  /** First time seen, but below the highest so far (arrived out of order). */
  Reordered = 1,
  /** Seen before (within the window). */
  Duplicate = 2,
  /** Older than the whole window: cannot be classified, ignored. */
  TooOld = 3,
}

/**
 * Extended sequence numbers across 16-bit wrap (RFC 3550 A.1, with signed 16-bit
 * distance so reordering of up to 32767 is tolerated), and per-stream distinct/duplicate/
 * reordering accounting with a 4096-bit window (512 bytes per stream, allocated once).
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
  tooOld = 0;

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
    if (ext <= this.maxExt - WINDOW) {
      this.tooOld++;
      return SeqVerdict.TooOld;
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
    this.distinct = this.duplicates = this.reordered = this.tooOld = 0;
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
