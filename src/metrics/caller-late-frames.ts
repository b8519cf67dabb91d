/**
 * The relay's late back frames of one call, kept for the caller-side join on RTP timestamp
 * (serve's record `lateFrames`, docs/measurement.md "At the caller"): the timestamp of each and the
 * leg that contributed most (`a` Asterisk up, `r` relay, `m` media server). At most LATE_FRAMES_MAX
 * are kept (then `truncated`); the columns are allocated on the first late frame, so a call that is
 * never late costs nothing, and noting a frame allocates nothing.
 */
import {LATE_FRAMES_MAX} from '../protocol/serve-api.js';

export type LateLeg = 'a' | 'r' | 'm';

const LEG_CODES: Readonly<Record<LateLeg, number>> = {a: 97, r: 114, m: 109};

export class LateFrameLog {
  private ts: Uint32Array | null = null;
  private legs: Uint8Array | null = null;
  private n = 0;
  truncated = false;

  constructor(private readonly max = LATE_FRAMES_MAX) {}

  note(ts: number, leg: LateLeg): void {
    if (this.n >= this.max) {
      this.truncated = true;
      return;
    }
    this.ts ??= new Uint32Array(this.max);
    this.legs ??= new Uint8Array(this.max);
    this.ts[this.n] = ts >>> 0;
    this.legs[this.n] = LEG_CODES[leg];
    this.n++;
  }

  get count(): number {
    return this.n;
  }

  /** The record's `lateFrames`. */
  toRecord(): {ts: number[]; leg: string; truncated: boolean} {
    if (this.ts === null || this.legs === null) return {ts: [], leg: '', truncated: this.truncated};
    return {ts: Array.from(this.ts.subarray(0, this.n)), leg: Buffer.from(this.legs.subarray(0, this.n)).toString('latin1'), truncated: this.truncated};
  }
}
