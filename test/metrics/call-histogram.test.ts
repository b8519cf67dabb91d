import {CALL_HISTOGRAM_LIST_MAX, CallLatencyHistogram} from '../../src/metrics/call-histogram.js';
import {LatencyHistogram, PER_CALL_HISTOGRAM_MAX_US} from '../../src/metrics/histogram.js';
import {prng} from '../helpers/report-builder.js';

/** Feeds the same values to a CallLatencyHistogram and a dense per-call LatencyHistogram. */
function feedBoth(values: number[]): {call: CallLatencyHistogram; dense: LatencyHistogram} {
  const call = new CallLatencyHistogram();
  const dense = LatencyHistogram.perCall();
  for (const v of values) {
    call.recordUs(v);
    dense.recordUs(v);
  }
  return {call, dense};
}

function latencies(n: number, seed: number): number[] {
  const rand = prng(seed);
  // mostly sub-ms, a tail to tens of ms, some early (negative) and a few beyond the per-call range
  return Array.from({length: n}, () => {
    const r = rand();
    if (r < 0.05) return -rand() * 3000;
    if (r < 0.001 + 0.05) return PER_CALL_HISTOGRAM_MAX_US * (1 + rand());
    return rand() * (rand() < 0.02 ? 40_000 : 1500);
  });
}

describe('CallLatencyHistogram', () => {
  test('a short call answers exactly as a dense per-call histogram and stays small', () => {
    const values = latencies(1500, 1); // a 30 s call
    const {call, dense} = feedBoth(values);
    expect(call.isDense).toBe(false);
    expect(call.count).toBe(dense.count);
    expect(call.percentilesMs()).toEqual(dense.percentilesMs());
    expect(call.maxUs()).toBe(dense.maxUs());
    expect(call.storageBytes).toBeLessThanOrEqual(2048 * 4);
  });

  test('a long call switches to the dense histogram and still answers exactly', () => {
    const values = latencies(CALL_HISTOGRAM_LIST_MAX * 2 + 17, 2);
    const {call, dense} = feedBoth(values);
    expect(call.isDense).toBe(true);
    expect(call.count).toBe(dense.count);
    expect(call.percentilesMs()).toEqual(dense.percentilesMs());
    expect(call.maxUs()).toBe(dense.maxUs());
  });

  test('the switch happens before the list would outgrow the dense counts', () => {
    const call = new CallLatencyHistogram();
    let maxBytes = 0;
    for (let i = 0; i < CALL_HISTOGRAM_LIST_MAX + 1; i++) {
      call.recordUs(i % 5000);
      if (!call.isDense) maxBytes = Math.max(maxBytes, call.storageBytes);
    }
    expect(call.isDense).toBe(true);
    expect(maxBytes).toBeLessThan(call.storageBytes);
  });

  test('reading one call does not disturb another (shared scratch)', () => {
    const a = feedBoth(latencies(800, 3));
    const b = feedBoth(latencies(900, 4));
    expect(a.call.percentilesMs()).toEqual(a.dense.percentilesMs());
    expect(b.call.percentilesMs()).toEqual(b.dense.percentilesMs());
    expect(a.call.percentilesMs()).toEqual(a.dense.percentilesMs());
  });

  test('empty and reset give zeros; values above the range keep their exact max', () => {
    const h = new CallLatencyHistogram();
    expect(h.percentilesMs()).toEqual({p50: 0, p95: 0, p99: 0, p999: 0, max: 0});
    h.recordUs(5_000_000);
    expect(h.percentilesMs().max).toBe(5000);
    const dense = LatencyHistogram.perCall();
    dense.recordUs(5_000_000);
    expect(h.percentilesMs()).toEqual(dense.percentilesMs()); // clamped into the top bucket (≈ 2.1 s)
    expect(h.percentilesMs().p50).toBeLessThan(PER_CALL_HISTOGRAM_MAX_US / 1000 + 5);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.percentilesMs().max).toBe(0);
  });
});
