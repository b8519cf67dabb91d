import hdr from 'hdr-histogram-js';
import type {Histogram} from 'hdr-histogram-js';

/** Largest value a histogram tracks: 60 s in µs. Larger values are clamped (and show as max). */
export const HISTOGRAM_MAX_US = 60_000_000;
export const HISTOGRAM_SIGNIFICANT_DIGITS = 3;

import type {PercentilesMs} from '../protocol/report.js';

export type {PercentilesMs} from '../protocol/report.js';

/** Range of a per-call histogram: 2^21 µs ≈ 2.1 s (≈ 48 KiB of counts); larger values clamp to it. */
export const PER_CALL_HISTOGRAM_MAX_US = 2_097_152;

/** p50/p95/p99/p99.9/max plus how many values they summarise (the unit is in the field's name). */
export type PercentilesWithCount = PercentilesMs & {count: number};

/**
 * The parts of hdr-histogram-js's counts array this module walks (present on its JS
 * implementation, not in its typings). Only this file reaches into them.
 */
interface HdrCounts {
  countsArrayLength: number;
  getCountAtIndex(i: number): number;
  valueFromIndex(i: number): number;
  highestEquivalentValue(v: number): number;
}

function countsOf(h: Histogram): HdrCounts {
  return h as unknown as HdrCounts;
}

/** The parts of hdr-histogram-js's JS implementation that recordUs's integer fast path uses. */
interface HdrRecordInternals {
  unitMagnitude: number;
  subBucketHalfCountMagnitude: number;
  subBucketHalfCount: number;
  countsArrayLength: number;
  incrementCountAtIndex(i: number): void;
  updateMinAndMax(v: number): void;
  incrementTotalCount(): void;
}

/**
 * The internals for the fast path, or null where this histogram is not the plain JS
 * implementation with unit magnitude 0 (lowestDiscernibleValue 1) that the path assumes.
 */
function recordInternalsOf(h: Histogram): HdrRecordInternals | null {
  const x = h as unknown as Partial<HdrRecordInternals>;
  return x.unitMagnitude === 0 &&
    typeof x.subBucketHalfCountMagnitude === 'number' &&
    typeof x.subBucketHalfCount === 'number' &&
    typeof x.incrementCountAtIndex === 'function' &&
    typeof x.updateMinAndMax === 'function' &&
    typeof x.incrementTotalCount === 'function'
    ? (x as HdrRecordInternals)
    : null;
}

/** The report's percentiles, in the order percentilesUs() fills them. */
const PERCENTILES = [50, 95, 99, 99.9] as const;
const PERCENTILE_KEYS = ['p50', 'p95', 'p99', 'p999'] as const;

/** The count a percentile falls on, exactly as HdrHistogram's getValueAtPercentile rounds it. */
function countAtPercentile(p: number, total: number): number {
  const fp = (p / 100) * total;
  return Math.max(Math.ceil(fp - 2 ** (Math.floor(Math.log2(fp)) - 52)), 1);
}

/**
 * A µs latency histogram (HdrHistogram, 3 significant digits, 32-bit counts in a plain array:
 * recording is an index computation and an increment). Values below 0 are recorded as 0 (early
 * is on time) and above `maxUs` as `maxUs`; the exact largest value is kept beside the counts,
 * so `maxUs()` is exact even for clamped values or a histogram merged from others.
 *
 * Not HdrHistogram's "packed" storage: it is small, but recording into it costs microseconds
 * and merging one costs milliseconds (measured: 1.3 µs/record, 6.8 ms/merge vs 0.3 µs and
 * 0.25 ms), which stalled serve's event loop by hundreds of ms when calls ended together.
 */
export class LatencyHistogram {
  readonly h: Histogram;
  private exactMaxUs = 0;
  /**
   * Sum of the recorded values (µs), kept as they are recorded so Prometheus' `_sum` costs
   * nothing per scrape (HdrHistogram's `mean` walks every bucket). A histogram decoded from
   * base64 starts from its mean × count, computed once.
   */
  sumUs = 0;

  constructor(maxUs: number = HISTOGRAM_MAX_US, from?: Histogram) {
    this.h =
      from ??
      hdr.build({
        bitBucketSize: 32,
        numberOfSignificantValueDigits: HISTOGRAM_SIGNIFICANT_DIGITS,
        lowestDiscernibleValue: 1,
        highestTrackableValue: maxUs,
        autoResize: false,
        useWebAssembly: false,
      });
    this.limitUs = this.h.highestTrackableValue;
    this.fast = this.limitUs < 2 ** 31 ? recordInternalsOf(this.h) : null;
    if (this.fast !== null) {
      this.halfMag = this.fast.subBucketHalfCountMagnitude;
      this.halfCount = this.fast.subBucketHalfCount;
    }
    if (from) {
      this.exactMaxUs = from.totalCount === 0 ? 0 : from.maxValue;
      this.sumUs = from.totalCount === 0 ? 0 : from.mean * from.totalCount;
    }
  }

  private readonly limitUs: number;
  /** hdr-histogram-js's own record path, minus its Math.pow/Math.log2 index computation. */
  private readonly fast: HdrRecordInternals | null;
  private readonly halfMag: number = 0;
  private readonly halfCount: number = 0;

  /** A per-call histogram (range PER_CALL_HISTOGRAM_MAX_US). */
  static perCall(): LatencyHistogram {
    return new LatencyHistogram(PER_CALL_HISTOGRAM_MAX_US);
  }

  /**
   * A per-stream histogram for the sim: 2 significant digits in a plain 32-bit array (≈10 KiB,
   * recording is an array increment), for 50 000 values a second; run-wide ones keep 3 digits.
   */
  static perStream(): LatencyHistogram {
    return new LatencyHistogram(
      HISTOGRAM_MAX_US,
      hdr.build({
        bitBucketSize: 32,
        numberOfSignificantValueDigits: 2,
        lowestDiscernibleValue: 1,
        highestTrackableValue: HISTOGRAM_MAX_US,
        autoResize: false,
        useWebAssembly: false,
      }),
    );
  }

  /** Bytes of the counts array (32-bit counts). */
  get countsBytes(): number {
    return countsOf(this.h).countsArrayLength * 4;
  }

  recordUs(valueUs: number): void {
    const v = valueUs <= 0 ? 0 : Math.round(valueUs);
    if (v > this.exactMaxUs) this.exactMaxUs = v;
    this.sumUs += v;
    const x = v >= this.limitUs ? this.limitUs : v;
    const f = this.fast;
    if (f === null) {
      this.h.recordValue(x);
      return;
    }
    // HdrHistogram's counts index in integer arithmetic (x < 2^31, unit magnitude 0): bucket =
    // max(floor(log2 x) − halfMag, 0), sub-bucket = x >> bucket, index = (bucket + 1) << halfMag
    // + sub-bucket − halfCount. The same index hdr-histogram-js computes with pow/log2.
    const b = 31 - Math.clz32(x) - this.halfMag;
    const bucket = b > 0 ? b : 0;
    f.incrementCountAtIndex(((bucket + 1) << this.halfMag) + (x >>> bucket) - this.halfCount);
    f.updateMinAndMax(x);
    f.incrementTotalCount();
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** Adds all counts of `other` into this histogram. */
  merge(other: LatencyHistogram): void {
    this.h.add(other.h);
    this.sumUs += other.sumUs;
    if (other.exactMaxUs > this.exactMaxUs) this.exactMaxUs = other.exactMaxUs;
  }

  /**
   * Takes the counts of `earlier` (an older copy of this same histogram) out of this one: what
   * was recorded in between. The max is then the top of the highest bucket left (within 0.1 %).
   */
  subtract(earlier: LatencyHistogram): void {
    this.h.subtract(earlier.h);
    this.sumUs -= earlier.sumUs;
    this.exactMaxUs = this.h.totalCount === 0 ? 0 : this.h.maxValue;
  }

  percentileUs(p: number): number {
    return this.h.totalCount === 0 ? 0 : this.h.getValueAtPercentile(p);
  }

  maxUs(): number {
    return this.h.totalCount === 0 ? 0 : this.exactMaxUs;
  }

  /**
   * p50/p95/p99/p99.9 (as getValueAtPercentile gives them) and the exact max in µs, with the
   * count, in one walk over the counts.
   */
  percentilesUs(): PercentilesWithCount {
    const total = this.h.totalCount;
    const out: PercentilesWithCount = {count: total, p50: 0, p95: 0, p99: 0, p999: 0, max: this.maxUs()};
    if (total === 0) return out;
    const h = countsOf(this.h);
    let k = 0;
    let target = countAtPercentile(PERCENTILES[0], total);
    let cum = 0;
    for (let i = 0; i < h.countsArrayLength && k < PERCENTILES.length; i++) {
      const n = h.getCountAtIndex(i);
      if (n === 0) continue;
      cum += n;
      while (k < PERCENTILES.length && cum >= target) {
        out[PERCENTILE_KEYS[k++]] = h.highestEquivalentValue(h.valueFromIndex(i));
        if (k < PERCENTILES.length) target = countAtPercentile(PERCENTILES[k], total);
      }
    }
    return out;
  }

  /** p50/p95/p99/p99.9/max in milliseconds (µs precision). */
  percentilesMs(): PercentilesMs {
    const p = this.percentilesUs();
    return {p50: usToMs(p.p50), p95: usToMs(p.p95), p99: usToMs(p.p99), p999: usToMs(p.p999), max: usToMs(p.max)};
  }

  /** Compressed base64 (the HdrHistogram interchange format, readable by other HDR libraries). */
  toBase64(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  /**
   * `exactMaxUs`: the exact largest value, carried beside the text by whoever encoded it (the
   * encoding keeps only the top of the max's bucket, up to 0.1 % high).
   */
  static fromBase64(text: string, exactMaxUs?: number): LatencyHistogram {
    const h = new LatencyHistogram(HISTOGRAM_MAX_US, hdr.decodeFromCompressedBase64(text, 32, false));
    if (exactMaxUs !== undefined && h.count > 0) h.exactMaxUs = exactMaxUs;
    return h;
  }

  reset(): void {
    this.h.reset();
    this.exactMaxUs = 0;
    this.sumUs = 0;
  }

  /**
   * Cumulative counts of recorded values ≤ each bound (µs, ascending), for Prometheus
   * `_bucket{le=…}` lines. Walks the counts array once.
   */
  cumulativeCountsUs(boundsUs: readonly number[]): number[] {
    const out = new Array<number>(boundsUs.length).fill(0);
    const h = countsOf(this.h);
    let b = 0;
    let cum = 0;
    for (let i = 0; i < h.countsArrayLength && cum < this.h.totalCount; i++) {
      const n = h.getCountAtIndex(i);
      if (n === 0) continue;
      const v = h.valueFromIndex(i);
      while (b < boundsUs.length && v > boundsUs[b]) out[b++] = cum;
      cum += n;
    }
    while (b < boundsUs.length) out[b++] = cum;
    return out;
  }
}

export function usToMs(us: number): number {
  return Math.round(us) / 1000;
}
