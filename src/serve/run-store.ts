import {timingSafeEqual} from 'node:crypto';
import {LatencyHistogram} from '../metrics/histogram.js';
import type {RunRecords, ServeCallRecord} from '../protocol/serve-api.js';

/** The live histograms of one run, recorded into by its calls' meters. */
export interface RunHistograms {
  lateness: LatencyHistogram;
  rtt: LatencyHistogram;
  upLateness: LatencyHistogram;
  relayHold: LatencyHistogram;
}

/** Four empty histograms. */
export function newRunHistograms(): RunHistograms {
  return {lateness: new LatencyHistogram(), rtt: new LatencyHistogram(), upLateness: new LatencyHistogram(), relayHold: new LatencyHistogram()};
}

/** Adds every count of `from` into `into`. */
export function mergeRunHistograms(into: RunHistograms, from: RunHistograms): void {
  into.lateness.merge(from.lateness);
  into.rtt.merge(from.rtt);
  into.upLateness.merge(from.upLateness);
  into.relayHold.merge(from.relayHold);
}

interface RunEntry extends RunHistograms {
  /** The run's token from its calls' appArgs (the first one seen); null: none given. */
  token: string | null;
  calls: ServeCallRecord[];
  touchedAtMs: number;
}

/**
 * Per-run call records for `load` (GET /runs/:runId): kept until fetched with consume, or
 * for `ttlMs` after the last change, and at most `maxRuns` runs (oldest dropped first). A run
 * with a call still live (`liveRuns`) is neither expired nor evicted: its calls' meters record
 * into its histograms until they end. `onDrop` receives the histograms of every run that leaves
 * the store (serve's ledger keeps their counts in its own totals).
 */
export class RunStore {
  private readonly runs = new Map<string, RunEntry>();
  /** Told of every run that leaves the store, with its histograms. */
  onDrop: (runId: string, h: RunHistograms) => void = () => undefined;
  /** The runs with a call still live (serve's ledger knows them). */
  liveRuns: () => ReadonlySet<string> = () => new Set();

  constructor(
    private readonly ttlMs = 3_600_000,
    private readonly maxRuns = 200,
  ) {}

  /** The histograms of every run in the store. */
  *histogramSets(): IterableIterator<RunHistograms> {
    yield* this.runs.values();
  }

  /** The run's histograms, created on first use: its calls' meters record into them live. */
  histogramsFor(runId: string): RunHistograms {
    return this.entry(runId);
  }

  add(runId: string, record: ServeCallRecord): void {
    const e = this.entry(runId);
    e.calls.push(record);
    e.touchedAtMs = Date.now();
  }

  private entry(runId: string): RunEntry {
    let e = this.runs.get(runId);
    if (!e) {
      e = {token: null, calls: [], ...newRunHistograms(), touchedAtMs: Date.now()};
      this.runs.set(runId, e);
      this.evict(runId);
    }
    return e;
  }

  /** Remember the run's token (from its first call's appArgs); later tokens never replace it. */
  claim(runId: string, token: string): void {
    const e = this.entry(runId);
    e.token ??= token;
  }

  /** True when `token` is the run's token: only the load that owns a run may consume it. */
  mayConsume(runId: string, token: string | undefined): boolean {
    const own = this.runs.get(runId)?.token;
    if (!own || token === undefined) return false;
    const a = Buffer.from(own);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  get(runId: string, activeCalls: number, consume = false): RunRecords | undefined {
    this.expire();
    const e = this.runs.get(runId);
    if (!e || (e.calls.length === 0 && activeCalls === 0)) return undefined;
    const out: RunRecords = {
      runId,
      activeCalls,
      calls: [...e.calls].sort((a, b) => a.index - b.index),
      histograms:
        activeCalls === 0
          ? {latenessUs: e.lateness.toBase64(), rttUs: e.rtt.toBase64(), upLatenessUs: e.upLateness.toBase64(), relayHoldUs: e.relayHold.toBase64()}
          : null,
    };
    if (consume && activeCalls === 0) this.drop(runId, e);
    return out;
  }

  /** Finished calls recorded for the run, or undefined when serve knows no such run. */
  recordedCount(runId: string): number | undefined {
    return this.runs.get(runId)?.calls.length;
  }

  get size(): number {
    return this.runs.size;
  }

  private expire(): void {
    const cutoff = Date.now() - this.ttlMs;
    let live: ReadonlySet<string> | null = null;
    for (const [id, e] of this.runs) {
      if (e.touchedAtMs >= cutoff) continue;
      live ??= this.liveRuns();
      if (!live.has(id)) this.drop(id, e);
    }
  }

  /** Drop the oldest runs beyond maxRuns, except live ones and `keep` (the one just created). */
  private evict(keep: string): void {
    if (this.runs.size <= this.maxRuns) return;
    const live = this.liveRuns();
    for (const [id, e] of this.runs) {
      if (this.runs.size <= this.maxRuns) return;
      if (id !== keep && !live.has(id)) this.drop(id, e);
    }
  }

  private drop(runId: string, e: RunEntry): void {
    this.runs.delete(runId);
    this.onDrop(runId, e);
  }
}
