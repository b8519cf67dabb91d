import {DeadlineMissCounter, PlayoutClock} from '../../src/rtp/deadline.js';
import {InterarrivalJitter} from '../../src/rtp/jitter.js';

describe('playout clock (docs/measurement.md)', () => {
  test('expected time follows the timestamp from the anchor', () => {
    const c = new PlayoutClock(8000);
    c.anchor(1, 160, 1_000_000);
    expect(c.expectedUs(160)).toBe(1_000_000);
    expect(c.expectedUs(320)).toBe(1_020_000);
    expect(c.latenessUs(480, 1_045_000)).toBe(5_000);
    expect(c.latenessUs(480, 1_035_000)).toBe(-5_000);
  });

  test('16 kHz clock for slin16', () => {
    const c = new PlayoutClock(16000);
    c.anchor(1, 320, 0);
    expect(c.expectedUs(640)).toBe(20_000);
  });

  test('timestamps wrapping at 2^32 keep the lateness exact', () => {
    const c = new PlayoutClock(8000);
    const ts0 = 0xffffff00; // 256 ticks before wrap
    c.anchor(7, ts0, 500_000);
    const ts = (ts0 + 160 * 10) >>> 0; // wrapped
    expect(ts).toBeLessThan(ts0);
    expect(c.expectedUs(ts)).toBe(700_000);
    expect(c.latenessUs(ts, 703_000)).toBe(3_000);
  });

  test('a new SSRC re-anchors, the same SSRC does not', () => {
    const c = new PlayoutClock(8000);
    expect(c.anchor(1, 160, 0)).toBe(true);
    expect(c.anchor(1, 9999, 50_000)).toBe(false);
    expect(c.anchor(2, 5000, 100_000)).toBe(true);
    expect(c.expectedUs(5160)).toBe(120_000);
  });
});

describe('deadline misses', () => {
  test('synthetic stream: exact lateness, misses and max consecutive misses', () => {
    // 20 packets due every 20 ms from t0; arrival = due + delay[i] (ms).
    const delaysMs = [1, 2, 25, 30, 21, 3, 19, 20, 20.001, 22, 1, 40, 41, 42, 43, 2, 0, 0, 50, 1];
    const clock = new PlayoutClock(8000);
    const misses = new DeadlineMissCounter(20);
    const t0 = 10_000_000;
    clock.anchor(99, 160, t0);
    const lateness: number[] = [];
    delaysMs.forEach((d, i) => {
      const ts = 160 + i * 160;
      const tRecv = t0 + i * 20_000 + d * 1000;
      const l = clock.latenessUs(ts, tRecv);
      lateness.push(l);
      misses.record(l, 1000 + i);
    });
    expect(lateness.map((l) => Math.round(l) / 1000)).toEqual(delaysMs);
    // > 20 ms misses: 25, 30, 21, 20.001, 22, 40, 41, 42, 43, 50 → 10; exactly 20 is on time.
    expect(misses.late).toBe(10);
    // runs: [25,30,21]=3, [20.001,22]=2, [40,41,42,43]=4, [50]=1
    expect(misses.maxRun).toBe(4);
  });

  test('runs are in sequence order whatever the arrival order; on-time or missing ends a run', () => {
    const m = new DeadlineMissCounter(20);
    m.record(30_000, 10);
    m.record(30_000, 12); // 11 not here yet: two runs of 1
    expect(m.maxRun).toBe(1);
    m.record(30_000, 11); // joins them: 10-11-12
    expect(m.maxRun).toBe(3);
    m.record(0, 13); // on time
    m.record(30_000, 14);
    expect(m.maxRun).toBe(3);
    m.record(30_000, 9); // extends 10-12 at the left
    expect(m.maxRun).toBe(4);
    m.record(30_000, 16); // 15 lost: separate run
    expect(m.maxRun).toBe(4);
    expect(m.late).toBe(6);
  });
});

describe('RFC 3550 interarrival jitter', () => {
  test('a perfectly paced stream has zero jitter', () => {
    const j = new InterarrivalJitter(8000);
    for (let i = 0; i < 100; i++) j.update(i * 20_000, 160 + i * 160);
    expect(j.jitterMs).toBeCloseTo(0, 9);
  });

  test('alternating ±2 ms converges to 4 ms (|D| = 4 ms each step)', () => {
    const j = new InterarrivalJitter(8000);
    for (let i = 0; i < 2000; i++) j.update(i * 20_000 + (i % 2 ? 2000 : -2000), i * 160);
    expect(j.jitterMs).toBeCloseTo(4, 3);
  });

  test('one 10 ms step from a clean stream: J = 10/16 ms after it', () => {
    const j = new InterarrivalJitter(8000);
    j.update(0, 0);
    j.update(20_000, 160);
    j.update(50_000, 320); // 10 ms late
    expect(j.jitterMs).toBeCloseTo(10 / 16, 9);
  });

  test('timestamp wrap does not produce a jitter spike', () => {
    const j = new InterarrivalJitter(8000);
    const ts0 = 0xfffffc00;
    for (let i = 0; i < 20; i++) j.update(i * 20_000, (ts0 + i * 160) >>> 0);
    expect(j.jitterMs).toBeCloseTo(0, 6);
  });
});
