/**
 * The CI subset of `npm run faults`: the suite runs once against the built binary
 * (`npm test` builds first) and each scenario of the subset is one test here, so the closing
 * "N passed, N failed" line counts them. The full suite (`npm run faults`) stays outside CI.
 */
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import {CI_SCENARIOS} from '../../src/faults/scenarios.js';
import type {FaultsReport} from '../../src/faults/suite.js';
import {ROOT} from '../helpers/cli.js';

const out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-faults-ci-'));
let report: FaultsReport | null = null;
let stdout = '';

beforeAll(() => {
  const r = spawnSync(process.execPath, ['--no-memory-reducer', path.join(ROOT, 'dist', 'faults', 'main.js'), '--subset', 'ci', '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 240_000,
  });
  stdout = `${r.stdout}\n${r.stderr}`;
  const files = readdirSync(out).filter((f) => f.endsWith('.json'));
  if (files.length === 1) report = JSON.parse(readFileSync(path.join(out, files[0]), 'utf8')) as FaultsReport;
}, 250_000);

afterAll(() => rmSync(out, {recursive: true, force: true}));

describe('npm run faults --subset ci', () => {
  test('writes its report and a closing line that agrees with it', () => {
    expect(report).not.toBeNull();
    expect(report!.scenarios.map((s) => s.scenario)).toEqual([...CI_SCENARIOS]);
    expect(stdout).toContain(report!.failed === 0 ? `FAULTS PASS: ${CI_SCENARIOS.length} of ${CI_SCENARIOS.length}` : 'FAULTS FAIL');
  });

  test.each([...CI_SCENARIOS])('%s meets its expectation', (name) => {
    const s = report?.scenarios.find((x) => x.scenario === name);
    expect(s).toBeDefined();
    // the checks not met and what was measured, when it fails
    expect({scenario: name, notMet: s!.checks.filter((c) => !c.ok).map((c) => c.what), measured: s!.measured}).toEqual({
      scenario: name,
      notMet: [],
      measured: s!.measured,
    });
    expect(s!.crashes).toEqual([]);
    expect(s!.pass).toBe(true);
  });
});
