import {readFileSync} from 'node:fs';
import {HostStallWatch, MAX_STALL_EVENTS, clockTicksPerSec, hostStealUs} from '../../src/metrics/host.js';
import {waitUntil} from '../helpers/wait.js';

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

  test('on the real clock, an event loop blocked for 80 ms is seen as one stall that spans the block', async () => {
    // the watch's own clock, so the block is timed on the same origin as the events
    let originMs: number | undefined;
    const now = () => {
      const t = performance.now();
      originMs ??= t;
      return t;
    };
    const watch = new HostStallWatch(5, 10, now);
    watch.start();
    try {
      await new Promise((r) => setTimeout(r, 20)); // a few ticks on time
      const blockStart = performance.now() - originMs!;
      const blockEnd = blockStart + 80;
      while (performance.now() - originMs! < blockEnd) {
        // the process does not get to its timers
      }
      // the first tick after the block sees it: a stall that began at or before the block's start
      // (its last tick) and was seen at or after its end (events are rounded to 0.1 ms). Other
      // stalls of a busy machine may come and go; this one must be among them.
      const spans = (e: {atMs: number; stallMs: number}) => e.atMs >= blockEnd - 0.1 && e.atMs - e.stallMs - watch.tickMs <= blockStart + 0.2;
      const seen = await waitUntil('a stall spanning the 80 ms block', () => watch.summary().events.find(spans), {timeoutMs: 5000});
      expect(seen.stallMs).toBeGreaterThanOrEqual(80 - watch.tickMs - 0.1);
    } finally {
      watch.stop();
    }
  });
});
