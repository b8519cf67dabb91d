import {spawn} from 'node:child_process';
import {constants} from 'node:os';
import {NODE_FLAGS, hasNodeFlags} from './gc.js';

/** Commands that run beside the media path for a while: they run with NODE_FLAGS. */
export const LONG_RUNNING_COMMANDS: ReadonlySet<string> = new Set(['load', 'serve', 'echo', 'sim', 'bench', 'demo']);

/** Set in the relaunched child, so it never relaunches again. */
export const RELAUNCHED_ENV = 'RTPSLA_RELAUNCHED';

const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** True when `argv` (the arguments after the script) should run again with NODE_FLAGS. */
export function needsRelaunch(argv: readonly string[], execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): boolean {
  return process.platform !== 'win32' && !hasNodeFlags(execArgv) && env[RELAUNCHED_ENV] !== '1' && LONG_RUNNING_COMMANDS.has(argv[0] ?? '');
}

/**
 * `rtpsla load|serve|echo|sim|bench|demo` started without NODE_FLAGS (the shebang is plain
 * `#!/usr/bin/env node`, since `env -S` is missing from BusyBox): run the same command line again
 * in a child with them and stand in for it. The child gets its own process group, so a Ctrl-C at
 * the terminal reaches it once, through this process (a second SIGINT means "quit at once" to
 * load and serve). SIGINT, SIGTERM and SIGHUP are forwarded; the promise gives the child's exit
 * code (128 + signal number if a signal ended it). Returns null when no relaunch is needed.
 */
export function relaunchWithNodeFlags(script: string, argv: readonly string[] = process.argv.slice(2)): Promise<number> | null {
  if (!needsRelaunch(argv)) return null;
  const child = spawn(process.execPath, [...NODE_FLAGS, ...process.execArgv, script, ...argv], {
    stdio: 'inherit',
    detached: true,
    env: {...process.env, [RELAUNCHED_ENV]: '1'},
  });
  const handlers = FORWARDED_SIGNALS.map((sig) => {
    const h = (): void => {
      child.kill(sig);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return new Promise((resolve) => {
    const done = (code: number): void => {
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(code);
    };
    child.once('error', (err) => {
      process.stderr.write(`rtpsla: cannot start ${process.execPath}: ${err.message}\n`);
      done(1);
    });
    child.once('exit', (code, signal) => done(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1)));
  });
}
