import {getEventListeners} from 'node:events';
import {abortWait} from '../../src/runtime/abort.js';

describe('abortWait', () => {
  test('resolves when the signal aborts, at once if it already has, and dispose removes its listener', async () => {
    const c = new AbortController();
    const w = abortWait(c.signal);
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(1);
    let done = false;
    void w.promise.then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    c.abort();
    await w.promise;
    expect(done).toBe(true);
    await expect(abortWait(c.signal).promise).resolves.toBeUndefined();

    const c2 = new AbortController();
    for (let i = 0; i < 20; i++) abortWait(c2.signal).dispose();
    expect(getEventListeners(c2.signal, 'abort')).toHaveLength(0);
  });

  test('without a signal it never resolves and dispose is harmless', async () => {
    const w = abortWait(undefined);
    w.dispose();
    const r = await Promise.race([w.promise.then(() => 'aborted'), new Promise((res) => setTimeout(() => res('pending'), 20))]);
    expect(r).toBe('pending');
  });
});

describe('sleepUnlessAborted', () => {
  test('an abort ends the sleep at once and leaves no timer behind', async () => {
    const {sleepUnlessAborted} = await import('../../src/runtime/abort.js');
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const controller = new AbortController();
    const wait = abortWait(controller.signal);
    const sleeping = sleepUnlessAborted(60_000, wait);
    expect(timers()).toBe(before + 1);
    controller.abort();
    await sleeping;
    expect(timers()).toBe(before);
    wait.dispose();
  });
});
