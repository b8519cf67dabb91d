/**
 * What every fault scenario is made of: its shape (Scenario, Outcome, Check, Figures), the checks
 * scenarios share, and loadScenario, the skeleton of a scenario driven by `rtpsla load`.
 */
import type {Report} from '../../protocol/report.js';
import type {RtpslaChild} from '../../demo/children.js';
import {type Exit, type FaultContext, type LoadRun, type SlaRun, type Stack, liveCalls, until} from '../harness.js';

/** `sla` rows that judge timing (machine load), not the fault. */
export const TIMING_INVARIANTS: readonly string[] = ['maxLatenessMs', 'maxConsecutiveLate', 'lateRatio', 'maxLatenessMs@caller', 'maxConsecutiveLate@caller', 'lateRatio@caller'];

export interface Check {
  what: string;
  ok: boolean;
  /**
   * The check proves the fault was injected and took effect (a count of what it did, seen by the
   * process that suffered it): it must fail when the fault is not injected (RTPSLA_FAULTS_DRY=1).
   */
  fired?: boolean;
}

/** A "fault fired" check. */
export function fired(what: string, ok: boolean): Check {
  return {what, ok, fired: true};
}

export interface Figures {
  leaked?: {channels: number | null; bridges: number | null; ports: number | null};
  /** Packets lost in the run (from its report), null: no report. */
  lost?: number | null;
  exitCodes?: Record<string, string>;
  [k: string]: unknown;
}

export interface Outcome {
  measured: string[];
  checks: Check[];
  figures: Figures;
}

export interface Scenario {
  name: string;
  /** In the CI subset (finishes in seconds, runs in `npm test`). */
  ci: boolean;
  done: string;
  expected: string;
  timeoutMs: number;
  run(ctx: FaultContext): Promise<Outcome>;
}

export function exitText(e: Exit | undefined): string {
  if (!e) return 'running';
  if (e.timedOut) return `timeout (${Math.round(e.durationMs / 1000)} s)`;
  return e.signal ? e.signal : `exit ${e.code}`;
}

export function noLeak(l: Figures['leaked'], portsMayBeUnknown = false): Check {
  const ok = !!l && l.channels === 0 && l.bridges === 0 && (l.ports === 0 || (portsMayBeUnknown && l.ports === null));
  return {what: 'nothing leaked', ok};
}

export function functionalFailures(failed: string[]): string[] {
  return failed.filter((f) => !TIMING_INVARIANTS.includes(f));
}

export function reportText(r: Report | null): string {
  if (!r) return 'no report';
  const s = r.summary;
  return `${s.callsFailed}/${s.callsAttempted} calls failed, lost ${s.lost}, late ${s.late}, max lateness ${s.latenessMs?.max ?? 'null'} ms`;
}

/** Load calls in the background and wait until serve has them all up (or `timeoutMs`). */
export async function callsUp(stack: Stack, n: number, timeoutMs = 10_000): Promise<number> {
  return until(async () => {
    const up = (await liveCalls(stack.serveUrl).catch(() => [])).filter((c) => c.state === 'up').length;
    return up >= n ? up : 0;
  }, timeoutMs);
}

export interface LoadScenarioOptions<D, A> {
  count: number;
  durationMs: number;
  runId: string;
  /** A stack already started (default: sim + echo + serve with `serve`). */
  stack?: Stack;
  serve?: {serveArgs?: string[]; serveEnv?: Record<string, string>; simArgs?: string[]; echoPort?: number};
  /** Before load starts (a fault armed in advance). */
  before?: (stack: Stack) => Promise<void>;
  /** The fault, once serve has all the calls up; without it, load runs to its end undisturbed. */
  during?: (stack: Stack, load: RtpslaChild) => Promise<D>;
  /** How long load may take after `during` (default 60 s); without `during`, 90 s. */
  loadTimeoutMs?: number;
  /** After load ended, before the leaks are measured (`during`: what `during` returned). */
  after?: (stack: Stack, run: LoadRun, during: D) => Promise<A>;
  /** Measure what is left on the sim and serve (default true). */
  leaks?: boolean;
  /** Judge the report with `sla` (default false). */
  sla?: boolean;
}

export interface LoadScenarioRun<D, A> {
  stack: Stack;
  run: LoadRun;
  leaked: Figures['leaked'];
  /** null: not judged, or no report. */
  sla: SlaRun | null;
  slaJudged: boolean;
  during: D;
  after: A;
}

/**
 * The skeleton of a load-driven scenario: a stack, `rtpsla load` on it (in the background with
 * `during` once the calls are up), then its report, what was left behind and `sla` on the report.
 */
export async function loadScenario<D = undefined, A = undefined>(ctx: FaultContext, o: LoadScenarioOptions<D, A>): Promise<LoadScenarioRun<D, A>> {
  const stack = o.stack ?? (await ctx.stack(o.serve));
  await o.before?.(stack);
  const params = {count: o.count, durationMs: o.durationMs, runId: o.runId};
  let run: LoadRun;
  let during = undefined as D;
  if (o.during) {
    const load = ctx.startLoad(stack, params);
    await callsUp(stack, o.count);
    during = await o.during(stack, load);
    run = ctx.loadResult(await ctx.finish(load, o.loadTimeoutMs ?? 60_000), o.runId);
  } else {
    run = await ctx.load(stack, params, o.loadTimeoutMs);
  }
  const after = (await o.after?.(stack, run, during)) as A;
  const leaked = o.leaks === false ? undefined : await ctx.leaks(stack);
  const sla = o.sla && run.reportPath ? await ctx.sla(run.reportPath) : null;
  return {stack, run, leaked, sla, slaJudged: o.sla === true, during, after};
}

export function slaFailedText(sla: SlaRun | null): string {
  return `sla failed: ${sla?.failed.join(', ') || 'none'}`;
}

export function slaFunctionalPass(sla: SlaRun | null): Check {
  return {what: 'sla functional checks pass', ok: !!sla && functionalFailures(sla.failed).length === 0};
}

/** sla exit 1 with every one of `invariants` among the failed. */
export function slaFailsOn(sla: SlaRun | null, ...invariants: string[]): Check {
  return {what: `sla exit 1 naming ${invariants.join(' and ')}`, ok: sla?.exit.code === 1 && invariants.every((i) => sla.failed.includes(i))};
}

export function loadExit0(run: LoadRun): Check {
  return {what: 'load exit 0', ok: run.exit.code === 0};
}

export function noCallFailed(run: LoadRun): Check {
  return {what: 'no call failed', ok: run.report?.summary.callsFailed === 0};
}

export function nothingLost(run: LoadRun): Check {
  return {what: 'nothing lost', ok: run.report?.summary.lost === 0};
}

/** leaked, lost, `extra`, and the exit codes (default: load's, and sla's when it judged). */
export function loadFigures(r: LoadScenarioRun<unknown, unknown>, o: {extra?: Record<string, unknown>; exitCodes?: Record<string, string>} = {}): Figures {
  const exitCodes = o.exitCodes ?? {load: exitText(r.run.exit), ...(r.slaJudged ? {sla: exitText(r.sla?.exit)} : {})};
  return {leaked: r.leaked, lost: r.run.report?.summary.lost ?? null, ...o.extra, exitCodes};
}
