import {realClock, type Clock, type ClockTimer} from './clock.js';

/** A promise that resolves when `signal` aborts, with one listener for any number of waiters. */
export interface AbortWait {
  /** Resolves on abort (at once if the signal was already aborted); never rejects. */
  readonly promise: Promise<void>;
  /** Remove the listener: the caller's signal may outlive this use (bench runs many phases on one). */
  dispose(): void;
}

export function abortWait(signal: AbortSignal | undefined): AbortWait {
  let onAbort = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    if (signal?.aborted) resolve();
    onAbort = () => resolve();
    signal?.addEventListener('abort', onAbort, {once: true});
  });
  return {promise, dispose: () => signal?.removeEventListener('abort', onAbort)};
}

/**
 * Sleep `ms`, or less when `aborted` fires first; the timer is cleared either way, so an aborted
 * run leaves no timer behind to keep the process alive (Ctrl-C during a 30 s hold). `clock`:
 * the timer it runs on (tests drive it); default realClock.
 */
export async function sleepUnlessAborted(ms: number, aborted: AbortWait, clock: Clock = realClock): Promise<void> {
  let timer: ClockTimer | undefined;
  try {
    await Promise.race([new Promise<void>((resolve) => (timer = clock.setTimer(resolve, ms))), aborted.promise]);
  } finally {
    if (timer !== undefined) clock.clearTimer(timer);
  }
}
