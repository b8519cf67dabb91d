/** A call's [startMs, endMs] on one clock (epoch ms). */
export interface CallInterval {
  startMs: number;
  endMs: number;
}

/**
 * The most intervals overlapping at any instant (sweep line). An interval ending exactly when
 * another starts does not overlap it.
 */
export function peakConcurrency(intervals: readonly CallInterval[]): number {
  const events: Array<[number, number]> = [];
  for (const iv of intervals) {
    if (!(iv.endMs > iv.startMs)) continue;
    events.push([iv.startMs, 1], [iv.endMs, -1]);
  }
  // ends before starts at the same instant
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let peak = 0;
  for (const [, d] of events) {
    cur += d;
    if (cur > peak) peak = cur;
  }
  return peak;
}
