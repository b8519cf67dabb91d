/**
 * load's caller engine is part of the instrument: when it dies mid-run (kill -9), load does not
 * measure on without it. It hangs up, writes the partial report with its calls failed for the
 * engine's reason, and exits 1 with one line.
 */
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {CliProcess, sleep} from '../helpers/cli.js';
import {ARI_PASS, ARI_USER, startStack, type Stack} from '../helpers/stack.js';
import type {Report} from '../../src/protocol/report.js';

let stack: Stack;
let out: string;
beforeAll(async () => {
  stack = await startStack();
  out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-callerdeath-'));
});
afterAll(async () => {
  await stack?.stop();
  rmSync(out, {recursive: true, force: true});
});

test('the caller engine killed mid-run: exit 1 with one line, a partial report, every call failed with the engine reason', async () => {
  const load = new CliProcess(
    ['load', '--caller', 'rtp', '--engine', 'native', '--serve-url', stack.serveUrl, '--out', out, '--count', '3', '--duration-ms', '8000', '--run-id', 'caller-death'],
    {ARI_URL: stack.simUrl, ARI_USER, ARI_PASS},
  );
  await load.waitFor(/holding/, 20_000);
  await sleep(1500);
  const pid = Number(execFileSync('pgrep', ['-P', String(load.child.pid), '-f', 'rtpsla-engine'], {encoding: 'utf8'}).trim().split('\n')[0]);
  process.kill(pid, 'SIGKILL');
  const exit = await load.exited();
  expect(exit.code).toBe(1);
  const lines = load.stderr.split('\n').filter((l) => l.startsWith('rtpsla load:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^rtpsla load: load's caller media engine died \(SIGKILL\): the run was cut short; partial report .*caller-death\.json$/);
  const report = JSON.parse(readFileSync(path.join(out, 'caller-death.json'), 'utf8')) as Report;
  expect(report.partial).toBe(true);
  expect(report.calls).toHaveLength(3);
  for (const c of report.calls) expect(c.error).toMatch(/^media engine died \(SIGKILL\) at \d+\.\d s$/);
}, 60_000);
