/**
 * SIGINT/SIGTERM for every long-running command (load, bench, serve, echo, sim, demo): the first
 * signal asks for a graceful stop (hang up, write what was measured, close), a second one exits
 * at once with code 130. A signal that comes within SAME_STOP_MS of the first is the same stop
 * request reaching the command twice (Ctrl-C reaches both bin/run.js and the command it started,
 * which passes it on; `pkill` or systemd signal both), not a second one.
 */

export type StopSignalName = 'SIGINT' | 'SIGTERM';

/** The part of `process` the helper uses; tests pass an EventEmitter. */
export interface SignalSource {
  on(event: StopSignalName, listener: () => void): unknown;
  off(event: StopSignalName, listener: () => void): unknown;
}

export interface StopSignalOptions {
  /** Written to stderr (with a newline) at the first signal. */
  message?: string;
  /** Called at the second signal, just before exiting (e.g. kill child processes). */
  onSecond?: () => void;
  /** Defaults: `process`, `process.stderr.write`, `process.exit`, `Date.now`. */
  source?: SignalSource;
  nowMs?: () => number;
  write?: (line: string) => void;
  exit?: (code: number) => void;
}

export interface StopSignals {
  /** Aborted at the first signal. */
  readonly signal: AbortSignal;
  /** Resolves with the first signal's name. */
  readonly stopped: Promise<StopSignalName>;
  /** Remove the listeners (the command is done). */
  dispose(): void;
}

export const SECOND_SIGNAL_EXIT_CODE = 130;
/** Signals this close to the first count as the same request. */
export const SAME_STOP_MS = 500;

/** Install the handlers now: whoever sees the command's ready line may signal it right away. */
export function onStopSignals(o: StopSignalOptions = {}): StopSignals {
  const source = o.source ?? process;
  const write = o.write ?? ((line: string) => void process.stderr.write(line));
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const nowMs = o.nowMs ?? Date.now;
  let firstAtMs = 0;
  const controller = new AbortController();
  let resolveStopped!: (name: StopSignalName) => void;
  const stopped = new Promise<StopSignalName>((resolve) => (resolveStopped = resolve));
  const handler = (name: StopSignalName) => () => {
    if (controller.signal.aborted) {
      if (nowMs() - firstAtMs < SAME_STOP_MS) return; // the first one, passed on by bin/run.js
      o.onSecond?.();
      exit(SECOND_SIGNAL_EXIT_CODE);
      return;
    }
    if (o.message !== undefined) write(`${o.message}\n`);
    firstAtMs = nowMs();
    controller.abort();
    resolveStopped(name);
  };
  const onInt = handler('SIGINT');
  const onTerm = handler('SIGTERM');
  source.on('SIGINT', onInt);
  source.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    stopped,
    dispose: () => {
      source.off('SIGINT', onInt);
      source.off('SIGTERM', onTerm);
    },
  };
}
