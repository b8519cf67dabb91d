import {readFileSync} from 'node:fs';
import {HostStallWatch, MAX_STALL_EVENTS, clockTicksPerSec, hostStealUs} from '../../src/metrics/host.js';

describe('hostStealUs', () => {
  test('reads the steal column of /proc/stat in µs, never going backwards', () => {
    const a = hostStealUs();
    const ticks = Number(readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/)[8]);
    const b = hostStealUs();
    expect(a).not.toBeNull();
    expect(b!).toBeGreaterThanOrEqual(a!);
    // the reading between a and b: a ≤ ticks (in µs) ≤ b
    const us = (ticks * 1e6) / clockTicksPerSec();
    expect(us).toBeGreaterThanOrEqual(a!);
    expect(us).toBeLessThanOrEqual(b!);
  });

  test('clock ticks per second is the kernel USER_HZ (100 on Linux)', () => {
    expect(clockTicksPerSec()).toBe(100);
  });
});

describe('HostStallWatch', () => {
  /** A watch on a clock the test moves: tick every 5 ms, stalls from 10 ms. */
  function driven() {
    let now = 1000;
    const watch = new HostStallWatch(5, 10, () => now);
    watch.start();
    watch.stop(); // the test drives the ticks itself
    return {watch, after: (ms: number) => ((now += ms), watch.tick())};
  }

  test('ticks on time are no stall; a tick late by the threshold or more is one, timed from the start', () => {
    const {watch, after} = driven();
    for (let i = 0; i < 100; i++) after(5);
    after(5 + 9.9); // 9.9 ms late: under the threshold
    expect(watch.summary()).toEqual({thresholdMs: 10, count: 0, totalMs: 0, maxMs: 0, events: []});
    after(5 + 10); // ends at 500 + 14.9 + 15
    after(5);
    after(5 + 32.26);
    expect(watch.summary()).toEqual({
      thresholdMs: 10,
      count: 2,
      totalMs: 42.3,
      maxMs: 32.3,
      events: [
        {atMs: 529.9, stallMs: 10},
        {atMs: 572.2, stallMs: 32.3},
      ],
    });
  });

  test('keeps the first MAX_STALL_EVENTS stalls with their time and counts all of them', () => {
    const {watch, after} = driven();
    for (let i = 0; i < MAX_STALL_EVENTS + 50; i++) after(5 + 10 + (i % 7));
    const s = watch.summary();
    expect(s.count).toBe(MAX_STALL_EVENTS + 50);
    expect(s.events).toHaveLength(MAX_STALL_EVENTS);
    expect(s.events[0]).toEqual({atMs: 15, stallMs: 10});
    expect(s.maxMs).toBe(16);
    expect(s.totalMs).toBeCloseTo(Array.from({length: MAX_STALL_EVENTS + 50}, (_, i) => 10 + (i % 7)).reduce((a, b) => a + b, 0), 5);
  });

  test('on the real clock, an event loop blocked for 80 ms is seen as one stall of at least 75 ms', async () => {
    const watch = new HostStallWatch(5, 10);
    watch.start();
    const t0 = performance.now(); // at or after the watch's own start
    await new Promise((r) => setTimeout(r, 30));
    const until = performance.now() + 80;
    while (performance.now() < until) {
      // the process does not get to its timers
    }
    await new Promise((r) => setTimeout(r, 30));
    watch.stop();
    const s = watch.summary();
    expect(s.count).toBeGreaterThanOrEqual(1);
    expect(s.maxMs).toBeGreaterThanOrEqual(75);
    const longest = s.events.find((e) => e.stallMs === s.maxMs)!;
    // it was seen once the block had ended (a timer of 30 ms may fire at 29.6 ms of performance
    // time, so the bound is the block's measured end, not 30 + 80; atMs is rounded to 0.1 ms)
    expect(longest.atMs).toBeGreaterThanOrEqual(until - t0 - 0.05);
    expect(until - t0).toBeGreaterThanOrEqual(80);
  });
});
