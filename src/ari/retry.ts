import {realClock, type Clock} from '../runtime/clock.js';
import {isAriHttpError, type AriRest} from './rest.js';

export interface RetryOptions {
  /** Total tries including the first; default 10. */
  attempts?: number;
  /** Wait before the 2nd try; doubles each time up to maxDelayMs. Default 5 ms. */
  initialDelayMs?: number;
  /** Default 200 ms (10 tries ≈ 1 s in all). */
  maxDelayMs?: number;
  /** Stop waiting (the last error is thrown) once aborted, e.g. when the call ended meanwhile. */
  signal?: AbortSignal;
  /** Called before each wait, e.g. to count retries. */
  onRetry?: (attempt: number, err: unknown) => void;
  /** The timer the waits run on (tests drive it); default realClock. */
  clock?: Clock;
}

/**
 * Run `fn`, retrying (bounded, exponential backoff) while it fails with an ARI status in
 * `statuses`. Any other error, or the last retryable one, is thrown.
 */
export async function retryOnStatus<T>(fn: () => Promise<T>, statuses: readonly number[], opts: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 10);
  const maxDelayMs = opts.maxDelayMs ?? 200;
  let delayMs = opts.initialDelayMs ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const retryable = isAriHttpError(err) && statuses.includes(err.status);
      if (!retryable || attempt >= attempts || opts.signal?.aborted) throw err;
      opts.onRetry?.(attempt, err);
      await delay(delayMs, opts.signal, opts.clock ?? realClock);
      delayMs = Math.min(maxDelayMs, delayMs * 2);
    }
  }
}

/**
 * `addChannel` that copes with the externalMedia race (docs/design.md, call lifecycle): until the channel's own
 * StasisStart has happened, Asterisk answers 422 "Channel not in Stasis application"
 * (12–15 % of tries straight after the externalMedia response). Retries 422 only, bounded.
 * Best used after waiting for that StasisStart; this is the safety net.
 */
export function addChannelWhenInStasis(
  rest: Pick<AriRest, 'addChannel'>,
  bridgeId: string,
  channelIds: readonly string[],
  opts: RetryOptions = {},
): Promise<void> {
  return retryOnStatus(() => rest.addChannel(bridgeId, channelIds), [422], opts);
}

function delay(ms: number, signal: AbortSignal | undefined, clock: Clock): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = clock.setTimer(done, ms);
    function done(): void {
      clock.clearTimer(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, {once: true});
  });
}
