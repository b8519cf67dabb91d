/**
 * serve's books: the live calls (for /calls and /metrics), the totals of every finished call, the
 * per-run records load collects (/runs/:runId) and the histograms every call's meter records into
 * live: its run's, or serve's own for a call without a run. Each value is recorded once; serve's
 * whole-life histograms are those sets merged when read. A run stays in the store while a call of
 * it is live. The orchestrator tells the ledger when a call starts and ends; serve/http.ts and
 * serve/metrics.ts read it through these methods only.
 */
import type {EngineKind} from '../engine/engine-types.js';
import type {EngineRoleInfo} from '../protocol/report.js';
import type {CallMeter, CallStats, LateBy, MeterSinks} from '../metrics/call-stats.js';
import type {CallState, LiveCall, RunProgress, RunRecords, ServeCallRecord} from '../protocol/serve-api.js';
import type {PortPool} from '../media/relay/port-pool.js';
import {mergeRunHistograms, newRunHistograms, RunStore, type RunHistograms} from './run-store.js';

/** What the ledger reads of a call while it is live (the orchestrator's call). */
export interface LedgerCall {
  readonly callerId: string;
  readonly emId: string;
  readonly bridgeId: string;
  readonly runId: string | null;
  readonly index: number;
  readonly state: CallState;
  readonly startedAt: Date;
  readonly setupMs: number | null;
  /** The relay port the call holds (null: none yet, or a leg without one). */
  readonly port: number | null;
  /** The meter of the call's media leg (null: none yet, or a leg that does not measure). */
  readonly meter: CallMeter | null;
}

/** Media totals: of every finished call, or (mediaTotals) of those plus the live calls so far. */
export interface MediaTotals {
  packetsUp: number;
  packetsBack: number;
  lost: number;
  late: number;
  foreign: number;
  malformed: number;
  maxConsecutiveLate: number;
  /** Late packets by the leg that contributed most (docs/measurement.md, legs). */
  lateBy: LateBy;
}

/** Port figures of the relay's pool (zeros when the media leg has no pool). */
export interface PortFigures {
  held: number;
  free: number;
  bindFailures: number;
  exhausted: number;
}

export interface LedgerOptions {
  /** The media engine that forwards and measures (reported with every run). */
  engine: EngineKind;
  /** The externalMedia format serve asks for (/health). */
  format: string;
  /** The relay port pool, for its figures (none: a leg without relay ports). */
  pool?: PortPool;
  runs?: RunStore;
}

export class ServeLedger {
  readonly engine: EngineKind;
  readonly format: string;
  private readonly live = new Set<LedgerCall>();
  private readonly runs: RunStore;
  private readonly pool: PortPool | null;
  private readonly totals: MediaTotals = {packetsUp: 0, packetsBack: 0, lost: 0, late: 0, foreign: 0, malformed: 0, maxConsecutiveLate: 0, lateBy: {asterisk: 0, relay: 0, mediaServer: 0}};
  private finishedCount = 0;
  private failedCount = 0;
  private startedCount = 0;
  private retries422Count = 0;
  private zombiesRemovedCount = 0;
  /** Values of calls without a run, and of runs no longer in the store (none of their calls live). */
  private readonly ownHistograms = newRunHistograms();

  constructor(o: LedgerOptions) {
    this.engine = o.engine;
    this.format = o.format;
    this.pool = o.pool ?? null;
    this.runs = o.runs ?? new RunStore();
    // the store keeps a run while a call of it is live, so a dropped run's histograms are final
    this.runs.liveRuns = () => new Set([...this.live].flatMap((c) => (c.runId !== null ? [c.runId] : [])));
    this.runs.onDrop = (_runId, h) => mergeRunHistograms(this.ownHistograms, h);
  }

  /**
   * Every packet measured since serve started: serve's own set and the runs in the store, merged
   * into new histograms (a scrape's work, not a packet's).
   */
  histograms(): RunHistograms {
    const out = newRunHistograms();
    mergeRunHistograms(out, this.ownHistograms);
    for (const h of this.runs.histogramSets()) mergeRunHistograms(out, h);
    return out;
  }

  // ---- told by the orchestrator ----

  /** A call entered the app; `token`: its run's token from the appArgs (the first one claims the run). */
  callStarted(call: LedgerCall, token: string | null): void {
    this.startedCount++;
    this.live.add(call);
    if (call.runId !== null && token !== null) this.runs.claim(call.runId, token);
  }

  /** The histograms a call's meter records into as it measures: its run's, or serve's own. */
  sinksFor(runId: string | null): MeterSinks {
    const h = runId !== null ? this.runs.histogramsFor(runId) : this.ownHistograms;
    return {lateness: [h.lateness], rtt: [h.rtt], upLateness: [h.upLateness], relayHold: [h.relayHold]};
  }

  /** A call's record is final: count it, keep it for its run, and it is no longer live. */
  callEnded(call: LedgerCall, stats: CallStats | null, record: ServeCallRecord): void {
    const t = this.totals;
    this.finishedCount++;
    if (record.error !== null) this.failedCount++;
    if (stats) addCounts(t, stats, stats.lateBy.asterisk, stats.lateBy.relay, stats.lateBy.mediaServer);
    if (record.runId !== null) this.runs.add(record.runId, record);
    this.live.delete(call);
  }

  retried422(): void {
    this.retries422Count++;
  }

  zombiesRemoved(n: number): void {
    this.zombiesRemovedCount += n;
  }

  // ---- read by http and metrics ----

  /** Calls being set up or measured. */
  get activeCalls(): number {
    return this.live.size;
  }

  get callsStarted(): number {
    return this.startedCount;
  }

  get callsFinished(): number {
    return this.finishedCount;
  }

  get callsFailed(): number {
    return this.failedCount;
  }

  get addChannelRetries422(): number {
    return this.retries422Count;
  }

  /** Times serve restarted its native engine after it died (set by serve's engine supervision). */
  engineRestarts = 0;
  /** How the relay's engine measures now (set by serve at start, after a restart and before records are served). */
  relayEngine: EngineRoleInfo | null = null;

  get zombiesRemovedTotal(): number {
    return this.zombiesRemovedCount;
  }

  get ports(): PortFigures {
    const p = this.pool;
    return p ? {held: p.held, free: p.free, bindFailures: p.bindFailures, exhausted: p.exhausted} : {held: 0, free: 0, bindFailures: 0, exhausted: 0};
  }

  /** Totals of the finished calls plus the live calls' counts so far (their loss: not back yet). */
  mediaTotals(): MediaTotals {
    const out: MediaTotals = {...this.totals, lateBy: {...this.totals.lateBy}};
    for (const c of this.live) {
      const m = c.meter;
      if (!m || c.state === 'ended') continue;
      addCounts(out, m, m.lateByAsterisk, m.lateByRelay, m.lateByMediaServer);
    }
    return out;
  }

  /** GET /calls. */
  liveCalls(): LiveCall[] {
    const out: LiveCall[] = [];
    for (const c of this.live) {
      const m = c.meter;
      out.push({
        callId: c.callerId,
        runId: c.runId,
        index: c.index,
        state: c.state,
        port: c.port,
        externalMediaChannelId: c.emId,
        bridgeId: c.bridgeId,
        startedAt: c.startedAt.toISOString(),
        setupMs: c.setupMs,
        packetsUp: m?.packetsUp ?? 0,
        packetsBack: m?.packetsBack ?? 0,
        late: m?.late ?? 0,
      });
    }
    return out;
  }

  /** Calls of `runId` still being set up or measured. */
  activeCallsOfRun(runId: string): number {
    let n = 0;
    for (const c of this.live) if (c.runId === runId) n++;
    return n;
  }

  /** GET /runs/:runId?brief=1, or undefined when serve knows no such run. */
  runProgress(runId: string): RunProgress | undefined {
    const recorded = this.runs.recordedCount(runId);
    return recorded === undefined ? undefined : {runId, activeCalls: this.activeCallsOfRun(runId), recorded};
  }

  /** True when `token` is the run's token: only the load that owns a run may consume it. */
  mayConsume(runId: string, token: string | undefined): boolean {
    return this.runs.mayConsume(runId, token);
  }

  /** GET /runs/:runId: the records (and, once no call of the run is live, its histograms); consumed on request. */
  runRecords(runId: string, consume: boolean): RunRecords | undefined {
    // the exact maxima first: a consumed run leaves the store
    const h = this.runs.recordedCount(runId) !== undefined ? this.runs.histogramsFor(runId) : null;
    const maxUs = h && {latenessUs: h.lateness.maxUs(), rttUs: h.rtt.maxUs(), upLatenessUs: h.upLateness.maxUs(), relayHoldUs: h.relayHold.maxUs()};
    const run = this.runs.get(runId, this.activeCallsOfRun(runId), consume);
    const relayEngine = this.relayEngine !== null ? {...this.relayEngine, restarts: this.engineRestarts} : undefined;
    return run && {...run, histogramMaxUs: run.histograms !== null ? maxUs : null, engine: this.engine, ...(relayEngine ? {relayEngine} : {})};
  }

  /** Runs whose records serve still keeps. */
  get runsKept(): number {
    return this.runs.size;
  }
}

/** Add one call's counts (a finished call's stats, or a live call's meter so far) to `t`. */
function addCounts(t: MediaTotals, c: Omit<MediaTotals, 'lateBy'>, lateByAsterisk: number, lateByRelay: number, lateByMediaServer: number): void {
  t.packetsUp += c.packetsUp;
  t.packetsBack += c.packetsBack;
  t.lost += c.lost;
  t.late += c.late;
  t.foreign += c.foreign;
  t.malformed += c.malformed;
  if (c.maxConsecutiveLate > t.maxConsecutiveLate) t.maxConsecutiveLate = c.maxConsecutiveLate;
  t.lateBy.asterisk += lateByAsterisk;
  t.lateBy.relay += lateByRelay;
  t.lateBy.mediaServer += lateByMediaServer;
}
