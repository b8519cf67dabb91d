/**
 * The engine-killed scenario proves the kill happened (serve's engine pid changed): with restarting
 * turned off (RTPSLA_ENGINE_RESTART=0) serve exits instead, and the scenario must fail.
 */
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import type {FaultsReport} from '../../src/faults/suite.js';
import {ROOT} from '../helpers/cli.js';

test('with RTPSLA_ENGINE_RESTART=0 engine-killed fails: no new engine, serve exits 1 with one line', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-faults-norestart-'));
  try {
    const r = spawnSync(process.execPath, ['--no-memory-reducer', path.join(ROOT, 'dist', 'faults', 'main.js'), '--only', 'engine-killed', '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: {...process.env, RTPSLA_ENGINE_RESTART: '0'},
    });
    expect(r.status).toBe(1);
    const file = readdirSync(out).find((f) => f.endsWith('.json'))!;
    const report = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as FaultsReport;
    const s = report.scenarios[0];
    expect(s.pass).toBe(false);
    expect(s.checks.find((c) => c.what.startsWith('the kill happened'))?.ok).toBe(false);
    // serve died with its own line, reported as an unexpected exit of serve
    expect(JSON.stringify(s)).toMatch(/serve/);
  } finally {
    rmSync(out, {recursive: true, force: true});
  }
}, 130_000);
