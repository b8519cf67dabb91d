/**
 * Evaluating one report against the SLA (docs/measurement.md, the SLA): one row per invariant.
 */
import {safeRatio} from '../metrics/summary.js';
import {type Report} from '../protocol/report.js';
import {callerDisagreements} from './caller-consistency.js';
import {CALLER_INVARIANT_DESCRIPTIONS, CALLER_INVARIANTS, callerRows, type CallerInvariantId} from './caller-rows.js';
import {reportDisagreements} from './consistency.js';
import {mediaServerOf} from './media-server.js';
import {SLA_LEVELS, defaultProfile, limitsFor, type SlaLevel, type SlaLimits, type SlaProfile} from './profile.js';

export const INVARIANTS = [
  'complete',
  'level',
  'peakConcurrent',
  'maxLatenessMs',
  'maxConsecutiveLate',
  'lateRatio',
  'lossRatio',
  'callsFailed',
  'silentCalls',
  'leakedChannels',
  'leakedBridges',
  'leakedPorts',
  'consistent',
] as const;
/** The relay's invariants, and (reports with the caller's side) the same judged at the caller. */
export type InvariantId = (typeof INVARIANTS)[number] | CallerInvariantId;

export const INVARIANT_DESCRIPTIONS: Readonly<Record<InvariantId, string>> = {
  ...CALLER_INVARIANT_DESCRIPTIONS,
  complete: 'the run finished (a partial, interrupted run cannot pass)',
  level: 'params.count reaches the level the report is judged at',
  peakConcurrent: 'calls up at the same time reached the level',
  maxLatenessMs: 'max lateness of a returned frame relative to its deadline',
  maxConsecutiveLate: 'consecutive deadline misses on one channel',
  lateRatio: 'late / packetsBack',
  lossRatio: 'lost / (packetsBack + lost), application level',
  callsFailed: 'calls that failed',
  silentCalls: 'calls without error that got no media back',
  leakedChannels: 'channels left behind after the run',
  leakedBridges: 'bridges left behind after the run',
  leakedPorts: 'relay ports left allocated after the run',
  consistent: 'the summary agrees with calls[] and the histograms (recomputed, not trusted)',
};

export type SlaOp = '<=' | '>=' | '=';

export interface SlaRow {
  invariant: InvariantId;
  description: string;
  /** The measured value (a number where it is one). */
  measured: number | string;
  /** The limit it is compared with by `op`. */
  limit: number | string;
  op: SlaOp;
  pass: boolean;
  /** Human forms, with units: "23.456 ms", "≤ 22 ms". */
  measuredText: string;
  limitText: string;
  /** false: the invariant does not apply to this report (the caller rows with a sink media server); such a row never fails. */
  applies?: boolean;
}

export interface SlaVerdict {
  runId: string;
  /** The level the report was judged at; null when its count is below every level (and none forced). */
  level: SlaLevel | null;
  levelCalls: number | null;
  levelForced: boolean;
  partial: boolean;
  pass: boolean;
  rows: SlaRow[];
  /** Invariants that failed, in row order. */
  failed: InvariantId[];
}

/**
 * The level a report is judged at: `forced` if given, else the largest level whose call count
 * is ≤ params.count; null when the count is below the smallest level.
 */
export function detectLevel(report: Report, forced?: SlaLevel, profile: SlaProfile = defaultProfile()): SlaLevel | null {
  if (forced !== undefined) return forced;
  let found: SlaLevel | null = null;
  for (const name of SLA_LEVELS) if (profile.levels[name].calls <= report.params.count) found = name;
  return found;
}

function num(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toFixed(3)));
}

function pct(v: number): string {
  return `${Number((v * 100).toFixed(4))}%`;
}

const OP_TEXT: Record<SlaOp, string> = {'<=': '≤', '>=': '≥', '=': '='};

/** max lateness; a null figure (no sample) fails, with its reason. */
function maxLatenessRow(s: Report['summary'], limitMs: number): SlaRow {
  const text = s.latenessMs ? `${num(s.latenessMs.max)} ms` : `null: ${s.nullReasons?.latenessMs ?? 'no sample'}`;
  return row('maxLatenessMs', s.latenessMs?.max ?? Number.NaN, '<=', limitMs, text, `${num(limitMs)} ms`);
}

function row(
  invariant: InvariantId,
  measured: number | string,
  op: SlaOp,
  limit: number | string,
  measuredText: string,
  limitText: string,
): SlaRow {
  let pass: boolean;
  if (op === '=') pass = measured === limit;
  else if (typeof measured !== 'number' || typeof limit !== 'number' || Number.isNaN(measured)) pass = false;
  else pass = op === '<=' ? measured <= limit : measured >= limit;
  return {invariant, description: INVARIANT_DESCRIPTIONS[invariant], measured, limit, op, pass, measuredText, limitText: `${OP_TEXT[op]} ${limitText}`};
}

/** Evaluates `report` against `profile` at its detected (or the forced) level. */
export function evaluateReport(report: Report, profile: SlaProfile = defaultProfile(), forcedLevel?: SlaLevel): SlaVerdict {
  const level = detectLevel(report, forcedLevel, profile);
  const levelCalls = level === null ? null : profile.levels[level].calls;
  const lim = limitsFor(profile, level);
  const partial = report.partial === true;
  const rows: SlaRow[] = [
    row('complete', partial ? 'partial' : 'complete', '=', 'complete', partial ? 'partial (interrupted run)' : 'complete', 'complete'),
    ...levelRows(report, profile, level, levelCalls, forcedLevel),
    ...timingRows(report, lim),
    ...(mediaServerOf(report) === 'sink' && report.summary.caller
      ? CALLER_INVARIANTS.map((id) => notApplicable(id, 'media server: sink, the caller hears nothing back'))
      : callerRows(report, lim, row)),
    ...callRows(report, lim),
    ...leakRows(report, lim),
    consistencyRow(report),
  ];
  const failed = rows.filter((r) => !r.pass).map((r) => r.invariant);
  return {
    runId: report.runId,
    level,
    levelCalls,
    levelForced: forcedLevel !== undefined,
    partial,
    pass: failed.length === 0,
    rows,
    failed,
  };
}

function levelRows(report: Report, profile: SlaProfile, level: SlaLevel | null, levelCalls: number | null, forcedLevel: SlaLevel | undefined): SlaRow[] {
  const smallest = SLA_LEVELS[0];
  const count = report.params.count;
  const s = report.summary;
  const needCalls = levelCalls ?? profile.levels[smallest].calls;
  const levelName = level ?? smallest;
  return [
    row(
      'level',
      count,
      '>=',
      needCalls,
      level === null ? `count ${count} is below the smallest level (${smallest} ${needCalls})` : `count ${count}`,
      `${needCalls} (${levelName}${forcedLevel !== undefined ? ', forced' : ''})`,
    ),
    row('peakConcurrent', s.peakConcurrent, '>=', needCalls, `${s.peakConcurrent} calls`, `${needCalls} calls`),
  ];
}

/** A row of an invariant that does not apply to this report, saying why; it never fails. */
function notApplicable(invariant: InvariantId, why: string): SlaRow {
  return {invariant, description: INVARIANT_DESCRIPTIONS[invariant], measured: 'n/a', limit: 'n/a', op: '<=', pass: true, measuredText: `does not apply (${why})`, limitText: '—', applies: false};
}

/**
 * Lateness, consecutive misses, late and loss ratios at the relay. With a sink media server they
 * judge the up stream as delivered to it: its ratios are of the up packets.
 */
function timingRows(report: Report, lim: SlaLimits): SlaRow[] {
  const s = report.summary;
  const sink = mediaServerOf(report) === 'sink';
  const judged = sink ? s.packetsUp : s.packetsBack;
  const what = sink ? 'up' : 'back';
  const rows: SlaRow[] = [];
  rows.push(maxLatenessRow(s, lim.maxLatenessMs));
  let consecutive = s.maxConsecutiveLate;
  for (const c of report.calls) if (c.maxConsecutiveLate > consecutive) consecutive = c.maxConsecutiveLate;
  const worstCall = consecutive > 0 ? (report.calls.find((c) => c.maxConsecutiveLate === consecutive)?.index ?? null) : null;
  rows.push(
    row(
      'maxConsecutiveLate',
      consecutive,
      '<=',
      lim.maxConsecutiveLate,
      `${consecutive}${worstCall !== null ? ` (call ${worstCall})` : ''}`,
      String(lim.maxConsecutiveLate),
    ),
  );
  // Ratios: the worse of the recorded ratio and the one recomputed from the counts (docs/measurement.md).
  const lateRatio = Math.max(s.lateRatio, safeRatio(s.late, judged));
  rows.push(row('lateRatio', lateRatio, '<=', lim.maxLateRatio, `${pct(lateRatio)} (${s.late} of ${judged} ${what})`, pct(lim.maxLateRatio)));
  const lossRatio = Math.max(s.lossRatio, safeRatio(s.lost, judged + s.lost));
  rows.push(
    row('lossRatio', lossRatio, '<=', lim.maxLossRatio, `${pct(lossRatio)} (${s.lost} of ${judged + s.lost} ${what})`, pct(lim.maxLossRatio)),
  );
  return rows;
}

function callRows(report: Report, lim: SlaLimits): SlaRow[] {
  const s = report.summary;
  const failedCalls = Math.max(s.callsFailed, report.calls.filter((c) => c.error !== null).length);
  const firstError = report.calls.find((c) => c.error !== null);
  // a silent call had no media: nothing back, or with a sink, nothing up
  const sink = mediaServerOf(report) === 'sink';
  const heard = (x: {packetsBack: number; packetsUp: number}) => (sink ? x.packetsUp : x.packetsBack);
  const silent = report.calls.length > 0 ? report.calls.filter((c) => c.error === null && heard(c) === 0).length : heard(s) === 0 ? s.callsAnswered : 0;
  return [
    row(
      'callsFailed',
      failedCalls,
      '<=',
      lim.maxCallsFailed,
      `${failedCalls} of ${Math.max(s.callsAttempted, report.calls.length)}${firstError ? ` (call ${firstError.index}: ${firstError.error})` : ''}`,
      String(lim.maxCallsFailed),
    ),
    row('silentCalls', silent, '<=', lim.maxSilentCalls, String(silent), String(lim.maxSilentCalls)),
  ];
}

/** A leak figure that could not be measured (null) fails its check, with the reason (docs/measurement.md, the SLA). */
function leakRows(report: Report, lim: SlaLimits): SlaRow[] {
  const s = report.summary;
  const leakRow = (id: InvariantId, value: number | null, limit: number) =>
    value === null
      ? row(id, 'unknown', '<=', limit, `unknown: ${s.leakCheckError ?? 'the leak check could not be made'}`, String(limit))
      : row(id, value, '<=', limit, String(value), String(limit));
  return [
    leakRow('leakedChannels', s.leaked.channels, lim.maxLeakedChannels),
    leakRow('leakedBridges', s.leaked.bridges, lim.maxLeakedBridges),
    leakRow('leakedPorts', s.leaked.ports, lim.maxLeakedPorts),
  ];
}

function consistencyRow(report: Report): SlaRow {
  const disagreements = [...reportDisagreements(report), ...callerDisagreements(report)];
  const ok = disagreements.length === 0;
  return row('consistent', ok ? 'consistent' : 'inconsistent', '=', 'consistent', ok ? 'consistent' : `inconsistent: ${disagreements.join('; ')}`, 'consistent');
}
