/**
 * `rtpsla sla` core: expand the arguments, read and evaluate every report, total the verdict.
 * Exit code: 2 if any input was unusable (the usable ones are still evaluated), else 1 if any
 * check failed, else 0.
 */
import path from 'node:path';
import {tryReadReportFile} from '../metrics/report-file.js';
import {evaluateReport, type InvariantId, type SlaRow} from './evaluate.js';
import {expandInputs, type InputProblem} from './inputs.js';
import {legsNote} from './legs-note.js';
import {enginesNote, unreachableNote} from './engines-note.js';
import {callerNote} from './caller-note.js';
import {defaultProfile, type SlaLevel, type SlaProfile} from './profile.js';

export interface SlaReportResult {
  file: string;
  runId: string;
  /** How the report is named in the table and verdict: the run id, plus the file if run ids repeat. */
  label: string;
  level: SlaLevel | null;
  levelCalls: number | null;
  partial: boolean;
  startedAt: string;
  pass: boolean;
  rows: SlaRow[];
  failed: InvariantId[];
  /** The report's own notes (load writes them: peak concurrency below count, steal, interruption), then the legs note. */
  notes: string[];
}

export interface SlaOutcome {
  reports: SlaReportResult[];
  errors: InputProblem[];
  checks: number;
  failedChecks: number;
  pass: boolean;
  exitCode: 0 | 1 | 2;
  /** `SLA PASS: 3 reports, 36 checks` / `SLA FAIL: 2 of 36 checks failed (run-x: lossRatio, maxLatenessMs)`. */
  verdictLine: string;
}

export interface SlaOptions {
  profile?: SlaProfile;
  level?: SlaLevel;
}

function withLegsNote(notes: string[], legs: string | null): string[] {
  return legs === null ? notes : [...notes, legs];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function evaluateFiles(args: readonly string[], opts: SlaOptions = {}): SlaOutcome {
  const profile = opts.profile ?? defaultProfile();
  const {files, problems} = expandInputs(args);
  const errors: InputProblem[] = [...problems];
  const reports: SlaReportResult[] = [];
  for (const file of files) {
    const r = tryReadReportFile(file);
    if (!r.ok) {
      errors.push({file, reason: r.reason});
      continue;
    }
    const v = evaluateReport(r.report, profile, opts.level);
    reports.push({
      file,
      runId: v.runId,
      label: v.runId,
      level: v.level,
      levelCalls: v.levelCalls,
      partial: v.partial,
      startedAt: r.report.startedAt,
      pass: v.pass,
      rows: v.rows,
      failed: v.failed,
      notes: [legsNote(r.report), callerNote(r.report), enginesNote(r.report), unreachableNote(r.report)].reduce(withLegsNote, r.report.notes ?? []),
    });
  }
  const idCount = new Map<string, number>();
  for (const r of reports) idCount.set(r.runId, (idCount.get(r.runId) ?? 0) + 1);
  for (const r of reports) if ((idCount.get(r.runId) ?? 0) > 1) r.label = `${r.runId} (${path.basename(r.file)})`;
  return summarise(reports, errors);
}

export function summarise(reports: SlaReportResult[], errors: InputProblem[]): SlaOutcome {
  const checks = reports.reduce((n, r) => n + r.rows.length, 0);
  const failedChecks = reports.reduce((n, r) => n + r.failed.length, 0);
  const exitCode: 0 | 1 | 2 = errors.length > 0 ? 2 : failedChecks > 0 ? 1 : 0;
  let verdictLine: string;
  if (exitCode === 0) {
    verdictLine = `SLA PASS: ${plural(reports.length, 'report')}, ${plural(checks, 'check')}`;
  } else {
    const parts: string[] = [];
    if (errors.length > 0) parts.push(`${plural(errors.length, 'input')} unusable (${errors.map((e) => e.file).join(', ')})`);
    if (failedChecks > 0) {
      const which = reports
        .filter((r) => r.failed.length > 0)
        .map((r) => `${r.label}: ${r.failed.join(', ')}`)
        .join('; ');
      parts.push(`${failedChecks} of ${plural(checks, 'check')} failed (${which})`);
    } else if (reports.length > 0) {
      parts.push(`${plural(checks, 'check')} on ${plural(reports.length, 'report')} passed`);
    } else {
      parts.push('no report evaluated');
    }
    verdictLine = `SLA FAIL: ${parts.join('; ')}`;
  }
  return {reports, errors, checks, failedChecks, pass: exitCode === 0, exitCode, verdictLine};
}
