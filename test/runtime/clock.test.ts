import {describe, expect, it} from '@jest/globals';
import {DrivenClock, realClock} from '../../src/runtime/clock.js';

describe('DrivenClock', () => {
  it('moves only when advanced, and fires each timer at exactly its due time, in due order', () => {
    const clock = new DrivenClock(5_000);
    const fired: Array<[string, number]> = [];
    clock.setTimer(() => fired.push(['b', clock.nowUs()]), 2.5);
    clock.setTimer(() => fired.push(['a', clock.nowUs()]), 1);
    clock.setTimer(() => fired.push(['a2', clock.nowUs()]), 1);
    expect(clock.nowUs()).toBe(5_000);
    expect(clock.nextTimerAtUs()).toBe(6_000);
    clock.advanceMs(2);
    expect(fired).toEqual([['a', 6_000], ['a2', 6_000]]);
    expect(clock.nowUs()).toBe(7_000);
    clock.advanceUs(500);
    expect(fired.at(-1)).toEqual(['b', 7_500]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires a timer set by a callback within the same step; a cleared one never fires', () => {
    const clock = new DrivenClock(0);
    const at: number[] = [];
    const tick = (): void => {
      at.push(clock.nowUs());
      if (at.length < 3) clock.setTimer(tick, 20);
    };
    clock.setTimer(tick, 20);
    const never = clock.setTimer(() => at.push(-1), 30);
    clock.clearTimer(never);
    clock.advanceMs(100);
    expect(at).toEqual([20_000, 40_000, 60_000]);
  });

  it('a stall moves time without firing; the overdue timer fires late, at the time the loop gets back', () => {
    const clock = new DrivenClock(0);
    const at: number[] = [];
    clock.setTimer(() => at.push(clock.nowUs()), 10);
    clock.stallMs(50);
    expect(at).toEqual([]);
    clock.advanceUs(0);
    expect(at).toEqual([50_000]);
  });
});

describe('realClock', () => {
  it('is monotonic µs and its timers run and can be cleared', async () => {
    const a = realClock.nowUs();
    let cleared = false;
    const t = realClock.setTimer(() => (cleared = true), 1);
    realClock.clearTimer(t);
    await new Promise<void>((resolve) => realClock.setTimer(resolve, 1));
    expect(realClock.nowUs()).toBeGreaterThan(a);
    expect(cleared).toBe(false);
  });
});
