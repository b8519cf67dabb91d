/**
 * load's watch on its own calls: a subscribeAll events stream for an app of load's own
 * (`<app>-load-<runId>`, never serve's app, whose events it would take: ApplicationReplaced)
 * feeding a CallFollower. A call that never enters serve's app fails at once with Asterisk's
 * reason and its hold ends.
 */
import {openEventStream, type EventStream} from '../ari/event-stream.js';
import {errorMessage} from '../errors.js';
import {CallFollower} from './call-follower.js';
import type {OriginateLoopOptions, OriginatedCall} from './originate.js';

export interface CallWatch {
  /** The OriginateLoop hooks that follow each call. */
  hooks: Pick<OriginateLoopOptions, 'onStarting' | 'holdEnds'> & {originated: (call: OriginatedCall) => void; failedToStart: (call: OriginatedCall) => void};
  /** Why the calls could not be followed (a report note), or null. */
  note: string | null;
  close(): void;
}

export interface CallWatchOptions {
  ariUrl: string;
  ariUser: string;
  ariPass: string;
  app: string;
  runId: string;
  /** What each call dials (shown in the reason). */
  endpointOf: (call: OriginatedCall) => string;
  /** A call never entered the app. */
  onNeverEntered?: (call: OriginatedCall) => void;
  timeoutMs?: number;
}

export async function watchCalls(o: CallWatchOptions): Promise<CallWatch> {
  const byIndex = new Map<number, OriginatedCall>();
  const follower = new CallFollower({
    app: o.app,
    timeoutMs: o.timeoutMs,
    onFailed: (index, reason) => {
      const call = byIndex.get(index);
      // load's own hangup (end of the hold, Ctrl-C) ends a call that was not followed to the end
      if (!call || call.hungUpAtMs !== null) return;
      call.error = reason;
      call.neverEnteredApp = true;
      o.onNeverEntered?.(call);
    },
  });
  let stream: EventStream | null = null;
  let note: string | null = null;
  try {
    stream = await openEventStream({url: o.ariUrl, user: o.ariUser, pass: o.ariPass, app: `${o.app}-load-${o.runId}`, subscribeAll: true, onEvent: (e) => follower.onEvent(e)});
  } catch (err) {
    note = `load could not follow its calls on ARI's events (${errorMessage(err)}): a call that never entered the Stasis app \`${o.app}\` is not told apart`;
  }
  const on = stream !== null;
  return {
    hooks: {
      onStarting: (call) => {
        byIndex.set(call.index, call);
        if (on) follower.expect(call.channelId, call.index, o.endpointOf(call));
      },
      originated: (call) => follower.originated(call.channelId),
      failedToStart: (call) => follower.forget(call.channelId),
      holdEnds: (call) => follower.whenFailed(call.channelId),
    },
    note,
    close: () => {
      follower.close();
      stream?.close();
    },
  };
}
