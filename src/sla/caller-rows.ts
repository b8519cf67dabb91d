/**
 * The SLA at the caller (docs/measurement.md "At the caller"): where a report has `summary.caller`
 * (`load --caller rtp`), lateness, consecutive misses, late ratio and loss are judged a second
 * time on what the callers heard, each a row of its own (`maxLatenessMs@caller` …). A figure that
 * could not be measured (null, or a ratio with nothing to divide by) fails its row with its reason.
 */
import {safeRatio} from '../metrics/summary.js';
import type {CallerSide, Report} from '../protocol/report.js';
import type {SlaLimits} from './profile.js';

export const CALLER_INVARIANTS = ['maxLatenessMs@caller', 'maxConsecutiveLate@caller', 'lateRatio@caller', 'lossRatio@caller'] as const;
export type CallerInvariantId = (typeof CALLER_INVARIANTS)[number];

export const CALLER_INVARIANT_DESCRIPTIONS: Readonly<Record<CallerInvariantId, string>> = {
  'maxLatenessMs@caller': 'max lateness of a frame the caller heard, against the earliest phase of its stream',
  'maxConsecutiveLate@caller': 'consecutive late frames a caller heard',
  'lateRatio@caller': 'late / received at the caller',
  'lossRatio@caller': 'lost / expected at the caller (frames sent once the bridge was up)',
};

/** The shape of one row as evaluate.ts builds it (measured, op, limit and their texts). */
export type RowMaker = (id: CallerInvariantId, measured: number | string, op: '<=', limit: number, measuredText: string, limitText: string) => unknown;

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(3)));
}

function pct(v: number): string {
  return `${Number((v * 100).toFixed(4))}%`;
}

function reasonOf(c: CallerSide, field: string, fallback: string): string {
  return c.nullReasons?.[field] ?? fallback;
}

/** The caller rows of `report` (none without `summary.caller`). */
export function callerRows<R>(report: Report, lim: SlaLimits, row: (...a: Parameters<RowMaker>) => R): R[] {
  const c = report.summary.caller;
  if (!c) return [];
  const rows: R[] = [];
  const unknown = (id: CallerInvariantId, limit: number, limitText: string, reason: string) => rows.push(row(id, 'unknown', '<=', limit, `unknown: ${reason}`, limitText));

  const maxLimit = `${num(lim.maxLatenessMs)} ms`;
  if (c.hearsLatenessMs === null) unknown('maxLatenessMs@caller', lim.maxLatenessMs, maxLimit, reasonOf(c, 'hearsLatenessMs', 'no frame came back to any caller'));
  else rows.push(row('maxLatenessMs@caller', c.hearsLatenessMs.max, '<=', lim.maxLatenessMs, `${num(c.hearsLatenessMs.max)} ms`, maxLimit));

  let consecutive = c.maxConsecutiveLate;
  for (const call of report.calls) if ((call.caller?.maxConsecutiveLate ?? 0) > consecutive) consecutive = call.caller!.maxConsecutiveLate;
  const worst = consecutive > 0 ? report.calls.find((call) => call.caller?.maxConsecutiveLate === consecutive)?.index : undefined;
  rows.push(row('maxConsecutiveLate@caller', consecutive, '<=', lim.maxConsecutiveLate, `${consecutive}${worst !== undefined ? ` (call ${worst})` : ''}`, String(lim.maxConsecutiveLate)));

  // ratios: the worse of the recorded one and the one recomputed from the counts
  if (c.received === 0) unknown('lateRatio@caller', lim.maxLateRatio, pct(lim.maxLateRatio), reasonOf(c, 'hearsLatenessMs', 'no frame came back to any caller'));
  else {
    const late = Math.max(c.lateRatio, safeRatio(c.late, c.received));
    rows.push(row('lateRatio@caller', late, '<=', lim.maxLateRatio, `${pct(late)} (${c.late} of ${c.received})`, pct(lim.maxLateRatio)));
  }
  if (c.expected === 0) unknown('lossRatio@caller', lim.maxLossRatio, pct(lim.maxLossRatio), 'no caller frame was sent once a call was bridged');
  else {
    const loss = Math.max(c.lossRatio, safeRatio(c.lost, c.expected));
    rows.push(row('lossRatio@caller', loss, '<=', lim.maxLossRatio, `${pct(loss)} (${c.lost} of ${c.expected})`, pct(lim.maxLossRatio)));
  }
  return rows;
}
