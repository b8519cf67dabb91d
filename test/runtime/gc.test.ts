import {execFileSync, spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {NODE_FLAGS, hasNodeFlags} from '../../src/runtime/gc.js';
import {LONG_RUNNING_COMMANDS, RELAUNCHED_ENV, needsRelaunch} from '../../src/runtime/relaunch.js';
import {runCli, sleep} from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

describe('node flags of rtpsla processes', () => {
  test('npm start and npm run bench run node with them; the shebang stays plain (BusyBox env has no -S)', () => {
    const shebang = readFileSync(BIN, 'utf8').split('\n', 1)[0];
    expect(shebang).toBe('#!/usr/bin/env node');
    const scripts = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {scripts: Record<string, string>}).scripts;
    expect(scripts.start).toContain(`node ${NODE_FLAGS.join(' ')} bin/run.js`);
    expect(scripts.bench).toContain(`node ${NODE_FLAGS.join(' ')} bin/run.js`);
  });

  test('hasNodeFlags reads the exec arguments', () => {
    expect(hasNodeFlags(['--no-memory-reducer', '--inspect'])).toBe(true);
    expect(hasNodeFlags(['--inspect'])).toBe(false);
  });

  test('only a long-running command started without the flags is relaunched, and only once', () => {
    expect([...LONG_RUNNING_COMMANDS].sort()).toEqual(['bench', 'demo', 'echo', 'load', 'serve', 'sim']);
    expect(needsRelaunch(['load', '--count', '3'], [], {})).toBe(true);
    expect(needsRelaunch(['load'], [...NODE_FLAGS], {})).toBe(false);
    expect(needsRelaunch(['load'], [], {[RELAUNCHED_ENV]: '1'})).toBe(false);
    expect(needsRelaunch(['sla', 'reports/x.json'], [], {})).toBe(false);
    expect(needsRelaunch(['--help'], [], {})).toBe(false);
    expect(needsRelaunch([], [], {})).toBe(false);
  });

  test('a short command started without the flags just runs', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rtpsla\/\d/);
  });

  test('echo started without the flags runs relaunched with them; one SIGINT to the launcher stops it gracefully', async () => {
    const launcher = spawn(process.execPath, [BIN, 'echo', '--port', '0', '--log-level', 'info'], {stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    launcher.stdout.on('data', (d: Buffer) => (out += d.toString()));
    launcher.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => launcher.on('close', (code) => r(code)));
    let childPid = 0;
    try {
      const deadline = Date.now() + 15_000;
      while (!/listening|echo\.start|bound/i.test(out) && Date.now() < deadline) await sleep(50);
      // the child: same command line, with the flags, as its own process group
      const ps = execFileSync('ps', ['-eo', 'pid=,pgid=,ppid=,args='], {encoding: 'utf8'});
      const child = ps.split('\n').find((l) => l.includes(`${NODE_FLAGS.join(' ')} ${BIN} echo --port 0`));
      expect(child).toBeDefined();
      const [pid, pgid, ppid] = child!.trim().split(/\s+/).map(Number);
      childPid = pid;
      expect(ppid).toBe(launcher.pid);
      expect(pgid).toBe(pid);
      launcher.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toMatch(/packetsIn=0/); // echo's final counters: the graceful stop ran
      expect(execFileSync('ps', ['-eo', 'pid='], {encoding: 'utf8'}).split('\n').map(Number)).not.toContain(pid);
    } finally {
      // a failed assertion must not leave the echo (its own process group) running
      if (launcher.exitCode === null) launcher.kill('SIGKILL');
      if (childPid > 0) {
        try {
          process.kill(childPid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }, 30_000);
});
