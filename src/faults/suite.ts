/**
 * `npm run faults`: runs the scenarios one after another (each bounded in time, each on its own
 * processes), writes `<outDir>/<timestamp>.json` and prints one table row per scenario: what was
 * done, what was expected, what was measured (crashes, leaks, packets lost, exit codes).
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import Table from 'cli-table3';
import {TOOL_VERSION} from '../version.js';
import {FaultContext, faultsDry} from './harness.js';
import {SCENARIOS, describeError, type Check, type Figures, type Scenario} from './scenarios.js';

export interface ScenarioResult {
  scenario: string;
  done: string;
  expected: string;
  measured: string[];
  checks: Check[];
  /** The faults the scenario injected (dry: each marked skipped). */
  injected: string[];
  /** Processes that exited on their own with a failure. */
  crashes: string[];
  figures: Figures;
  pass: boolean;
  durationMs: number;
}

export interface FaultsReport {
  schema: 'rtpsla.faults/v1';
  tool: {name: 'rtpsla'; version: string};
  startedAt: string;
  endedAt: string;
  subset: 'ci' | 'all';
  /** RTPSLA_FAULTS_DRY=1: no fault was injected; every scenario must then fail its "fault fired" checks. */
  dry: boolean;
  scenarios: ScenarioResult[];
  passed: number;
  failed: number;
}

export interface SuiteOptions {
  subset: 'ci' | 'all';
  only?: string[];
  outDir: string;
  log?: (line: string) => void;
}

async function runOne(s: Scenario, log: (line: string) => void): Promise<ScenarioResult> {
  const ctx = new FaultContext();
  const t0 = Date.now();
  let outcome: {measured: string[]; checks: Check[]; figures: Figures};
  let timer: NodeJS.Timeout | undefined;
  try {
    outcome = await Promise.race([
      s.run(ctx),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`did not finish within ${s.timeoutMs / 1000} s`)), s.timeoutMs))),
    ]);
  } catch (err) {
    outcome = {measured: [`scenario error: ${describeError(err)}`], checks: [{what: 'scenario ran to its end', ok: false}], figures: {}};
  } finally {
    clearTimeout(timer);
  }
  const crashes = ctx.crashes();
  await ctx.cleanup();
  const checks = [...outcome.checks, {what: 'no process crashed', ok: crashes.length === 0}];
  const result: ScenarioResult = {
    scenario: s.name,
    done: s.done,
    expected: s.expected,
    measured: [figuresLine(crashes, outcome.figures), ...(ctx.dry ? [`dry: not injected: ${ctx.injections.map((i) => i.replace(/ \(skipped: dry\)$/, '')).join('; ') || 'nothing'}`] : []), ...outcome.measured],
    checks,
    injected: [...ctx.injections],
    crashes,
    figures: outcome.figures,
    pass: checks.every((c) => c.ok),
    durationMs: Date.now() - t0,
  };
  log(`faults: ${result.pass ? 'PASS' : 'FAIL'} ${s.name} (${(result.durationMs / 1000).toFixed(1)} s)${result.pass ? '' : `: not met: ${checks.filter((c) => !c.ok).map((c) => c.what).join('; ')}`}`);
  return result;
}

/** The figures every row shows first: crashes, leaks, packets lost, exit codes. */
function figuresLine(crashes: string[], f: Figures): string {
  const n = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : String(v));
  const parts = [`crashes ${crashes.length ? crashes.join(', ') : 0}`];
  if (f.leaked) parts.push(`leaked ch/br/ports ${n(f.leaked.channels)}/${n(f.leaked.bridges)}/${n(f.leaked.ports)}`);
  if (f.lost !== undefined) parts.push(`lost ${n(f.lost)}`);
  if (f.exitCodes) parts.push(`exits: ${Object.entries(f.exitCodes).map(([k, v]) => `${k} ${v.replace(/^exit /, '')}`).join(', ')}`);
  return parts.join(' · ');
}

export async function runFaults(o: SuiteOptions): Promise<{report: FaultsReport; path: string}> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const chosen = SCENARIOS.filter((s) => (o.only?.length ? o.only.includes(s.name) : o.subset === 'all' || s.ci));
  const unknown = (o.only ?? []).filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const startedAt = new Date();
  const results: ScenarioResult[] = [];
  for (const s of chosen) {
    log(`faults: ${s.name}: ${s.done}`);
    results.push(await runOne(s, log));
  }
  const report: FaultsReport = {
    schema: 'rtpsla.faults/v1',
    tool: {name: 'rtpsla', version: TOOL_VERSION},
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    subset: o.subset,
    dry: faultsDry(),
    scenarios: results,
    passed: results.filter((r) => r.pass).length,
    failed: results.filter((r) => !r.pass).length,
  };
  mkdirSync(o.outDir, {recursive: true});
  const file = path.join(o.outDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return {report, path: file};
}

/** The table: one row per scenario (plain text, wrapped to fit ~160 columns). */
export function renderFaultsTable(report: FaultsReport): string {
  const table = new Table({
    head: ['scenario', 'done', 'expected', 'measured', 'result'],
    colWidths: [25, 34, 38, 56, 8],
    wordWrap: true,
    style: {head: [], border: []},
  });
  for (const r of report.scenarios) {
    const notMet = r.checks.filter((c) => !c.ok).map((c) => `✗ ${c.fired ? '(fault fired) ' : ''}${c.what}`);
    table.push([r.scenario, r.done, r.expected, [...r.measured, ...notMet].join('\n'), r.pass ? 'PASS' : 'FAIL']);
  }
  return table.toString();
}

export function closingLine(report: FaultsReport): string {
  const n = report.scenarios.length;
  const line = report.failed === 0
    ? `FAULTS PASS: ${n} of ${n} scenarios met their expectation`
    : `FAULTS FAIL: ${report.failed} of ${n} scenarios did not (${report.scenarios.filter((r) => !r.pass).map((r) => r.scenario).join(', ')})`;
  return report.dry ? `${line} [DRY: no fault injected]` : line;
}
