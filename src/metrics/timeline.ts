/**
 * The timeline of a call (the report's `calls[].timeline`, docs/design.md "The HTML report"): per
 * bucket of time, the worst lateness of the frames received in it, how many were late and the leg
 * that dominated those late frames. Buckets lie on one grid for every process on the host: bucket
 * `k` of width `bucketMs` covers the wall-clock epoch ms [k·bucketMs, (k+1)·bucketMs), the time of
 * a frame being its process's monotonic µs (performance.now() base) plus performance.timeOrigin.
 * So serve's relay timeline, load's caller timeline and load's steal samples line up without any
 * exchange of clocks. Buckets are 1 s; when a series would hold more than TIMELINE_MAX_BUCKETS, its
 * width doubles (pairs merge: 2 s, 4 s, …), so a long call never has more than that many.
 *
 * Noting a frame allocates nothing except when it opens a new bucket (one slot per column).
 */
import type {CallTimeline, TimelineSeries} from '../protocol/report.js';

export type {CallTimeline, TimelineSeries} from '../protocol/report.js';

export const TIMELINE_BUCKET_MS = 1000;
export const TIMELINE_MAX_BUCKETS = 1800;

/** A late frame's leg: `a` Asterisk up, `r` the relay, `m` the media server, `b` Asterisk back (caller side only). */
export type TimelineLeg = 'a' | 'r' | 'm' | 'b';
/** Legs in path order (a tie goes to the earlier one); `-` marks a bucket without late frames. */
export const TIMELINE_LEGS: readonly TimelineLeg[] = ['a', 'r', 'm', 'b'];
export const NO_LEG = '-';

/** Epoch µs of this process's monotonic µs 0 (performance.now() base). */
export function epochOriginUs(): number {
  return performance.timeOrigin * 1000;
}

/** Columns of buckets on the epoch grid, widened by doubling (pairs merged with `merge`). */
class Buckets {
  bucketMs: number;
  first = 0;
  readonly cols: number[][];

  constructor(
    private readonly empty: readonly number[],
    private readonly merge: (col: number, a: number, b: number) => number,
    private readonly maxBuckets: number,
    baseMs: number,
  ) {
    this.bucketMs = baseMs;
    this.cols = empty.map(() => []);
  }

  get length(): number {
    return this.cols[0].length;
  }

  /** The slot of epoch ms `tMs` (opening buckets, widening when the span grows too long). */
  slot(tMs: number): number {
    for (;;) {
      const k = Math.floor(tMs / this.bucketMs);
      if (this.length === 0) this.first = k;
      const lo = Math.min(this.first, k);
      const hi = Math.max(this.first + this.length - 1, k);
      if (hi - lo + 1 > this.maxBuckets) {
        this.widen();
        continue;
      }
      while (k < this.first) {
        this.cols.forEach((c, i) => c.unshift(this.empty[i]));
        this.first--;
      }
      while (k >= this.first + this.length) this.cols.forEach((c, i) => c.push(this.empty[i]));
      return k - this.first;
    }
  }

  /** Double the width: bucket k goes to ⌊k/2⌋, pairs merged. */
  widen(): void {
    const first = Math.floor(this.first / 2);
    const n = this.length === 0 ? 0 : Math.floor((this.first + this.length - 1) / 2) - first + 1;
    this.cols.forEach((c, ci) => {
      const out = new Array<number>(n).fill(this.empty[ci]);
      for (let i = 0; i < c.length; i++) {
        const j = Math.floor((this.first + i) / 2) - first;
        out[j] = this.merge(ci, out[j], c[i]);
      }
      c.length = 0;
      c.push(...out);
    });
    this.first = first;
    this.bucketMs *= 2;
  }
}

const COL_WORST = 0;
const COL_LATE = 1;
const COL_LEG0 = 2;

/** The timeline of one side of one call (the relay's, or the caller's). */
export class Timeline {
  private readonly b: Buckets;

  constructor(
    /** Epoch µs of monotonic µs 0: this process's (default), or a test's. */
    private readonly originUs = epochOriginUs(),
    maxBuckets = TIMELINE_MAX_BUCKETS,
    baseMs = TIMELINE_BUCKET_MS,
  ) {
    this.b = new Buckets([-Infinity, 0, 0, 0, 0, 0], (col, a, b) => (col === COL_WORST ? Math.max(a, b) : a + b), maxBuckets, baseMs);
  }

  get bucketMs(): number {
    return this.b.bucketMs;
  }

  get length(): number {
    return this.b.length;
  }

  /** A frame received at monotonic `tUs` with lateness `latenessUs`; `leg`: the leg of a late frame, null: not late. */
  note(tUs: number, latenessUs: number, leg: TimelineLeg | null): void {
    const i = this.b.slot((this.originUs + tUs) / 1000);
    const c = this.b.cols;
    if (latenessUs > c[COL_WORST][i]) c[COL_WORST][i] = latenessUs;
    if (leg === null) return;
    c[COL_LATE][i]++;
    c[COL_LEG0 + TIMELINE_LEGS.indexOf(leg)][i]++;
  }

  /** Widen to `bucketMs` (a power-of-two multiple of the current width; a narrower one is ignored). */
  widenTo(bucketMs: number): void {
    while (this.b.bucketMs < bucketMs) this.b.widen();
  }

  /** The series as the report writes it (null: no frame was noted). */
  series(): TimelineSeries | null {
    if (this.b.length === 0) return null;
    const c = this.b.cols;
    const leg = c[COL_LATE].map((late, i) => (late === 0 ? NO_LEG : dominantLeg(TIMELINE_LEGS.map((_, l) => c[COL_LEG0 + l][i]))));
    return {
      first: this.b.first,
      worstMs: c[COL_WORST].map((us) => (us === -Infinity ? null : Math.round(us / 100) / 10)),
      late: [...c[COL_LATE]],
      leg: leg.join(''),
    };
  }
}

/** The leg with the most late frames; a tie goes to the earlier one on the path. */
function dominantLeg(counts: readonly number[]): TimelineLeg {
  let best = 0;
  for (let l = 1; l < counts.length; l++) if (counts[l] > counts[best]) best = l;
  return TIMELINE_LEGS[best];
}

/**
 * A series widened from `fromMs` to `toMs` buckets (a power-of-two multiple): worst of the worst,
 * late summed, and the leg of the merged bucket that had the most late frames (the per-leg counts
 * are not in the report; a tie goes to the earlier bucket).
 */
export function rebinSeries(s: TimelineSeries, fromMs: number, toMs: number): TimelineSeries {
  if (toMs <= fromMs) return s;
  const f = Math.round(toMs / fromMs);
  const first = Math.floor(s.first / f);
  const n = Math.floor((s.first + s.late.length - 1) / f) - first + 1;
  const worstMs = new Array<number | null>(n).fill(null);
  const late = new Array<number>(n).fill(0);
  const legs = new Array<string>(n).fill(NO_LEG);
  const legLate = new Array<number>(n).fill(0);
  for (let i = 0; i < s.late.length; i++) {
    const j = Math.floor((s.first + i) / f) - first;
    const w = s.worstMs[i];
    if (w !== null && (worstMs[j] === null || w > worstMs[j])) worstMs[j] = w;
    late[j] += s.late[i];
    if (s.late[i] > legLate[j]) {
      legLate[j] = s.late[i];
      legs[j] = s.leg.charAt(i);
    }
  }
  return {first, worstMs, late, leg: legs.join('')};
}

/** A call's timeline widened to `bucketMs` (both sides). */
export function rebinCallTimeline(t: CallTimeline, bucketMs: number): CallTimeline {
  if (bucketMs <= t.bucketMs) return t;
  return {
    ...t,
    bucketMs,
    ...(t.relay ? {relay: rebinSeries(t.relay, t.bucketMs, bucketMs)} : {}),
    ...(t.caller ? {caller: rebinSeries(t.caller, t.bucketMs, bucketMs)} : {}),
  };
}

/** A run-level sum per bucket on the same grid (load's steal samples), widened like a call's. */
export class SumTimeline {
  private readonly b: Buckets;

  constructor(maxBuckets = TIMELINE_MAX_BUCKETS, baseMs = TIMELINE_BUCKET_MS) {
    this.b = new Buckets([Number.NaN], (_col, a, b) => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : a + b), maxBuckets, baseMs);
  }

  get bucketMs(): number {
    return this.b.bucketMs;
  }

  get first(): number {
    return this.b.first;
  }

  get length(): number {
    return this.b.length;
  }

  /** Add `value` to the bucket of epoch ms `tMs` (NaN: unknown, counts for nothing). */
  add(tMs: number, value: number): void {
    const i = this.b.slot(tMs);
    const c = this.b.cols[0];
    if (!Number.isNaN(value)) c[i] = Number.isNaN(c[i]) ? value : c[i] + value;
  }

  widenTo(bucketMs: number): void {
    while (this.b.bucketMs < bucketMs) this.b.widen();
  }

  /** The sums, null where unknown, rounded to 0.1. */
  values(): Array<number | null> {
    return this.b.cols[0].map((v) => (Number.isNaN(v) ? null : Math.round(v * 10) / 10));
  }
}

/** The record's `timeline` of a relay's Timeline (undefined: no back packet was judged). */
export function relayCallTimeline(t: Timeline): CallTimeline | undefined {
  const relay = t.series();
  return relay === null ? undefined : {bucketMs: t.bucketMs, relay};
}
