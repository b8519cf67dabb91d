#!/usr/bin/env node
// rtpsla. The long-running commands need Node flags V8 reads only at start-up (src/runtime/gc.ts:
// --no-memory-reducer): started without them, this process starts the command again with them
// and stands in front of it, passing every stop signal on (the command counts a signal that
// reaches it twice at once as one) and leaving with the command's exit code or signal.
import {spawn} from 'node:child_process';
import {fileURLToPath} from 'node:url';

const NODE_FLAGS = ['--no-memory-reducer'];
const LONG_RUNNING = new Set(['serve', 'load', 'echo', 'sim', 'demo', 'bench', 'capacity']);
const command = process.argv[2];

if (LONG_RUNNING.has(command) && !NODE_FLAGS.every((f) => process.execArgv.includes(f)) && process.env.RTPSLA_REEXEC !== '0') {
  const child = spawn(process.execPath, [...process.execArgv, ...NODE_FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: {...process.env, RTPSLA_REEXEC_PARENT: String(process.pid)},
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.exitCode === null && child.kill(sig));
  child.on('error', (err) => {
    process.stderr.write(`rtpsla: cannot start ${process.execPath}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
} else {
  const {execute} = await import('@oclif/core');
  await execute({dir: import.meta.url});
}
