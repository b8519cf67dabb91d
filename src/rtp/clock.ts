/** Monotonic time in microseconds (fractional), from performance.now(); no allocation. */
export function nowUs(): number {
  return performance.now() * 1000;
}

/** Signed difference a − b of two 32-bit unsigned RTP timestamps (handles wrap at 2^32). */
export function tsDiff(a: number, b: number): number {
  return ((a - b) | 0);
}

/**
 * The playout formula (docs/measurement.md): the time (µs) a packet with RTP timestamp `ts` is due on a
 * schedule anchored at (`t0Us`, `ts0`): t0 + (ts − ts0)/clock_rate, with the signed 32-bit
 * difference (timestamps wrap) and `usPerTick` = 1e6 / clock rate.
 */
export function playoutUs(t0Us: number, ts0: number, usPerTick: number, ts: number): number {
  return t0Us + tsDiff(ts, ts0) * usPerTick;
}

/** Signed difference a − b of two 16-bit sequence numbers (handles wrap at 2^16). */
export function seqDiff(a: number, b: number): number {
  return ((((a - b) & 0xffff) << 16) >> 16);
}
