/**
 * RTPSLA_FAULTS_DRY=1 runs the scenarios without injecting their faults: each of these four must
 * then fail exactly its "fault fired" checks (and pass the rest), which shows those checks tell a
 * fault that never fired from one that was survived.
 */
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import type {FaultsReport} from '../../src/faults/suite.js';
import {ROOT} from '../helpers/cli.js';

const SCENARIOS = ['websocket-drop-x5', 'failed-hangup', 'echo-restart', 'garbage-datagrams'];
const out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-faults-dry-'));
let report: FaultsReport | null = null;
let status: number | null = null;
let stdout = '';

beforeAll(() => {
  const r = spawnSync(process.execPath, ['--no-memory-reducer', path.join(ROOT, 'dist', 'faults', 'main.js'), '--only', SCENARIOS.join(','), '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 150_000,
    env: {...process.env, RTPSLA_FAULTS_DRY: '1'},
  });
  status = r.status;
  stdout = `${r.stdout}\n${r.stderr}`;
  const files = readdirSync(out).filter((f) => f.endsWith('.json'));
  if (files.length === 1) report = JSON.parse(readFileSync(path.join(out, files[0]), 'utf8')) as FaultsReport;
}, 160_000);

afterAll(() => rmSync(out, {recursive: true, force: true}));

describe('RTPSLA_FAULTS_DRY=1', () => {
  test('the suite says dry, injects nothing and exits 1', () => {
    expect(report?.dry).toBe(true);
    expect(status).toBe(1);
    expect(stdout).toContain('[DRY: no fault injected]');
    expect(report!.scenarios.map((s) => s.scenario).sort()).toEqual([...SCENARIOS].sort());
    for (const s of report!.scenarios) {
      expect(s.injected.length).toBeGreaterThan(0);
      expect(s.injected.every((i) => i.endsWith('(skipped: dry)'))).toBe(true);
    }
  });

  test.each(SCENARIOS)('%s fails exactly its "fault fired" checks', (name) => {
    const s = report?.scenarios.find((x) => x.scenario === name);
    expect(s).toBeDefined();
    const firedChecks = s!.checks.filter((c) => c.fired).map((c) => c.what);
    const notMet = s!.checks.filter((c) => !c.ok).map((c) => c.what);
    expect(firedChecks.length).toBeGreaterThan(0);
    // what was measured, when it differs
    expect({scenario: name, notMet, measured: s!.measured}).toEqual({scenario: name, notMet: firedChecks, measured: s!.measured});
    expect(s!.pass).toBe(false);
  });
});
