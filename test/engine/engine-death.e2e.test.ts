/**
 * The echo and the sim are simple stand-ins a supervisor restarts: when their native engine dies
 * (kill -9, as an OOM killer would), they exit non-zero with one line naming the death.
 */
import {execFileSync} from 'node:child_process';
import {CliProcess} from '../helpers/cli.js';

/** The pid of `parent`'s rtpsla-engine child. */
function enginePidOf(parent: number): number {
  const out = execFileSync('pgrep', ['-P', String(parent), '-f', 'rtpsla-engine'], {encoding: 'utf8'}).trim();
  const pid = Number(out.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no rtpsla-engine child of ${parent}: "${out}"`);
  return pid;
}

test.each([
  ['echo', ['echo', '--port', '0', '--engine', 'native', '--stats-interval-sec', '0'], /echo engine native/],
  ['sim', ['sim', '--port', '0', '--engine', 'native', '--rtp-range', '25000-25999'], /listening on http/],
])('%s: its engine killed → exit 1 with one line', async (name, args, ready) => {
  const p = new CliProcess(args, {ARI_USER: 'rtpsla', ARI_PASS: 'engine-death-test'});
  await p.waitFor(ready as RegExp);
  process.kill(enginePidOf(p.child.pid!), 'SIGKILL');
  const exit = await p.exited();
  expect(exit.code).toBe(1);
  const lines = p.stderr.split('\n').filter((l) => l.startsWith(`rtpsla ${name}:`));
  expect(lines).toEqual([`rtpsla ${name}: the ${name} media engine died: media engine died (SIGKILL)`]);
});
