/**
 * Lateness against the earliest phase of a received stream (RFC 5481 packet delay variation):
 * per packet φ = tRecv − (ts − tsRef)/clockRate (tsRef: the stream's first timestamp, a signed
 * 32-bit difference so timestamps wrap), t0 = min φ over the stream, lateness = φ − t0 ≥ 0. A new
 * SSRC starts a new stream. Computed after the call over the values held for it, so every figure
 * is exact for the final anchor.
 */
import {tsDiff} from '../rtp/clock.js';

export interface PhaseLateness {
  /** Lateness of packet i, µs (≥ 0). */
  latenessUs: Float64Array;
  /** φ(first packet) − t0 of the first stream, µs (0: no packet). */
  anchorShiftUs: number;
  /** Streams (SSRCs) seen. */
  streams: number;
}

/** `ssrc`, `ts`, `tRecvUs`: the first `n` received packets in arrival order. */
export function earliestPhaseLateness(ssrc: ArrayLike<number>, ts: ArrayLike<number>, tRecvUs: ArrayLike<number>, n: number, clockRateHz: number): PhaseLateness {
  const usPerTick = 1e6 / clockRateHz;
  const phase = new Float64Array(n);
  const latenessUs = new Float64Array(n);
  let anchorShiftUs = 0;
  let streams = 0;
  let start = 0;
  while (start < n) {
    // one stream: packets start … end−1 of the same SSRC
    let end = start;
    const tsRef = ts[start];
    let t0 = Infinity;
    while (end < n && ssrc[end] === ssrc[start]) {
      phase[end] = tRecvUs[end] - tsDiff(ts[end], tsRef) * usPerTick;
      if (phase[end] < t0) t0 = phase[end];
      end++;
    }
    for (let i = start; i < end; i++) latenessUs[i] = phase[i] - t0;
    if (streams === 0) anchorShiftUs = phase[start] - t0;
    streams++;
    start = end;
  }
  return {latenessUs, anchorShiftUs, streams};
}
