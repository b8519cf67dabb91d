import hdr from 'hdr-histogram-js';
import type {Histogram} from 'hdr-histogram-js';

/** Largest value a histogram tracks: 60 s in µs. Larger values are clamped (and show as max). */
export const HISTOGRAM_MAX_US = 60_000_000;
export const HISTOGRAM_SIGNIFICANT_DIGITS = 3;

/** A type alias (not an interface) so it is assignable to the report's open (loose) objects. */
export type PercentilesMs = {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
};

/**
 * A µs latency histogram (HdrHistogram, 3 significant digits). Values below 0 are recorded
 * as 0 (early is on time) and above HISTOGRAM_MAX_US as the maximum. `packed` storage keeps a
 * per-call histogram at a few KiB instead of ~70 KiB, so 1000 calls fit comfortably in memory.
 */
export class LatencyHistogram {
  readonly h: Histogram;

  constructor(packed = true, from?: Histogram) {
    this.h =
      from ??
      hdr.build({
        bitBucketSize: packed ? 'packed' : 32,
        numberOfSignificantValueDigits: HISTOGRAM_SIGNIFICANT_DIGITS,
        lowestDiscernibleValue: 1,
        highestTrackableValue: HISTOGRAM_MAX_US,
        autoResize: false,
        useWebAssembly: false,
      });
  }

  recordUs(valueUs: number): void {
    const v = valueUs <= 0 ? 0 : valueUs >= HISTOGRAM_MAX_US ? HISTOGRAM_MAX_US : Math.round(valueUs);
    this.h.recordValue(v);
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** Adds all counts of `other` into this histogram. */
  merge(other: LatencyHistogram): void {
    this.h.add(other.h);
  }

  percentileUs(p: number): number {
    return this.h.totalCount === 0 ? 0 : this.h.getValueAtPercentile(p);
  }

  maxUs(): number {
    return this.h.totalCount === 0 ? 0 : this.h.maxValue;
  }

  /** p50/p95/p99/p99.9/max in milliseconds (µs precision). */
  percentilesMs(): PercentilesMs {
    return {
      p50: usToMs(this.percentileUs(50)),
      p95: usToMs(this.percentileUs(95)),
      p99: usToMs(this.percentileUs(99)),
      p999: usToMs(this.percentileUs(99.9)),
      max: usToMs(this.maxUs()),
    };
  }

  /** Compressed base64 (the HdrHistogram interchange format, readable by other HDR libraries). */
  toBase64(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  static fromBase64(text: string): LatencyHistogram {
    return new LatencyHistogram(false, hdr.decodeFromCompressedBase64(text, 32, false));
  }

  reset(): void {
    this.h.reset();
  }

  /**
   * Cumulative counts of recorded values ≤ each bound (µs, ascending), for Prometheus
   * `_bucket{le=…}` lines. Walks the counts array once.
   */
  cumulativeCountsUs(boundsUs: readonly number[]): number[] {
    const out = new Array<number>(boundsUs.length).fill(0);
    const h = this.h as unknown as {countsArrayLength: number; getCountAtIndex(i: number): number; valueFromIndex(i: number): number};
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
