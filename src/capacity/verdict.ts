/**
 * One capacity step judged by the product's own sla: the report of N calls against the SLA
 * profile (at its level; below the smallest level at the default limits with N as the level's
 * call count), plus the step's own condition that N calls were up at the same time. A FAIL names
 * its limiting invariant and, for a lateness invariant, the leg most of the late frames came from.
 */
import type {Report} from '../protocol/report.js';
import {evaluateReport, type InvariantId, type SlaRow} from '../sla/evaluate.js';
import {LEVELS, buildProfile, defaultProfile, type SlaProfile} from '../sla/profile.js';
import {sharePercent} from '../sla/legs-note.js';
import type {StepVerdict} from './search.js';

/** The leg a late frame is counted under (the report's lateBy / summary.caller.lateBy). */
export type Leg = 'asterisk' | 'relay' | 'mediaServer' | 'asteriskBack';

export const LEG_TEXT: Readonly<Record<Leg, string>> = {
  asterisk: 'late from Asterisk up',
  relay: 'late in the relay',
  mediaServer: 'late from the media server',
  asteriskBack: 'late from Asterisk back to the caller',
};

/** A step's verdict with what the capacity file records of it. */
export interface StepJudgement extends StepVerdict {
  /** How it was judged: `stress (150 calls)`, or `default limits at 12 calls (below the smallest level)`. */
  judgedAt: string;
  failed: string[];
  peakConcurrent: number;
  /** The limiting invariant's leg (null: not a lateness invariant, or no late frame counted). */
  leg: {name: Leg; share: number; text: string} | null;
  /** Why `leaked` is true when the leak figures are unknown (null otherwise). */
  leakNote: string | null;
}

/** The profile a step of N calls is judged with, and how to say it. */
export function stepProfile(n: number): {profile: SlaProfile; judgedAt: (level: string | null) => string} {
  if (n >= LEVELS.nominal) return {profile: defaultProfile(), judgedAt: (level) => `${level} level (${n} calls)`};
  const profile = buildProfile({levels: {nominal: {calls: n}}}, `capacity: default limits at ${n} calls`);
  return {profile, judgedAt: () => `default limits at ${n} calls (below the smallest level, ${LEVELS.nominal})`};
}

/** Which failed invariant limits the step: sustained ratios first, then the worst single figures, then the rest in row order. */
const PREFERENCE: readonly string[] = [
  'lateRatio', 'lateRatio@caller', 'lossRatio', 'lossRatio@caller', 'maxConsecutiveLate', 'maxConsecutiveLate@caller', 'maxLatenessMs', 'maxLatenessMs@caller',
];

export function limitingInvariant(failed: readonly string[]): string | null {
  for (const p of PREFERENCE) if (failed.includes(p)) return p;
  return failed[0] ?? null;
}

/** The leg most late frames of the invariant's side came from (relay side: summary.lateBy; caller: summary.caller.lateBy). */
export function dominantLeg(report: Report, invariant: string): StepJudgement['leg'] {
  if (!/^(lateRatio|maxLatenessMs|maxConsecutiveLate)/.test(invariant)) return null;
  const by: Partial<Record<Leg, number>> | undefined = invariant.endsWith('@caller') ? report.summary.caller?.lateBy : report.summary.lateBy;
  if (!by) return null;
  const legs = (Object.keys(LEG_TEXT) as Leg[]).filter((l) => typeof by[l] === 'number');
  const total = legs.reduce((s, l) => s + by[l]!, 0);
  if (total <= 0) return null;
  const name = legs.reduce((a, b) => (by[b]! > by[a]! ? b : a));
  return {name, share: by[name]! / total, text: `${sharePercent(by[name]!, total)} ${LEG_TEXT[name]}`};
}

/** The report of a step of N calls, judged. */
export function judgeStep(report: Report, n: number): StepJudgement {
  const {profile, judgedAt} = stepProfile(n);
  const v = evaluateReport(report, profile);
  const s = report.summary;
  const failed: string[] = [...v.failed];
  // N calls must have been up at once, whatever level N is judged at
  if (s.peakConcurrent < n && !failed.includes('peakConcurrent')) failed.push('peakConcurrent');
  const leakRows = v.rows.filter((r: SlaRow) => (['leakedChannels', 'leakedBridges', 'leakedPorts'] as InvariantId[]).includes(r.invariant));
  const leaked = leakRows.some((r) => !r.pass);
  const unknown = leakRows.some((r) => r.measured === 'unknown');
  const failedCalls = Math.max(s.callsFailed, report.calls.filter((c) => c.error !== null).length);
  const limiting = limitingInvariant(failed);
  return {
    pass: failed.length === 0,
    ...(limiting !== null ? {limiting} : {}),
    leaked,
    failedCalls,
    judgedAt: judgedAt(v.level),
    failed,
    peakConcurrent: s.peakConcurrent,
    leg: limiting === null ? null : dominantLeg(report, limiting),
    leakNote: unknown ? (s.leakCheckError ?? 'the leak check could not be made') : null,
  };
}

/** `lateRatio@caller, 92 % late from Asterisk up` / `peakConcurrent (112 of 190 calls up at once)`. */
export function limitingText(j: Pick<StepJudgement, 'limiting' | 'leg' | 'peakConcurrent'>, n: number): string {
  if (!j.limiting) return 'no invariant named';
  if (j.limiting === 'peakConcurrent') return `peakConcurrent (${j.peakConcurrent} of ${n} calls up at once)`;
  return j.leg ? `${j.limiting}, ${j.leg.text}` : j.limiting;
}
