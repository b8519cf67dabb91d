import {playoutUs} from './clock.js';

/**
 * The playout clock (docs/measurement.md): anchored at (t0, ts0) = receive time and RTP timestamp of
 * the first up packet of the current SSRC; a packet with timestamp ts is due at
 * t_expected(ts) = t0 + (ts − ts0)/clock_rate (signed 32-bit difference, so timestamps wrap).
 */
export class PlayoutClock {
  anchored = false;
  ssrc = 0;
  t0Us = 0;
  ts0 = 0;
  private readonly usPerTick: number;

  constructor(clockRateHz: number) {
    this.usPerTick = 1e6 / clockRateHz;
  }

  /** Anchor on a packet of `ssrc` received at `tRecvUs`; returns true if this (re-)anchored. */
  anchor(ssrc: number, timestamp: number, tRecvUs: number): boolean {
    if (this.anchored && ssrc === this.ssrc) return false;
    this.anchored = true;
    this.ssrc = ssrc;
    this.t0Us = tRecvUs;
    this.ts0 = timestamp;
    return true;
  }

  expectedUs(timestamp: number): number {
    return playoutUs(this.t0Us, this.ts0, this.usPerTick, timestamp);
  }

  /** t_recv − t_expected(ts), µs (negative = early). */
  latenessUs(timestamp: number, tRecvUs: number): number {
    return tRecvUs - this.expectedUs(timestamp);
  }

  reset(): void {
    this.anchored = false;
  }
}

const RUN_RING = 1024; // ≈ 20 s of 20 ms packets
const RUN_MASK = RUN_RING - 1;

/**
 * Deadline misses: a back packet misses when its lateness exceeds the threshold.
 * Consecutive misses are counted in sequence order of the back stream: a run is a stretch of
 * consecutive (extended) sequence numbers that all came back late, whatever order they arrived
 * in; a sequence number that is on time or never came back ends the run. Runs are kept as
 * lengths at their end points (union of neighbours on insert), so each packet costs O(1)
 * and the maximum is exact.
 */
export class DeadlineMissCounter {
  late = 0;
  maxRun = 0;
  private readonly thresholdUs: number;
  private readonly lateExt = new Int32Array(RUN_RING).fill(-1);
  private readonly runLen = new Int32Array(RUN_RING);

  constructor(lateThresholdMs: number) {
    this.thresholdUs = lateThresholdMs * 1000;
  }

  /** Record the first arrival of back packet `ext` (extended sequence). True when it missed. */
  record(latenessUs: number, ext: number): boolean {
    if (latenessUs <= this.thresholdUs) return false;
    this.late++;
    const left = this.lateExt[(ext - 1) & RUN_MASK] === ext - 1 ? this.runLen[(ext - 1) & RUN_MASK] : 0;
    const right = this.lateExt[(ext + 1) & RUN_MASK] === ext + 1 ? this.runLen[(ext + 1) & RUN_MASK] : 0;
    const total = left + 1 + right;
    this.lateExt[ext & RUN_MASK] = ext;
    this.runLen[ext & RUN_MASK] = total;
    this.runLen[(ext - left) & RUN_MASK] = total;
    this.runLen[(ext + right) & RUN_MASK] = total;
    if (total > this.maxRun) this.maxRun = total;
    return true;
  }

  reset(): void {
    this.lateExt.fill(-1);
  }
}
