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
