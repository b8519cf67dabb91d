import {CliProcess} from './cli.js';

// A child left running by a test file (a bug in that test) would keep jest from exiting:
// stop it, and say so, so the leak is visible instead of hanging CI.
afterAll(async () => {
  const left = [...CliProcess.live];
  if (left.length === 0) return;
  process.stderr.write(`test left ${left.length} child process(es) running: ${left.map((p) => p.child.spawnargs.slice(2, 4).join(' ')).join(', ')}; stopping them\n`);
  await Promise.all(left.map((p) => p.stop('SIGKILL', 1000)));
});
