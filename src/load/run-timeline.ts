/**
 * The run's timeline (the report's `timeline` and every call's, docs/design.md "The HTML report"):
 * load samples the machine's CPU steal once per bucket while it holds the calls, on the same epoch
 * grid as the relay's and the caller's timelines (src/metrics/timeline.ts); after the run every
 * call's timeline (the relay's from serve's record, the caller's from load's meter) is brought to
 * the run's bucket width, the widest any series needed.
 */
import {hostStealUs} from '../metrics/host.js';
import {rebinCallTimeline, SumTimeline, type Timeline} from '../metrics/timeline.js';
import type {CallRecord, CallTimeline, RunTimeline} from '../protocol/report.js';

function epochNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** CPU steal of the host, summed per bucket: one /proc/stat read at each bucket boundary. */
export class StealSampler {
  readonly steal = new SumTimeline();
  private timer: NodeJS.Timeout | undefined;
  private lastUs: number | null = null;
  private lastMs = 0;

  constructor(
    private readonly readStealUs: () => number | null = hostStealUs,
    private readonly nowMs: () => number = epochNowMs,
  ) {}

  start(): void {
    this.lastMs = this.nowMs();
    this.lastUs = this.readStealUs();
    // the run's first bucket exists from the start, even before its first sample
    this.steal.add(this.lastMs, Number.NaN);
    this.arm();
  }

  private arm(): void {
    const w = this.steal.bucketMs;
    const delay = w - (this.nowMs() % w) + 1;
    this.timer = setTimeout(() => {
      this.sample();
      this.arm();
    }, delay);
    this.timer.unref();
  }

  /** Steal since the last sample, into the bucket of the interval's middle (public for tests). */
  sample(): void {
    const now = this.nowMs();
    const us = this.readStealUs();
    const value = us === null || this.lastUs === null ? Number.NaN : Math.max(0, us - this.lastUs) / 1000;
    this.steal.add((now + this.lastMs) / 2, value);
    this.lastMs = now;
    this.lastUs = us;
  }

  /** Stops sampling after a last sample. */
  stop(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.sample();
  }
}

/**
 * Every call's timeline at the run's width (the caller's side joined in from `callerTimelines`),
 * and the run's timeline. Mutates `calls`.
 */
export function attachTimelines(calls: CallRecord[], callerTimelines: ReadonlyMap<number, Timeline> | null, steal: SumTimeline): RunTimeline {
  let bucketMs = steal.bucketMs;
  for (const r of calls) bucketMs = Math.max(bucketMs, r.timeline?.bucketMs ?? 0, callerTimelines?.get(r.index)?.bucketMs ?? 0);
  steal.widenTo(bucketMs);
  for (const r of calls) {
    const caller = callerTimelines?.get(r.index);
    caller?.widenTo(bucketMs);
    const callerSeries = caller?.series() ?? null;
    let t: CallTimeline | undefined = r.timeline ? rebinCallTimeline(r.timeline, bucketMs) : undefined;
    if (callerSeries !== null) t = {...(t ?? {}), bucketMs, caller: callerSeries};
    if (t === undefined) delete r.timeline;
    else r.timeline = t;
  }
  return {bucketMs, first: steal.first, stealMs: steal.values()};
}
