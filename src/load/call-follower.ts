/**
 * Follows each call load originated until it enters the Stasis app serve runs, on the events
 * of a subscribeAll stream (src/ari/event-stream.ts). A call that does not enter within a
 * bounded time (or ends before) fails with the reason Asterisk gave (the cause of its
 * ChannelHangupRequest / ChannelDestroyed), not with a symptom further down the chain (serve
 * has no record, peak concurrency 0). Entering the app shows as a StasisStart for the channel, or
 * any event whose channel snapshot runs the dialplan app `Stasis` with our app first in its
 * data (what a subscribeAll app sees of another app's channel). Timers run on an injectable clock.
 */
import type {AriAnyEvent, AriChannel} from '../ari/types.js';
import {realClock, type Clock, type ClockTimer} from '../runtime/clock.js';

/** How long a call may take to enter the app after its originate was answered. */
export const ENTER_TIMEOUT_MS = 5000;

/** What a Q.850 cause usually means for a call that never reached the app. */
const CAUSE_HINTS: Record<number, string> = {
  1: 'unallocated number: no such extension or context?',
  3: 'no route to destination: is the endpoint or its trunk reachable?',
  16: 'normal clearing: did the dialplan hang up before the call was answered?',
  17: 'user busy',
  18: 'no user responding: the endpoint did not answer',
  19: 'no answer',
  20: 'subscriber absent: is the endpoint registered?',
  21: 'call rejected',
  27: 'destination out of order',
  28: 'invalid number format',
  34: 'no circuit/channel available',
  38: 'network out of order',
  58: 'bearer capability not available: does the endpoint allow the format?',
};

/** "cause 1, unallocated number: no such extension or context?" (Asterisk's cause_txt when no hint is known). */
export function describeCause(cause: number, causeTxt?: string): string {
  const hint = CAUSE_HINTS[cause] ?? (causeTxt ? causeTxt.charAt(0).toLowerCase() + causeTxt.slice(1) : 'no cause text');
  return `cause ${cause}, ${hint}`;
}

function elapsed(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`;
}

type State = 'pending' | 'entered' | 'failed';

interface Followed {
  index: number;
  endpoint: string;
  sentAtUs: number;
  state: State;
  hangupCause: number | null;
  timer: ClockTimer | null;
  reason: string | null;
  failed: () => void;
  whenFailed: Promise<void>;
}

export interface CallFollowerOptions {
  /** The Stasis app serve runs. */
  app: string;
  clock?: Clock;
  timeoutMs?: number;
  /** A call did not enter the app: `reason` is the whole sentence (without "call N: "). */
  onFailed?: (index: number, reason: string) => void;
}

export class CallFollower {
  private readonly calls = new Map<string, Followed>();
  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(private readonly o: CallFollowerOptions) {
    this.clock = o.clock ?? realClock;
    this.timeoutMs = o.timeoutMs ?? ENTER_TIMEOUT_MS;
  }

  /** Before the originate is sent: the events that come before its answer count. */
  expect(channelId: string, index: number, endpoint: string): void {
    let failed = (): void => undefined;
    const whenFailed = new Promise<void>((resolve) => (failed = resolve));
    this.calls.set(channelId, {index, endpoint, sentAtUs: this.clock.nowUs(), state: 'pending', hangupCause: null, timer: null, reason: null, failed, whenFailed});
  }

  /** The originate was answered: the call has `timeoutMs` from now to enter the app. */
  originated(channelId: string): void {
    const f = this.calls.get(channelId);
    if (!f || f.state !== 'pending') return;
    f.timer = this.clock.setTimer(() => this.timedOut(f), this.timeoutMs);
  }

  /** Stop following (the originate failed, or load hangs the call up itself). */
  forget(channelId: string): void {
    const f = this.calls.get(channelId);
    if (f && f.state === 'pending') this.settle(f, 'entered');
    this.calls.delete(channelId);
  }

  /** Resolves when the call fails to enter the app (never, when it enters). */
  whenFailed(channelId: string): Promise<void> | undefined {
    return this.calls.get(channelId)?.whenFailed;
  }

  /** Why the call never entered the app, or null. */
  reasonOf(channelId: string): string | null {
    return this.calls.get(channelId)?.reason ?? null;
  }

  /** Calls still waiting to enter. */
  pending(): string[] {
    return [...this.calls].filter(([, f]) => f.state === 'pending').map(([id]) => id);
  }

  onEvent(e: AriAnyEvent): void {
    const channel = e.channel as AriChannel | undefined;
    if (!channel || typeof channel.id !== 'string') return;
    const f = this.calls.get(channel.id);
    if (!f || f.state !== 'pending') return;
    if (e.type === 'StasisStart' || this.runsOurApp(channel)) return this.settle(f, 'entered');
    const cause = typeof e.cause === 'number' ? e.cause : null;
    if (e.type === 'ChannelHangupRequest' && cause !== null) f.hangupCause ??= cause;
    if (e.type === 'ChannelDestroyed') {
      const c = cause ?? f.hangupCause ?? 0;
      const txt = typeof e.cause_txt === 'string' ? e.cause_txt : undefined;
      this.fail(f, `Asterisk hung it up after ${elapsed((this.clock.nowUs() - f.sentAtUs) / 1000)} (${describeCause(c, txt)})`);
    }
  }

  close(): void {
    for (const f of this.calls.values()) if (f.timer) this.clock.clearTimer(f.timer);
  }

  private runsOurApp(c: AriChannel): boolean {
    return c.dialplan?.app_name === 'Stasis' && (c.dialplan.app_data ?? '').split(',')[0] === this.o.app;
  }

  private timedOut(f: Followed): void {
    f.timer = null;
    if (f.state !== 'pending') return;
    const s = (this.timeoutMs / 1000).toFixed(this.timeoutMs % 1000 === 0 ? 0 : 1);
    this.fail(
      f,
      f.hangupCause !== null
        ? `Asterisk was asked to hang it up (${describeCause(f.hangupCause)}) and it was still not in the app after ${s} s`
        : `no StasisStart and no hangup within ${s} s: does the endpoint answer?`,
    );
  }

  private fail(f: Followed, why: string): void {
    f.reason = `originated ${f.endpoint} but it never entered the Stasis app \`${this.o.app}\`: ${why}`;
    this.settle(f, 'failed');
    f.failed();
    this.o.onFailed?.(f.index, f.reason);
  }

  private settle(f: Followed, state: State): void {
    f.state = state;
    if (f.timer) this.clock.clearTimer(f.timer);
    f.timer = null;
  }
}

/** The report's notes for the calls that never entered the app: the first three, then a count. */
export function neverEnteredNotes(calls: ReadonlyArray<{index: number; error: string | null}>, app: string): string[] {
  const shown = calls.slice(0, 3).map((c) => `call ${c.index}: ${c.error}`);
  if (calls.length > 3) shown.push(`${calls.length - 3} more calls never entered the Stasis app \`${app}\` (each call's error says why)`);
  return shown;
}
