/**
 * Started as plain `rtpsla load` (no Node flags), bin/run.js starts the command again with the
 * flags V8 needs at start-up and stands in front of it: Ctrl-C still gives a partial report and
 * exit 130, whether the signal reaches only bin/run.js or both processes (a terminal's Ctrl-C).
 */
import {spawn} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {BIN} from '../helpers/cli.js';
import {ARI_PASS, ARI_USER, startStack, type Stack} from '../helpers/stack.js';

let stack: Stack;
let out: string;
beforeAll(async () => {
  stack = await startStack();
  out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-reexec-'));
});
afterAll(async () => {
  await stack?.stop();
  rmSync(out, {recursive: true, force: true});
});

test.each([
  ['bin/run.js alone', false],
  ['its whole process group, as a terminal does', true],
])('SIGINT to %s: a partial report and exit 130', async (_what, group) => {
  const runId = group ? 'reexec-group' : 'reexec-parent';
  // a plain `node bin/run.js` (no --no-memory-reducer), in its own process group like a shell job
  const p = spawn(process.execPath, [BIN, 'load', '--caller', 'rtp', '--serve-url', stack.serveUrl, '--out', out, '--count', '2', '--duration-ms', '20000', '--run-id', runId], {
    env: {...process.env, ARI_URL: stack.simUrl, ARI_USER, ARI_PASS, NO_COLOR: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => p.on('exit', (code, signal) => resolve({code, signal})));
  const deadline = Date.now() + 20_000;
  while (!/holding/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(stderr).toMatch(/holding/);
  if (group) process.kill(-p.pid!, 'SIGINT');
  else process.kill(p.pid!, 'SIGINT');
  const exit = await exited;
  expect(exit).toEqual({code: 130, signal: null});
  expect(stderr).toContain('load: interrupted');
  const file = path.join(out, `${runId}.json`);
  expect(existsSync(file)).toBe(true);
  expect((JSON.parse(readFileSync(file, 'utf8')) as {partial?: boolean}).partial).toBe(true);
}, 60_000);
