/** Monotonic time in microseconds (fractional), from performance.now(); no allocation. */
export function nowUs(): number {
  return performance.now() * 1000;
}

/** Signed difference a − b of two 32-bit unsigned RTP timestamps (handles wrap at 2^32). */
export function tsDiff(a: number, b: number): number {
  return ((a - b) | 0);
}

/** Signed difference a − b of two 16-bit sequence numbers (handles wrap at 2^16). */
export function seqDiff(a: number, b: number): number {
  return ((((a - b) & 0xffff) << 16) >> 16);
}
