/**
 * The originate/hold/hangup loop, one for `load` and the bench's direct path: originate `count`
 * calls into a Stasis app `delayBetweenMs` apart (the appArgs of src/protocol/app-args.ts), hold
 * each for `durationMs`, then hang it up, retried with backoff until Asterisk confirms the
 * channel gone. Aborting stops originating and cuts the holds short; the spacing and hold timers
 * are cleared, so nothing keeps the process alive. Timers run on an injectable clock.
 */
import type {AriRest} from '../ari/rest.js';
import {errorMessage} from '../errors.js';
import {loadAppArgs} from '../protocol/app-args.js';
import {abortWait, sleepUnlessAborted} from '../runtime/abort.js';
import {realClock, type Clock} from '../runtime/clock.js';

export interface OriginatedCall {
  index: number;
  /** The instrument failed under the call (load's caller engine died): this is its error, before any other. */
  instrumentError?: string;
  /** The caller channel's id: `<runId>-<index>`. */
  channelId: string;
  /** Wall time the originate request was sent (ms). */
  originateStartMs: number;
  /** Wall time the originate was accepted (ms), or null: not originated. */
  originatedAtMs: number | null;
  /** Wall time the hangup began (ms), or null. */
  hungUpAtMs: number | null;
  /** The step that failed ("originate failed: …", "hangup failed …"), or null. */
  error: string | null;
  /** The hangup in progress or done (retried until the channel is confirmed gone). */
  hangup: Promise<void> | null;
  /** Set when the call was seen not to enter the Stasis app (its error says why). */
  neverEnteredApp?: boolean;
}

export interface OriginateLoopOptions {
  rest: Pick<AriRest, 'originate' | 'hangup'>;
  app: string;
  endpoint: string;
  format: string;
  runId: string;
  /** The run's secret (appArgs): serve lets only its holder consume the run's records. */
  token: string;
  count: number;
  durationMs: number;
  delayBetweenMs: number;
  /** How long a failed hangup is retried (with backoff) before it is the call's error; default 10 s. */
  hangupRetryMs?: number;
  /** Aborting stops originating and ends every hold at once (the hangups still run). */
  signal?: AbortSignal;
  /** The timer spacing, holds and backoff run on; default realClock. */
  clock?: Clock;
  /** Right before a call's originate (or startCall) is sent. */
  onStarting?: (call: OriginatedCall) => void;
  onOriginated?: (call: OriginatedCall) => void;
  onOriginateFailed?: (call: OriginatedCall) => void;
  /** Every call has been originated (or the run was aborted); the holds go on. */
  onAllOriginated?: () => void;
  /**
   * How a call is started (default: originate `endpoint` into the app with load's appArgs); rejects
   * when the call could not be started. `load --caller rtp` creates its RTP caller here.
   */
  startCall?: (call: OriginatedCall) => Promise<void>;
  /** Resolves when the call is over before its hold (it never entered the app): the hold ends then. */
  holdEnds?: (call: OriginatedCall) => Promise<void> | undefined;
  /** A hold is over, before its hangup (the bench's drain runs here). */
  beforeHangup?: (call: OriginatedCall) => Promise<void>;
  /** The hangup is done (the RTP caller's port is closed here). */
  afterHangup?: (call: OriginatedCall) => Promise<void>;
  /** A call's hangup is done (confirmed, or given up with the call's error set). */
  onHungUp?: (call: OriginatedCall) => void;
}

export class OriginateLoop {
  /** Every call whose originate was attempted, in index order. */
  readonly calls: OriginatedCall[] = [];
  private readonly clock: Clock;
  private readonly hangupRetryMs: number;

  constructor(private readonly o: OriginateLoopOptions) {
    this.clock = o.clock ?? realClock;
    this.hangupRetryMs = o.hangupRetryMs ?? 10_000;
  }

  private aborted(): boolean {
    return this.o.signal?.aborted === true;
  }

  /** Originate, hold and hang up every call; resolves when every hold is over. Never rejects. */
  async run(): Promise<void> {
    const o = this.o;
    // one listener on the signal for every call's hold (not one per call)
    const stop = abortWait(o.signal);
    const holds: Promise<void>[] = [];
    try {
      const t0Us = this.clock.nowUs();
      for (let i = 0; i < o.count && !this.aborted(); i++) {
        const waitMs = (t0Us - this.clock.nowUs()) / 1000 + i * o.delayBetweenMs;
        if (waitMs > 0) await sleepUnlessAborted(waitMs, stop, this.clock);
        if (this.aborted()) break;
        const call: OriginatedCall = {index: i, channelId: `${o.runId}-${i}`, originateStartMs: Date.now(), originatedAtMs: null, hungUpAtMs: null, error: null, hangup: null};
        this.calls.push(call);
        holds.push(this.hold(call, stop));
      }
      o.onAllOriginated?.();
      await Promise.all(holds);
    } finally {
      stop.dispose();
    }
  }

  /** Hang up every originated call (retried; a call already hung up is waited for, not hung up twice). */
  async hangUpAll(): Promise<void> {
    await Promise.allSettled(this.calls.filter((c) => c.originatedAtMs !== null).map((c) => this.hangup(c)));
  }

  private async hold(call: OriginatedCall, stop: ReturnType<typeof abortWait>): Promise<void> {
    const o = this.o;
    o.onStarting?.(call);
    try {
      if (o.startCall) await o.startCall(call);
      else await o.rest.originate({endpoint: o.endpoint, app: o.app, appArgs: loadAppArgs(o.runId, call.index, o.token), formats: o.format, channelId: call.channelId});
      call.originatedAtMs = Date.now();
    } catch (err) {
      call.error = `originate failed: ${errorMessage(err)}`;
      o.onOriginateFailed?.(call);
      return;
    }
    o.onOriginated?.(call);
    const ends = o.holdEnds?.(call);
    await sleepUnlessAborted(o.durationMs, ends ? {promise: Promise.race([stop.promise, ends]), dispose: () => undefined} : stop, this.clock);
    if (o.beforeHangup) await o.beforeHangup(call).catch(() => undefined);
    await this.hangup(call);
    if (o.afterHangup) await o.afterHangup(call).catch(() => undefined);
    o.onHungUp?.(call);
  }

  /**
   * Hang a call up, retried with backoff (100 ms doubling to 2 s) until Asterisk confirms the
   * channel gone (204, or 404: already gone) or `hangupRetryMs` has passed. A channel still up
   * then is the call's error ("hangup failed …"), and load's leak check finds it: the run fails.
   * Idempotent: a second call waits for the first.
   */
  private hangup(call: OriginatedCall): Promise<void> {
    call.hangup ??= (async () => {
      call.hungUpAtMs = Date.now();
      const startUs = this.clock.nowUs();
      const elapsedMs = () => (this.clock.nowUs() - startUs) / 1000;
      let backoffMs = 100;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.o.rest.hangup(call.channelId); // 404 resolves (false): already gone
          return;
        } catch (err) {
          if (elapsedMs() + backoffMs > this.hangupRetryMs) {
            call.error ??= `hangup failed (${attempt} attempts in ${Math.round(elapsedMs())} ms): ${errorMessage(err)}`;
            return;
          }
        }
        await new Promise<void>((resolve) => this.clock.setTimer(resolve, backoffMs));
        backoffMs = Math.min(2000, backoffMs * 2);
      }
    })();
    return call.hangup;
  }
}
