import {EventEmitter} from 'node:events';
import {onStopSignals, SAME_STOP_MS, SECOND_SIGNAL_EXIT_CODE, type SignalSource} from '../../src/runtime/signals.js';

/** A fake process: signals are emitted by the test, exits and stderr lines are recorded. */
function fakeProcess() {
  const emitter = new EventEmitter();
  const lines: string[] = [];
  const exits: number[] = [];
  const events: string[] = [];
  const source: SignalSource = emitter;
  const clock = {ms: 1000};
  return {emitter, lines, exits, events, clock, options: {source, write: (l: string) => void lines.push(l), exit: (c: number) => void exits.push(c), nowMs: () => clock.ms}};
}

describe('onStopSignals', () => {
  test.each(['SIGINT', 'SIGTERM'] as const)('the first %s aborts the signal, resolves stopped with its name and writes the message once', async (name) => {
    const p = fakeProcess();
    const stop = onStopSignals({...p.options, message: 'load: interrupted'});
    expect(stop.signal.aborted).toBe(false);
    p.emitter.emit(name);
    expect(stop.signal.aborted).toBe(true);
    await expect(stop.stopped).resolves.toBe(name);
    expect(p.lines).toEqual(['load: interrupted\n']);
    expect(p.exits).toEqual([]);
    stop.dispose();
  });

  test('a second signal (either kind) runs onSecond, then exits 130; the message is not repeated', () => {
    const p = fakeProcess();
    const stop = onStopSignals({...p.options, message: 'bench: interrupted', onSecond: () => p.events.push('killNow')});
    p.emitter.emit('SIGTERM');
    expect(p.exits).toEqual([]);
    p.clock.ms += SAME_STOP_MS;
    p.emitter.emit('SIGINT');
    expect(p.events).toEqual(['killNow']);
    expect(p.exits).toEqual([SECOND_SIGNAL_EXIT_CODE]);
    expect(SECOND_SIGNAL_EXIT_CODE).toBe(130);
    expect(p.lines).toEqual(['bench: interrupted\n']);
    stop.dispose();
  });

  test('the same stop reaching the command twice at once (Ctrl-C passed on by bin/run.js, pkill of both) is one stop, not a second', () => {
    const p = fakeProcess();
    const stop = onStopSignals({...p.options, message: 'load: interrupted'});
    p.emitter.emit('SIGINT');
    p.clock.ms += SAME_STOP_MS - 1;
    p.emitter.emit('SIGINT');
    p.emitter.emit('SIGTERM');
    expect(p.exits).toEqual([]);
    expect(p.lines).toEqual(['load: interrupted\n']);
    p.clock.ms += 1;
    p.emitter.emit('SIGINT');
    expect(p.exits).toEqual([SECOND_SIGNAL_EXIT_CODE]);
    stop.dispose();
  });

  test('without a message nothing is written', () => {
    const p = fakeProcess();
    const stop = onStopSignals(p.options);
    p.emitter.emit('SIGINT');
    expect(p.lines).toEqual([]);
    stop.dispose();
  });

  test('dispose removes both listeners; nothing fires afterwards', () => {
    const p = fakeProcess();
    const stop = onStopSignals(p.options);
    expect(p.emitter.listenerCount('SIGINT')).toBe(1);
    expect(p.emitter.listenerCount('SIGTERM')).toBe(1);
    stop.dispose();
    expect(p.emitter.listenerCount('SIGINT')).toBe(0);
    expect(p.emitter.listenerCount('SIGTERM')).toBe(0);
    p.emitter.emit('SIGINT');
    expect(stop.signal.aborted).toBe(false);
  });

  test('handlers are installed at once (a signal right after the ready line is not lost)', async () => {
    const p = fakeProcess();
    const stop = onStopSignals(p.options);
    p.emitter.emit('SIGTERM');
    await expect(stop.stopped).resolves.toBe('SIGTERM');
    stop.dispose();
  });
});
