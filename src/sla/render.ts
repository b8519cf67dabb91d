/**
 * `sla` output: the table (cli-table3 + chalk), the JSON document and JUnit XML.
 */
import {Chalk, type ChalkInstance} from 'chalk';
import Table from 'cli-table3';
import {ConfigError, errorMessage} from '../errors.js';
import {atomicWriteFile} from '../runtime/atomic-write.js';
import type {SlaOutcome, SlaReportResult} from './run.js';
import type {SlaRow} from './evaluate.js';

/**
 * Colour level for stdout: FORCE_COLOR wins (chalk's own detection), then NO_COLOR (any
 * non-empty value) turns colour off, then colour only when stdout is a TTY.
 */
export function stdoutColorLevel(env: NodeJS.ProcessEnv = process.env, isTTY = process.stdout.isTTY === true): 0 | 1 | 2 | 3 {
  if (env.FORCE_COLOR !== undefined) return new Chalk().level;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (!isTTY) return 0;
  return (new Chalk().level || 1) as 1 | 2 | 3;
}

function levelText(r: SlaReportResult): string {
  if (r.level === null) return 'none';
  return `${r.level} (${r.levelCalls})`;
}

/** The table (one row per report × invariant) followed by the verdict line, newline-terminated. */
export function renderTable(outcome: SlaOutcome, chalk: ChalkInstance = new Chalk({level: 0})): string {
  const out: string[] = [];
  if (outcome.reports.length > 0) {
    const table = new Table({
      head: ['report', 'level', 'invariant', 'measured', 'limit', 'result'].map((h) => chalk.bold(h)),
      style: {head: [], border: []},
      chars: {mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': ''},
    });
    for (const r of outcome.reports) {
      for (const row of r.rows) {
        table.push([
          r.label,
          levelText(r),
          row.invariant,
          row.pass ? row.measuredText : chalk.red(row.measuredText),
          row.limitText,
          row.applies === false ? chalk.dim('n/a') : row.pass ? chalk.green('PASS') : chalk.bold.red('FAIL'),
        ]);
      }
    }
    out.push(table.toString());
  }
  for (const r of outcome.reports) for (const note of r.notes) out.push(chalk.yellow(`note (${r.label}): ${note}`));
  out.push(outcome.pass ? chalk.bold.green(outcome.verdictLine) : chalk.bold.red(outcome.verdictLine));
  return `${out.join('\n')}\n`;
}

/** The `--json` document. */
export function renderJson(outcome: SlaOutcome): unknown {
  return {
    verdict: {
      pass: outcome.pass,
      exitCode: outcome.exitCode,
      line: outcome.verdictLine,
      reports: outcome.reports.length,
      checks: outcome.checks,
      failedChecks: outcome.failedChecks,
      invalidInputs: outcome.errors.length,
    },
    reports: outcome.reports.map((r) => ({
      file: r.file,
      runId: r.runId,
      level: r.level,
      levelCalls: r.levelCalls,
      partial: r.partial,
      pass: r.pass,
      failed: r.failed,
      rows: r.rows,
      notes: r.notes,
    })),
    errors: outcome.errors.map((e) => ({file: e.file, reason: e.reason})),
  };
}

/** Escapes text for XML attribute values and content; drops characters XML 1.0 cannot carry. */
export function xmlEscape(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

function failureMessage(row: SlaRow): string {
  return `${row.invariant}: measured ${row.measuredText}, limit ${row.limitText}`;
}

/** JUnit XML: one testsuite per report, one testcase per invariant; unusable inputs as errored testcases. */
export function renderJunit(outcome: SlaOutcome): string {
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const tests = outcome.checks + outcome.errors.length;
  lines.push(
    `<testsuites${attrs({name: 'rtpsla sla', tests, failures: outcome.failedChecks, errors: outcome.errors.length, time: 0})}>`,
  );
  for (const r of outcome.reports) {
    const classname = `rtpsla.sla.${r.runId}`;
    lines.push(
      `  <testsuite${attrs({
        name: r.label,
        tests: r.rows.length,
        failures: r.failed.length,
        errors: 0,
        skipped: 0,
        time: 0,
        timestamp: r.startedAt,
        file: r.file,
      })}>`,
    );
    lines.push('    <properties>');
    lines.push(`      <property${attrs({name: 'file', value: r.file})}/>`);
    lines.push(`      <property${attrs({name: 'level', value: r.level ?? 'none'})}/>`);
    if (r.levelCalls !== null) lines.push(`      <property${attrs({name: 'levelCalls', value: r.levelCalls})}/>`);
    lines.push(`      <property${attrs({name: 'partial', value: String(r.partial)})}/>`);
    lines.push('    </properties>');
    for (const row of r.rows) {
      const open = `    <testcase${attrs({classname, name: row.invariant, time: 0})}`;
      if (row.pass) {
        lines.push(`${open}/>`);
      } else {
        lines.push(`${open}>`);
        lines.push(
          `      <failure${attrs({message: failureMessage(row), type: 'SlaViolation'})}>${xmlEscape(
            `${row.description}\nmeasured: ${row.measuredText}\nlimit: ${row.limitText}`,
          )}</failure>`,
        );
        lines.push('    </testcase>');
      }
    }
    lines.push('  </testsuite>');
  }
  for (const e of outcome.errors) {
    lines.push(`  <testsuite${attrs({name: e.file, tests: 1, failures: 0, errors: 1, skipped: 0, time: 0, file: e.file})}>`);
    lines.push(`    <testcase${attrs({classname: 'rtpsla.sla.input', name: e.file, time: 0})}>`);
    lines.push(`      <error${attrs({message: `${e.file}: ${e.reason}`, type: 'InvalidInput'})}/>`);
    lines.push('    </testcase>');
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

/** Writes an output file of flag `setting` atomically (src/runtime/atomic-write.ts); a failure is one ConfigError line. */
export function writeFileAtomic(file: string, text: string, setting = '--junit'): void {
  try {
    atomicWriteFile(file, text);
  } catch (err) {
    throw new ConfigError(`${setting} ${file}: cannot write: ${errorMessage(err)}`);
  }
}
