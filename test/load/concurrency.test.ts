import {peakConcurrency} from '../../src/load/concurrency.js';
import {newRunId} from '../../src/load/run.js';

describe('peak concurrency (measured from call intervals)', () => {
  test('all overlapping', () => {
    expect(peakConcurrency([{startMs: 0, endMs: 100}, {startMs: 10, endMs: 90}, {startMs: 20, endMs: 200}])).toBe(3);
  });
  test('back-to-back calls do not overlap', () => {
    expect(peakConcurrency([{startMs: 0, endMs: 100}, {startMs: 100, endMs: 200}, {startMs: 200, endMs: 300}])).toBe(1);
  });
  test('delay × count longer than duration: fewer calls overlap', () => {
    // 30 calls of 1 s every 100 ms → at most 10 up at once
    const iv = Array.from({length: 30}, (_, i) => ({startMs: i * 100, endMs: i * 100 + 1000}));
    expect(peakConcurrency(iv)).toBe(10);
  });
  test('empty and degenerate intervals', () => {
    expect(peakConcurrency([])).toBe(0);
    expect(peakConcurrency([{startMs: 5, endMs: 5}])).toBe(0);
  });
  test('run ids are file-name safe and distinct', () => {
    const a = newRunId(new Date('2026-11-22T04:14:55Z'));
    expect(a).toMatch(/^20261122-041455-[0-9a-f]{4}$/);
    expect(newRunId()).not.toBe(newRunId());
  });
});
