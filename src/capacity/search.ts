/**
 * The capacity search, as a pure unit: the largest SLA-clean call count, found by judging call
 * counts one after the other. It steps up (30, 60, 120, 240 … doubling, `max` tried itself),
 * then bisects between the last PASS and the first FAIL until they are within the resolution.
 *
 * Near the edge a PASS counts only when the same N passes twice in a row: the lower bound is
 * judged again before it is trusted, and a PASS in the bisection is judged again at once. A
 * noisy PASS-FAIL-PASS therefore does not raise the result. The search stops at the first step
 * that leaks or fails calls (the target is no longer the one the earlier steps measured), and
 * never judges above `max`. It knows nothing of load or sla: `judge(N)` runs and judges a step.
 */

/** How one step was judged. */
export interface StepVerdict {
  pass: boolean;
  /** The invariant that limited a FAIL (e.g. `lateRatio@caller`), with its detail. */
  limiting?: string;
  /** Something was left behind after the step (or the leak check could not be made). */
  leaked?: boolean;
  /** Calls of the step that failed. */
  failedCalls?: number;
}

export type Judge = (n: number) => Promise<StepVerdict>;

/** `step-up`: doubling; `bisect`: between the last PASS and the first FAIL; `confirm`: the same N again. */
export type StepPhase = 'step-up' | 'bisect' | 'confirm';

export interface SearchStep {
  n: number;
  phase: StepPhase;
  verdict: StepVerdict;
}

/** Calls, or a percentage of the last PASS (e.g. 5 %). */
export type Resolution = {calls: number} | {percent: number};

export type StopReason = 'resolution' | 'max' | 'leak' | 'failed-calls' | 'interrupted';

export interface SearchOptions {
  /** The first N (default 30, the smallest SLA level). */
  start?: number;
  /** The largest N judged (tried itself). */
  max: number;
  resolution: Resolution;
  signal?: AbortSignal;
  onStep?: (step: SearchStep) => void;
  /** Called before each step (the caller's settle time, progress). */
  beforeStep?: (n: number, phase: StepPhase) => void | Promise<void>;
}

export interface SearchResult {
  /** The largest N that passed (twice in a row, unless `confirmed` is false); null when none did. */
  largest: number | null;
  /** False when the search stopped (leak, failed calls, Ctrl-C) before `largest` was judged a second time. */
  confirmed: boolean;
  /** The smallest N known to fail above `largest`, and why (null when none failed). */
  firstFail: {n: number; limiting: string | null} | null;
  steps: SearchStep[];
  stoppedBy: StopReason;
}

export const DEFAULT_START = 30;

/** The gap (calls) within which the search is done, at lower bound `lo` and upper bound `hi`. */
export function resolutionCalls(r: Resolution, lo: number, hi: number): number {
  if ('calls' in r) return Math.max(1, r.calls);
  const base = lo > 0 ? lo : hi;
  return Math.max(1, Math.floor((base * r.percent) / 100));
}

/** `5` → {calls: 5}; `5%` → {percent: 5}; null when it is neither. */
export function parseResolution(text: string): Resolution | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  if (!m) return null;
  const v = Number(m[1]);
  if (m[2] === '%') return v > 0 && v < 100 ? {percent: v} : null;
  return Number.isInteger(v) && v >= 1 ? {calls: v} : null;
}

class Stop extends Error {
  constructor(readonly reason: StopReason) {
    super(reason);
  }
}

/** The search's state: every pass seen (with whether it was confirmed) and the first FAIL above them. */
class SearchState {
  readonly steps: SearchStep[] = [];
  /** N → confirmed, for every N whose last judgement was a PASS. */
  readonly passes = new Map<number, boolean>();
  fail: {n: number; limiting: string | null} | null = null;

  constructor(
    private readonly judge: Judge,
    private readonly o: SearchOptions,
  ) {}

  async step(n: number, phase: StepPhase): Promise<StepVerdict> {
    if (this.o.signal?.aborted) throw new Stop('interrupted');
    await this.o.beforeStep?.(n, phase);
    if (this.o.signal?.aborted) throw new Stop('interrupted');
    let verdict: StepVerdict;
    try {
      verdict = await this.judge(n);
    } catch (err) {
      if (this.o.signal?.aborted) throw new Stop('interrupted');
      throw err;
    }
    const s = {n, phase, verdict};
    this.steps.push(s);
    this.o.onStep?.(s);
    // an interrupted step is listed, but says nothing about N
    if (this.o.signal?.aborted) throw new Stop('interrupted');
    if (!verdict.pass) this.failAt(n, verdict.limiting ?? null);
    if (verdict.leaked) throw new Stop('leak');
    if ((verdict.failedCalls ?? 0) > 0) throw new Stop('failed-calls');
    return verdict;
  }

  failAt(n: number, limiting: string | null): void {
    this.passes.delete(n);
    for (const p of [...this.passes.keys()]) if (p > n) this.passes.delete(p);
    if (this.fail === null || n <= this.fail.n) this.fail = {n, limiting};
  }

  /** A PASS that counts: judged again at once when it was not yet confirmed. */
  async confirmedPass(n: number, phase: StepPhase): Promise<boolean> {
    if (!(await this.step(n, phase)).pass) return false;
    this.passes.set(n, false);
    if (!(await this.step(n, 'confirm')).pass) return false;
    this.passes.set(n, true);
    return true;
  }

  /** The largest PASS below the first FAIL, confirmed (judging it again, falling back to smaller ones). */
  async confirmedLowerBound(): Promise<number> {
    for (;;) {
      const lo = this.lowerBound();
      if (lo === 0 || this.passes.get(lo) === true) return lo;
      if ((await this.step(lo, 'confirm')).pass) this.passes.set(lo, true);
    }
  }

  lowerBound(): number {
    const below = [...this.passes.keys()].filter((p) => this.fail === null || p < this.fail.n);
    return below.length ? Math.max(...below) : 0;
  }

  result(stoppedBy: StopReason): SearchResult {
    const lo = this.lowerBound();
    return {
      largest: lo === 0 ? null : lo,
      confirmed: lo === 0 ? true : this.passes.get(lo) === true,
      firstFail: this.fail,
      steps: this.steps,
      stoppedBy,
    };
  }
}

/** Step up from `start`, doubling, until a FAIL or `max` (a PASS at `max` is judged again). */
async function stepUp(st: SearchState, o: SearchOptions): Promise<'max' | 'fail'> {
  let n = Math.min(o.start ?? DEFAULT_START, o.max);
  for (;;) {
    if (n === o.max) return (await st.confirmedPass(n, 'step-up')) ? 'max' : 'fail';
    if (!(await st.step(n, 'step-up')).pass) return 'fail';
    st.passes.set(n, false);
    n = Math.min(n * 2, o.max);
  }
}

/** Bisect between the confirmed lower bound and the first FAIL until the gap is within the resolution. */
async function bisect(st: SearchState, o: SearchOptions): Promise<void> {
  for (;;) {
    const lo = await st.confirmedLowerBound();
    const hi = st.fail!.n;
    if (hi - lo <= Math.max(1, resolutionCalls(o.resolution, lo, hi))) return;
    await st.confirmedPass(Math.floor((lo + hi) / 2), 'bisect');
  }
}

/**
 * The largest N that `judge` passes, within the resolution of the first N that fails. Steps are
 * judged one at a time, in order; `onStep` sees each as it is judged.
 */
export async function searchCapacity(judge: Judge, o: SearchOptions): Promise<SearchResult> {
  if (!(o.max >= 1)) throw new RangeError('max must be at least 1');
  const st = new SearchState(judge, o);
  try {
    if ((await stepUp(st, o)) === 'max') return st.result('max');
    await bisect(st, o);
    return st.result('resolution');
  } catch (err) {
    if (err instanceof Stop) return st.result(err.reason);
    throw err;
  }
}
