import {chainScheduling, type EngineProbe} from '../../src/engine/engine-probe.js';

const probe = (relay: string, timestamps = 'kernel'): EngineProbe => ({path: '/opt/rtpsla/native/build/rtpsla-engine', reason: null, scheduling: {relay}, timestamps});

test('a relay granted FIFO: the chain keeps real-time scheduling and nothing is noted', () => {
  expect(chainScheduling(probe('fifo:12'))).toEqual({env: {}, note: null});
});

test('a relay without FIFO (ulimit -r 10 would give the sim 10 and the relay nothing): no engine of the chain takes it, and the note says how to grant it', () => {
  for (const relay of ['normal', 'nice:-10']) {
    const r = chainScheduling(probe(relay));
    expect(r.env).toEqual({RTPSLA_ENGINE_SCHED: 'normal'});
    expect(r.note).toContain(`the relay would get ${relay}`);
    expect(r.note).toContain('sudo setcap cap_sys_nice=ep /opt/rtpsla/native/build/rtpsla-engine');
  }
});

test('user-space receive times are noted with the figure they weaken', () => {
  const r = chainScheduling(probe('fifo:12', 'user'));
  expect(r.env).toEqual({});
  expect(r.note).toMatch(/receive times are not the kernel's \(user\): queueing in the sockets is not seen in the relay hold/);
});

test('no engine at all: nothing to schedule, nothing noted here (the build line says why)', () => {
  expect(chainScheduling({path: null, reason: 'no C compiler', scheduling: {}, timestamps: null})).toEqual({env: {}, note: null});
});
