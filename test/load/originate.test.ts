import {OriginateLoop, type OriginateLoopOptions} from '../../src/load/originate.js';
import {parseLoadAppArgs} from '../../src/protocol/app-args.js';
import {DrivenClock} from '../../src/runtime/clock.js';

/** Let every pending promise continuation run (the driven clock fires timers synchronously). */
const flush = () => new Promise((r) => setImmediate(r));

interface Step {
  what: 'originate' | 'hangup' | 'beforeHangup' | 'allOriginated' | 'hungUp';
  id: string;
  atMs: number;
  appArgs?: string[];
}

/** A fake ARI on the driven clock: records each request with the clock time it was made at. */
function fakeAri(clock: DrivenClock, opts: {failOriginate?: Set<string>; hangupFailures?: number} = {}) {
  const steps: Step[] = [];
  const atMs = () => clock.nowUs() / 1000 - 1000;
  let hangupFailures = opts.hangupFailures ?? 0;
  const rest: OriginateLoopOptions['rest'] = {
    originate: async (p) => {
      steps.push({what: 'originate', id: p.channelId!, atMs: atMs(), appArgs: p.appArgs as string[]});
      if (opts.failOriginate?.has(p.channelId!)) throw new Error('500 Internal Server Error');
      return {id: p.channelId!} as Awaited<ReturnType<OriginateLoopOptions['rest']['originate']>>;
    },
    hangup: async (id) => {
      steps.push({what: 'hangup', id, atMs: atMs()});
      if (hangupFailures > 0) {
        hangupFailures--;
        throw new Error('connect ECONNREFUSED 127.0.0.1:8088');
      }
      return true;
    },
  };
  return {rest, steps, atMs};
}

function loop(clock: DrivenClock, rest: OriginateLoopOptions['rest'], steps: Step[], atMs: () => number, extra: Partial<OriginateLoopOptions> = {}) {
  return new OriginateLoop({
    rest,
    app: 'rtpsla',
    endpoint: 'Local/s@load',
    format: 'ulaw',
    runId: 'r1',
    token: 'a'.repeat(32),
    count: 3,
    durationMs: 1000,
    delayBetweenMs: 50,
    clock,
    onAllOriginated: () => steps.push({what: 'allOriginated', id: '', atMs: atMs()}),
    beforeHangup: async (c) => void steps.push({what: 'beforeHangup', id: c.channelId, atMs: atMs()}),
    onHungUp: (c) => steps.push({what: 'hungUp', id: c.channelId, atMs: atMs()}),
    ...extra,
  });
}

async function runFor(clock: DrivenClock, ms: number, stepMs = 10): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await flush();
    clock.advanceMs(stepMs);
  }
  await flush();
}

describe('OriginateLoop', () => {
  test('originates delay-between apart with load appArgs, holds for the duration, then the drain hook and the hangup', async () => {
    const clock = new DrivenClock();
    const {rest, steps, atMs} = fakeAri(clock);
    const l = loop(clock, rest, steps, atMs);
    const done = l.run();
    await runFor(clock, 1200);
    await done;
    const at = (what: Step['what']) => steps.filter((s) => s.what === what).map((s) => [s.id, s.atMs]);
    expect(at('originate')).toEqual([['r1-0', 0], ['r1-1', 50], ['r1-2', 100]]);
    expect(at('allOriginated')).toEqual([['', 100]]);
    expect(at('beforeHangup')).toEqual([['r1-0', 1000], ['r1-1', 1050], ['r1-2', 1100]]);
    expect(at('hangup')).toEqual(at('beforeHangup'));
    expect(at('hungUp')).toEqual(at('beforeHangup'));
    // the drain hook runs before the hangup of the same call
    expect(steps.findIndex((s) => s.what === 'beforeHangup' && s.id === 'r1-0')).toBeLessThan(steps.findIndex((s) => s.what === 'hangup' && s.id === 'r1-0'));
    expect(steps.filter((s) => s.what === 'originate').map((s) => parseLoadAppArgs(s.appArgs!))).toEqual([0, 1, 2].map((index) => ({runId: 'r1', index, token: 'a'.repeat(32)})));
    expect(l.calls.map((c) => c.error)).toEqual([null, null, null]);
    expect(clock.pendingTimers).toBe(0);
    // hanging up all again does not hang up twice
    await l.hangUpAll();
    expect(steps.filter((s) => s.what === 'hangup')).toHaveLength(3);
  });

  test('a failed originate is the call\'s error; it is neither held nor hung up', async () => {
    const clock = new DrivenClock();
    const {rest, steps, atMs} = fakeAri(clock, {failOriginate: new Set(['r1-1'])});
    const failed: number[] = [];
    const l = loop(clock, rest, steps, atMs, {onOriginateFailed: (c) => failed.push(c.index)});
    const done = l.run();
    await runFor(clock, 1200);
    await done;
    expect(failed).toEqual([1]);
    expect(l.calls[1]).toMatchObject({originatedAtMs: null, error: 'originate failed: 500 Internal Server Error'});
    expect(steps.filter((s) => s.what === 'hangup').map((s) => s.id)).toEqual(['r1-0', 'r1-2']);
  });

  test('a failed hangup is retried with backoff (100 ms doubling) until it succeeds', async () => {
    const clock = new DrivenClock();
    const {rest, steps, atMs} = fakeAri(clock, {hangupFailures: 3});
    const l = loop(clock, rest, steps, atMs, {count: 1});
    const done = l.run();
    await runFor(clock, 2000);
    await done;
    expect(steps.filter((s) => s.what === 'hangup').map((s) => s.atMs)).toEqual([1000, 1100, 1300, 1700]);
    expect(l.calls[0].error).toBeNull();
  });

  test('a hangup still failing after hangupRetryMs is the call\'s error', async () => {
    const clock = new DrivenClock();
    const {rest, steps, atMs} = fakeAri(clock, {hangupFailures: 1000});
    const l = loop(clock, rest, steps, atMs, {count: 1, hangupRetryMs: 1000});
    const done = l.run();
    await runFor(clock, 3000);
    await done;
    // attempts at +0, +100, +300, +700; the next (+1500) would be past the 1000 ms
    expect(steps.filter((s) => s.what === 'hangup').map((s) => s.atMs)).toEqual([1000, 1100, 1300, 1700]);
    expect(l.calls[0].error).toBe('hangup failed (4 attempts in 700 ms): connect ECONNREFUSED 127.0.0.1:8088');
    expect(clock.pendingTimers).toBe(0);
  });

  test('an abort stops originating, ends the holds at once, hangs up what was originated and leaves no timer', async () => {
    const clock = new DrivenClock();
    const {rest, steps, atMs} = fakeAri(clock);
    const ac = new AbortController();
    const l = loop(clock, rest, steps, atMs, {count: 5, delayBetweenMs: 100, durationMs: 30_000, signal: ac.signal});
    const done = l.run();
    await runFor(clock, 150);
    ac.abort();
    await flush();
    await done;
    expect(steps.filter((s) => s.what === 'originate').map((s) => s.id)).toEqual(['r1-0', 'r1-1']);
    expect(steps.filter((s) => s.what === 'hangup').map((s) => [s.id, s.atMs])).toEqual([['r1-0', 150], ['r1-1', 150]]);
    expect(steps.filter((s) => s.what === 'allOriginated')).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('OriginateLoop hooks for following calls', () => {
  test('onStarting runs before the originate is sent; holdEnds cuts that call\'s hold short, not the others\'', async () => {
    const clock = new DrivenClock();
    const {rest, steps, atMs} = fakeAri(clock);
    let endFirst: () => void = () => undefined;
    const l = loop(clock, rest, steps, atMs, {
      count: 2,
      onStarting: (c) => steps.push({what: 'allOriginated', id: `starting ${c.channelId}`, atMs: atMs()}),
      holdEnds: (c) => (c.index === 0 ? new Promise<void>((r) => (endFirst = r)) : undefined),
    });
    const done = l.run();
    await runFor(clock, 200);
    endFirst();
    await runFor(clock, 1200);
    await done;
    expect(steps.filter((s) => s.id.startsWith('starting') || s.what === 'originate').map((s) => s.id)).toEqual(['starting r1-0', 'r1-0', 'starting r1-1', 'r1-1']);
    const hangups = steps.filter((s) => s.what === 'hangup').map((s) => [s.id, s.atMs]);
    expect(hangups).toEqual([['r1-0', 200], ['r1-1', 1050]]);
  });
});
