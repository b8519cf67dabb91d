import {LatencyHistogram, usToMs} from '../../src/metrics/histogram.js';
import {mergeHistograms} from '../../src/metrics/summary.js';
import {prng} from '../helpers/report-builder.js';

describe('LatencyHistogram merge', () => {
  test('percentiles of merged per-call histograms equal one histogram fed every value', () => {
    const rand = prng(42);
    const all = new LatencyHistogram();
    const perCall: LatencyHistogram[] = [];
    for (let c = 0; c < 12; c++) {
      const h = new LatencyHistogram();
      // Each call has its own distribution, so averaging per-call percentiles would be wrong.
      const scale = 500 + c * 2000;
      const n = 200 + Math.floor(rand() * 800);
      for (let i = 0; i < n; i++) {
        const v = Math.floor(rand() * scale * (rand() < 0.01 ? 20 : 1));
        h.recordUs(v);
        all.recordUs(v);
      }
      perCall.push(h);
    }
    const merged = mergeHistograms(perCall);
    expect(merged.count).toBe(all.count);
    expect(merged.percentilesMs()).toEqual(all.percentilesMs());
    for (const p of [1, 10, 25, 50, 75, 90, 99, 99.9, 100]) expect(merged.percentileUs(p)).toBe(all.percentileUs(p));

    const averagedP99 = perCall.reduce((s, h) => s + h.percentileUs(99), 0) / perCall.length;
    expect(Math.abs(averagedP99 - merged.percentileUs(99))).toBeGreaterThan(1000);
  });

  test('merging empty histograms gives zeros, not NaN', () => {
    const merged = mergeHistograms([new LatencyHistogram(), new LatencyHistogram()]);
    expect(merged.count).toBe(0);
    expect(merged.percentilesMs()).toEqual({p50: 0, p95: 0, p99: 0, p999: 0, max: 0});
  });
});

describe('LatencyHistogram base64', () => {
  test('round trip preserves count and percentiles', () => {
    const rand = prng(7);
    const h = new LatencyHistogram();
    for (let i = 0; i < 5000; i++) h.recordUs(Math.floor(rand() * 40_000));
    h.recordUs(123_456);
    const back = LatencyHistogram.fromBase64(h.toBase64());
    expect(back.count).toBe(h.count);
    const {max: maxBack, ...pBack} = back.percentilesMs();
    const {max: maxOrig, ...pOrig} = h.percentilesMs();
    expect(pBack).toEqual(pOrig);
    for (const p of [0.1, 5, 50, 90, 99.99, 100]) expect(back.percentileUs(p)).toBe(h.percentileUs(p));
    // The encoding keeps buckets, not the exact max: a decoded max is its bucket's upper edge
    // (within HDR's 3 significant digits), never below the true max.
    expect(maxBack).toBeGreaterThanOrEqual(maxOrig);
    expect(maxBack - maxOrig).toBeLessThanOrEqual(maxOrig / 1000);
    expect(h.toBase64()).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
  });

  test('a decoded run histogram can be merged with live ones', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) a.recordUs(i * 100);
    for (let i = 1; i <= 100; i++) b.recordUs(i * 300);
    const merged = mergeHistograms([LatencyHistogram.fromBase64(a.toBase64()), b]);
    expect(merged.count).toBe(200);
    expect(merged.maxUs()).toBe(b.maxUs());
  });

  test('values are clamped: negative → 0, beyond the range → max', () => {
    const h = new LatencyHistogram();
    h.recordUs(-500);
    h.recordUs(10 ** 12);
    expect(h.count).toBe(2);
    expect(h.percentileUs(1)).toBe(0);
    expect(usToMs(h.maxUs())).toBeGreaterThanOrEqual(59_000);
  });
});

describe('LatencyHistogram.cumulativeCountsUs', () => {
  test('counts values ≤ each bound, matching a brute-force count', () => {
    const rand = prng(99);
    const h = new LatencyHistogram();
    const values: number[] = [];
    for (let i = 0; i < 3000; i++) {
      // integers below 2048 are stored exactly at 3 significant digits
      const v = Math.floor(rand() * 2000);
      values.push(v);
      h.recordUs(v);
    }
    const bounds = [0, 1, 10, 100, 250, 500, 1000, 1500, 1999, 5000];
    const expected = bounds.map((b) => values.filter((v) => v <= b).length);
    expect(h.cumulativeCountsUs(bounds)).toEqual(expected);
  });

  test('bounds below every value give 0 and above every value give the total', () => {
    const h = new LatencyHistogram();
    for (const v of [5000, 6000, 7000]) h.recordUs(v);
    expect(h.cumulativeCountsUs([1000, 5000, 6500, 100_000])).toEqual([0, 1, 2, 3]);
    expect(new LatencyHistogram().cumulativeCountsUs([1, 2])).toEqual([0, 0]);
  });
});

describe('Prometheus histogram _sum', () => {
  test('is the exact running sum, and a scrape never walks the buckets for a mean', async () => {
    const {renderPrometheus} = await import('../../src/metrics/prometheus.js');
    const h = new LatencyHistogram();
    for (const us of [1000, 2500, 20_000, 123_456]) h.recordUs(us);
    Object.defineProperty(h.h, 'mean', {get: () => { throw new Error('mean computed during a scrape'); }});
    const text = renderPrometheus([], [{name: 'x_seconds', help: 'x', histogram: h}]);
    expect(text).toContain('x_seconds_sum 0.146956\n');
    expect(text).toContain('x_seconds_count 4\n');
  });
});

describe('LatencyHistogram.percentilesUs (the one percentile walk)', () => {
  test.each([
    ['3 digits', () => new LatencyHistogram()],
    ['per call', () => LatencyHistogram.perCall()],
    ['per stream (2 digits)', () => LatencyHistogram.perStream()],
  ])('%s: p50/p95/p99/p99.9 are what getValueAtPercentile gives, max exact, with the count', (_name, make) => {
    const rand = prng(7);
    for (const n of [1, 2, 3, 7, 20, 100, 1000, 1001, 5000]) {
      const h = make();
      let max = 0;
      for (let i = 0; i < n; i++) {
        const v = Math.floor(rand() * (rand() < 0.02 ? 900_000 : 25_000));
        max = Math.max(max, v);
        h.recordUs(v);
      }
      const p = h.percentilesUs();
      expect(p).toEqual({count: n, p50: h.h.getValueAtPercentile(50), p95: h.h.getValueAtPercentile(95), p99: h.h.getValueAtPercentile(99), p999: h.h.getValueAtPercentile(99.9), max});
      expect(h.percentilesMs()).toEqual({p50: usToMs(p.p50), p95: usToMs(p.p95), p99: usToMs(p.p99), p999: usToMs(p.p999), max: usToMs(max)});
    }
  });

  test('an empty histogram gives zeros and count 0', () => {
    expect(LatencyHistogram.perStream().percentilesUs()).toEqual({count: 0, p50: 0, p95: 0, p99: 0, p999: 0, max: 0});
  });

  test('a per-stream histogram is coarser (2 digits) and smaller than the 3-digit one', () => {
    const coarse = LatencyHistogram.perStream();
    const fine = new LatencyHistogram();
    coarse.recordUs(123_456);
    fine.recordUs(123_456);
    expect(coarse.countsBytes).toBeLessThan(fine.countsBytes);
    expect(coarse.percentilesUs().p50).not.toBe(fine.percentilesUs().p50);
    expect(Math.abs(coarse.percentilesUs().p50 - 123_456) / 123_456).toBeLessThan(0.01);
  });
});

describe('LatencyHistogram.recordUs (integer index fast path)', () => {
  test.each([
    ['run-wide', () => new LatencyHistogram()],
    ['per call', () => LatencyHistogram.perCall()],
    ['per stream', () => LatencyHistogram.perStream()],
  ])('%s: counts, total, min and max are those of hdr-histogram-js recordValue', (_name, make) => {
    const fast = make();
    const reference = make();
    const rand = prng(11);
    const values: number[] = [0, 1, 2, 3, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 65535, 65536, 2_097_151, 2_097_152, 59_999_999, 60_000_000];
    for (let k = 0; k < 26; k++) values.push(2 ** k - 1, 2 ** k, 2 ** k + 1);
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(rand() * 2 ** Math.floor(rand() * 27)));
    for (const v of values) {
      fast.recordUs(v);
      // the reference goes through the library's own record path, with the same clamping
      reference.h.recordValue(Math.min(v, reference.h.highestTrackableValue));
    }
    expect(fast.h.totalCount).toBe(values.length);
    expect(fast.h.totalCount).toBe(reference.h.totalCount);
    expect(fast.h.maxValue).toBe(reference.h.maxValue);
    expect(fast.h.minNonZeroValue).toBe(reference.h.minNonZeroValue);
    expect(fast.toBase64()).toBe(reference.toBase64());
    expect(fast.cumulativeCountsUs([10, 100, 1000, 10_000, 100_000, 1_000_000])).toEqual(
      reference.cumulativeCountsUs([10, 100, 1000, 10_000, 100_000, 1_000_000]),
    );
  });
});

describe('LatencyHistogram subtract', () => {
  test('a later copy minus an earlier one is exactly what was recorded in between: counts, percentiles, sum and max', () => {
    const live = new LatencyHistogram();
    for (let v = 1; v <= 100; v++) live.recordUs(5000 + v); // before: 5.001–5.1 ms
    const earlier = LatencyHistogram.fromBase64(live.toBase64());
    const between = new LatencyHistogram();
    for (let v = 1; v <= 1000; v++) {
      live.recordUs(v);
      between.recordUs(v);
    }
    const later = LatencyHistogram.fromBase64(live.toBase64());
    later.subtract(earlier);
    expect(later.count).toBe(1000);
    for (const p of [50, 99, 99.9]) expect(later.percentileUs(p)).toBe(between.percentileUs(p));
    expect(later.maxUs()).toBe(1000);
    expect(Math.round(later.sumUs)).toBe(Math.round(between.sumUs));
    later.subtract(LatencyHistogram.fromBase64(later.toBase64()));
    expect([later.count, later.maxUs(), later.percentileUs(99)]).toEqual([0, 0, 0]);
  });
});
