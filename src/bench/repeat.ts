/**
 * `bench --repeat K`: one path at one N run K times, as one result. Every number of the result
 * is the median of the K runs, with min / median / max of each under `repeat.figures` (by its
 * JSON path, e.g. `roundTripMs.p99`); the SLA verdict passes only when every run passed.
 */
import type {PathResult, Spread} from './types.js';
import {round} from './window.js';

export function spread(values: readonly number[]): Spread {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  const median = v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return {min: v[0], median: round(median, 3), max: v[v.length - 1]};
}

type Json = null | boolean | number | string | Json[] | {[k: string]: Json};

/** The medians of `runs` (same shape as the first), collecting each number's spread under `figures`. */
function medianOf(runs: Json[], at: string, figures: Record<string, Spread>): Json {
  const first = runs[0];
  if (typeof first === 'number' || (first === null && runs.some((r) => typeof r === 'number'))) {
    const nums = runs.filter((r): r is number => typeof r === 'number');
    if (nums.length === 0) return first;
    const s = spread(nums);
    figures[at] = s;
    return s.median;
  }
  if (first === null || typeof first !== 'object' || Array.isArray(first)) return first;
  const out: {[k: string]: Json} = {};
  for (const k of Object.keys(first)) {
    const kids = runs.map((r) => (r !== null && typeof r === 'object' && !Array.isArray(r) ? (r[k] ?? null) : null));
    out[k] = medianOf(kids, at ? `${at}.${k}` : k, figures);
  }
  return out;
}

/** One result for K runs of a path (a single run is returned as it is). */
export function combineRuns(runs: readonly PathResult[]): PathResult {
  if (runs.length <= 1) return runs[0];
  const figures: Record<string, Spread> = {};
  const combined = medianOf(runs as unknown as Json[], '', figures) as unknown as PathResult;
  combined.window.steady = runs.every((r) => r.window.steady);
  combined.errors = [...new Set(runs.flatMap((r) => r.errors))].slice(0, 5);
  if (combined.relay) {
    const slas = runs.map((r) => r.relay?.sla).filter((x) => x !== undefined);
    combined.relay.sla = {...combined.relay.sla, pass: slas.every((x) => x.pass), failed: [...new Set(slas.flatMap((x) => x.failed))]};
    combined.relay.reportPath = runs.map((r) => r.relay?.reportPath ?? '').join(', ');
  }
  combined.repeat = {runs: runs.length, figures};
  return combined;
}
