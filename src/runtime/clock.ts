/**
 * An injectable clock and timer for the schedulers that pace media (the sim's Node media engine,
 * the echo's housekeeping): production code uses `realClock` (performance.now() µs and
 * setTimeout); tests use `DrivenClock`, whose time moves only when the test says so, so pacing
 * is asserted as exact due times instead of wall-clock spans.
 */
import {nowUs} from '../rtp/clock.js';

/** A pending timer; `unref()` lets the process exit while it waits (a no-op on a driven clock). */
export interface ClockTimer {
  unref(): unknown;
}

export interface Clock {
  /** Monotonic time, µs (fractional). */
  nowUs(): number;
  /** Call `cb` once, `delayMs` from now. */
  setTimer(cb: () => void, delayMs: number): ClockTimer;
  clearTimer(timer: ClockTimer): void;
}

/** performance.now() and setTimeout. */
export const realClock: Clock = {
  nowUs,
  setTimer: (cb, delayMs) => setTimeout(cb, delayMs),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

class DrivenTimer implements ClockTimer {
  constructor(
    readonly atUs: number,
    readonly order: number,
    readonly cb: () => void,
  ) {}

  unref(): this {
    return this;
  }
}

/**
 * A clock for tests: `advanceMs`/`advanceUs` move time forward and fire every timer that falls
 * due on the way, each at exactly its due time, in due order (timers set by a callback fire too
 * if they fall within the step). `stallMs` moves time forward without firing anything, like an
 * event loop blocked by other work: the overdue timers fire, late, on the next advance.
 */
export class DrivenClock implements Clock {
  private tUs: number;
  private order = 0;
  private readonly timers = new Set<DrivenTimer>();

  constructor(startUs = 1_000_000) {
    this.tUs = startUs;
  }

  nowUs(): number {
    return this.tUs;
  }

  setTimer(cb: () => void, delayMs: number): ClockTimer {
    const t = new DrivenTimer(this.tUs + Math.max(0, delayMs) * 1000, this.order++, cb);
    this.timers.add(t);
    return t;
  }

  clearTimer(timer: ClockTimer): void {
    this.timers.delete(timer as DrivenTimer);
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Due time (µs) of the earliest pending timer, or undefined. */
  nextTimerAtUs(): number | undefined {
    return this.next()?.atUs;
  }

  advanceMs(ms: number): void {
    this.advanceUs(ms * 1000);
  }

  /** Move time forward by `us`, firing each timer due by then at its due time (overdue ones at once). */
  advanceUs(us: number): void {
    const endUs = this.tUs + us;
    for (let t = this.next(); t !== undefined && t.atUs <= endUs; t = this.next()) {
      this.timers.delete(t);
      if (t.atUs > this.tUs) this.tUs = t.atUs;
      t.cb();
    }
    this.tUs = endUs;
  }

  /** Move time forward by `ms` without firing timers (a stalled event loop). */
  stallMs(ms: number): void {
    this.tUs += ms * 1000;
  }

  private next(): DrivenTimer | undefined {
    let best: DrivenTimer | undefined;
    for (const t of this.timers) if (best === undefined || t.atUs < best.atUs || (t.atUs === best.atUs && t.order < best.order)) best = t;
    return best;
  }
}
