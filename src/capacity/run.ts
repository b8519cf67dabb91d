/**
 * `rtpsla capacity`: the capacity search (search.ts) where each step is a real `load` run of N
 * calls against the target (a real Asterisk or the sim, with its running serve), judged by the
 * product's own sla (verdict.ts), a settle time between steps. Writes
 * `<outDir>/<ts>.json` with every step's verdict and report path; the step reports go under
 * `<outDir>/<ts>/`, out of the way of `sla reports/*.json`.
 */
import path from 'node:path';
import {errorMessage} from '../errors.js';
import {runLoad, type LoadOptions, type LoadProgress, type LoadResult} from '../load/run.js';
import type {Report} from '../protocol/report.js';
import {atomicWriteFile} from '../runtime/atomic-write.js';
import {DEFAULT_START, searchCapacity, type Resolution, type SearchResult, type StepPhase, type StopReason} from './search.js';
import {judgeStep, limitingText, type StepJudgement} from './verdict.js';

export const CAPACITY_SCHEMA_ID = 'rtpsla.capacity/v1';

/** The target and how each step's calls are placed: load's options without the count and where the report goes. */
export type StepLoadOptions = Omit<LoadOptions, 'count' | 'outDir' | 'runId' | 'signal' | 'onProgress'>;

export interface CapacityOptions {
  load: StepLoadOptions;
  max: number;
  resolution: Resolution;
  /** The first N (default 30). */
  start?: number;
  /** Pause between two steps, so the target's teardown of one is over before the next. */
  settleMs: number;
  outDir: string;
  /** Written into the file: whether the chain was started here. */
  embedded: boolean;
  signal?: AbortSignal;
  onStepStart?: (n: number, phase: StepPhase, index: number) => void;
  onStep?: (step: CapacityStep) => void;
  onLoadProgress?: (p: LoadProgress) => void;
}

/** What the runner needs from the outside: a load run, a pause, the time (real ones by default). */
export interface CapacityDeps {
  runLoad: (o: LoadOptions) => Promise<LoadResult>;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => Date;
}

export interface CapacityStep {
  index: number;
  calls: number;
  phase: StepPhase;
  pass: boolean;
  judgedAt: string;
  failed: string[];
  limiting: string | null;
  /** `lateRatio@caller, 92 % late from Asterisk up`; null on a PASS. */
  limitingText: string | null;
  leg: StepJudgement['leg'];
  peakConcurrent: number;
  failedCalls: number;
  leaked: boolean;
  leakNote: string | null;
  partial: boolean;
  reportPath: string;
  startedAt: string;
  durationMs: number;
}

export interface CapacityFile {
  schema: typeof CAPACITY_SCHEMA_ID;
  startedAt: string;
  endedAt: string;
  partial: boolean;
  target: {ariUrl: string; serveUrl: string; asterisk: string | null; embedded: boolean};
  params: {
    start: number; max: number; resolution: Resolution; settleMs: number; durationMs: number; delayBetweenMs: number;
    caller: 'rtp' | 'endpoint'; format: string; lateThresholdMs: number;
  };
  /** The largest SLA-clean N; null when no step passed (or none could be confirmed, see `confirmed`). */
  largestSlaCleanCalls: number | null;
  /** False when the search stopped before the result was judged a second time. */
  confirmed: boolean;
  firstFail: {calls: number; limiting: string | null; limitingText: string} | null;
  stoppedBy: StopReason | 'error';
  /** The one-line answer, as printed. */
  line: string;
  /** A step that could not be run (no report): the search stopped there. */
  error: string | null;
  stepsDir: string;
  steps: CapacityStep[];
}

/** `20261207-041455`: UTC, sortable, a file name. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

const realSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, {once: true});
  });

/** The one-line answer: `largest SLA-clean N = 185 (FAIL at 190: lateRatio@caller, 92 % late from Asterisk up)`. */
export function resultLine(f: Pick<CapacityFile, 'largestSlaCleanCalls' | 'confirmed' | 'firstFail' | 'stoppedBy' | 'params' | 'error'>): string {
  const head = f.largestSlaCleanCalls === null ? 'no SLA-clean N found' : `largest SLA-clean N = ${f.largestSlaCleanCalls}${f.confirmed ? '' : ' (passed once, not confirmed)'}`;
  const fail = f.firstFail ? `FAIL at ${f.firstFail.calls}: ${f.firstFail.limitingText}` : null;
  const why: Record<CapacityFile['stoppedBy'], string | null> = {
    resolution: fail,
    max: `--max ${f.params.max} reached: it passed twice`,
    leak: fail ? `stopped: ${fail}, something was left behind` : 'stopped: a step left something behind',
    'failed-calls': fail ? `stopped: ${fail}, calls failed` : 'stopped: calls failed',
    interrupted: `interrupted${fail ? `; ${fail}` : ''}`,
    error: `stopped: ${f.error ?? 'a step could not run'}`,
  };
  const tail = why[f.stoppedBy];
  return tail ? `${head} (${tail})` : head;
}

/** Run the search, each step a load run judged by sla; write the capacity file (also on Ctrl-C or a failed step). */
export async function runCapacity(o: CapacityOptions, deps: Partial<CapacityDeps> = {}): Promise<{file: CapacityFile; path: string; error: unknown}> {
  const d: CapacityDeps = {runLoad: deps.runLoad ?? runLoad, sleep: deps.sleep ?? realSleep, now: deps.now ?? (() => new Date())};
  const started = d.now();
  const ts = stamp(started);
  const stepsDir = path.join(o.outDir, ts);
  const steps: CapacityStep[] = [];
  let asterisk: string | null = null;
  let pending: {n: number; phase: StepPhase} | null = null;
  const judge = async (n: number) => {
    const index = steps.length + 1;
    const phase = pending?.phase ?? 'step-up';
    const t0 = d.now();
    o.onStepStart?.(n, phase, index);
    const res = await d.runLoad({...o.load, count: n, outDir: stepsDir, runId: `step${String(index).padStart(2, '0')}-n${n}`, signal: o.signal, onProgress: o.onLoadProgress});
    asterisk ??= asteriskOf(res.report);
    const j = judgeStep(res.report, n);
    const step = stepRecord(index, n, phase, j, res, t0, d.now());
    steps.push(step);
    o.onStep?.(step);
    return j;
  };
  let search: SearchResult | null = null;
  let error: string | null = null;
  let thrown: unknown = undefined;
  try {
    search = await searchCapacity(judge, {
      start: o.start, max: o.max, resolution: o.resolution, signal: o.signal,
      beforeStep: async (n, phase) => {
        if (steps.length > 0) await d.sleep(o.settleMs, o.signal);
        pending = {n, phase};
      },
    });
  } catch (err) {
    thrown = err;
    error = errorMessage(err);
  }
  const file = capacityFile(o, {started, ended: d.now(), stepsDir, steps, asterisk, search, error});
  const out = path.join(o.outDir, `${ts}.json`);
  atomicWriteFile(out, JSON.stringify(file, null, 2) + '\n');
  return {file, path: out, error: thrown};
}

function asteriskOf(r: Report): string | null {
  const t = (r as {target?: {asterisk?: unknown}}).target;
  return typeof t?.asterisk === 'string' ? t.asterisk : null;
}

function stepRecord(index: number, n: number, phase: StepPhase, j: StepJudgement, res: LoadResult, t0: Date, t1: Date): CapacityStep {
  return {
    index, calls: n, phase, pass: j.pass, judgedAt: j.judgedAt, failed: j.failed, limiting: j.limiting ?? null,
    limitingText: j.pass ? null : limitingText(j, n), leg: j.leg, peakConcurrent: j.peakConcurrent, failedCalls: j.failedCalls ?? 0,
    leaked: j.leaked === true, leakNote: j.leakNote, partial: res.report.partial === true, reportPath: res.path,
    startedAt: t0.toISOString(), durationMs: t1.getTime() - t0.getTime(),
  };
}

interface Outcome {
  started: Date;
  ended: Date;
  stepsDir: string;
  steps: CapacityStep[];
  asterisk: string | null;
  search: SearchResult | null;
  error: string | null;
}

function capacityFile(o: CapacityOptions, x: Outcome): CapacityFile {
  const {search, steps} = x;
  const failStep = search?.firstFail ? [...steps].reverse().find((s) => s.calls === search.firstFail!.n && !s.pass) : undefined;
  const l = o.load;
  const base = {
    params: {
      start: o.start ?? DEFAULT_START, max: o.max, resolution: o.resolution, settleMs: o.settleMs, durationMs: l.durationMs, delayBetweenMs: l.delayBetweenMs,
      caller: l.caller ?? 'endpoint', format: l.format, lateThresholdMs: l.lateThresholdMs,
    },
    largestSlaCleanCalls: search?.largest ?? null,
    confirmed: search?.confirmed ?? false,
    firstFail: failStep ? {calls: failStep.calls, limiting: failStep.limiting, limitingText: failStep.limitingText ?? 'FAIL'} : null,
    stoppedBy: search ? search.stoppedBy : ('error' as const),
    error: x.error,
  };
  return {
    schema: CAPACITY_SCHEMA_ID,
    startedAt: x.started.toISOString(),
    endedAt: x.ended.toISOString(),
    partial: base.stoppedBy === 'interrupted' || base.stoppedBy === 'error',
    target: {ariUrl: l.ariUrl, serveUrl: l.serveUrl, asterisk: x.asterisk, embedded: o.embedded},
    ...base,
    line: resultLine(base),
    stepsDir: x.stepsDir,
    steps,
  };
}
