import {EngineSupervisor, ENGINE_POLICY, restartBackoffMs, type SupervisedEngine} from '../../src/engine/engine-supervisor.js';
import {DrivenClock} from '../../src/runtime/clock.js';

/** A fake engine process: `die()` is a kill -9 seen by its parent. */
class FakeEngine implements SupervisedEngine {
  private listener: ((detail: string) => void) | null = null;
  closed = false;
  constructor(readonly pid: number) {}
  onExit(listener: (detail: string) => void): void {
    this.listener = listener;
  }
  die(detail = 'SIGKILL'): void {
    this.listener?.(detail);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function harness(policy?: 'restart' | 'exit') {
  const clock = new DrivenClock();
  let nextPid = 100;
  const failNextStarts = {n: 0};
  const started: FakeEngine[] = [];
  const sup = new EngineSupervisor<FakeEngine>({
    role: 'relay',
    clock,
    policy,
    start: async () => {
      if (failNextStarts.n > 0) {
        failNextStarts.n--;
        throw new Error('no ready event');
      }
      const e = new FakeEngine(nextPid++);
      started.push(e);
      return e;
    },
  });
  const events: string[] = [];
  sup.on('died', (reason: string, pid: number) => events.push(`died ${pid}: ${reason}`));
  sup.on('restarting', (n: number, ms: number) => events.push(`restarting ${n} in ${ms} ms`));
  sup.on('ready', (e: FakeEngine) => events.push(`ready ${e.pid}`));
  sup.on('fatal', (line: string) => events.push(`fatal: ${line}`));
  return {clock, sup, started, events, failNextStarts};
}

/** Let the restart's promise chain run. */
const settle = () => new Promise((r) => setImmediate(r));

test('the relay restarts, the echo, sim and caller exit: one policy table', () => {
  expect(ENGINE_POLICY).toEqual({relay: 'restart', echo: 'exit', sim: 'exit', caller: 'exit'});
});

test('a death is seen at once (not ready: 503 from the exit on), then a restart after the backoff with a new pid', async () => {
  const {clock, sup, started, events} = harness('restart');
  await sup.start();
  expect(sup.engine?.pid).toBe(100);
  started[0].die('SIGKILL');
  expect(sup.engine).toBeNull();
  expect(sup.state).toMatchObject({status: 'dead', reason: 'media engine died (SIGKILL)'});
  clock.advanceMs(restartBackoffMs(1) - 1);
  await settle();
  expect(sup.engine).toBeNull();
  clock.advanceMs(1);
  await settle();
  expect(sup.engine?.pid).toBe(101);
  expect(sup.restarts).toBe(1);
  expect(events).toEqual(['ready 100', 'died 100: media engine died (SIGKILL)', 'restarting 1 in 250 ms', 'ready 101']);
});

test('the third death within 60 s gives up with one line; deaths further apart do not', async () => {
  const {clock, sup, started, events} = harness('restart');
  await sup.start();
  for (let i = 0; i < 2; i++) {
    started.at(-1)!.die();
    clock.advanceMs(5000);
    await settle();
  }
  expect(sup.restarts).toBe(2);
  // 61 s later the first death no longer counts: this one restarts
  clock.advanceMs(61_000);
  started.at(-1)!.die();
  clock.advanceMs(5000);
  await settle();
  expect(sup.restarts).toBe(3);
  // two more within the window of the last one: the third of the window is final
  started.at(-1)!.die();
  clock.advanceMs(5000);
  await settle();
  expect(sup.restarts).toBe(4);
  started.at(-1)!.die();
  expect(events.at(-1)).toMatch(/^fatal: the relay media engine died 3 times within 60 s \(last: media engine died \(SIGKILL\)\): giving up$/);
});

test('a start that fails counts as a death', async () => {
  const {clock, sup, started, events, failNextStarts} = harness('restart');
  await sup.start();
  failNextStarts.n = 2;
  started[0].die();
  clock.advanceMs(restartBackoffMs(1));
  await settle();
  clock.advanceMs(restartBackoffMs(2));
  await settle();
  expect(events.at(-1)).toMatch(/^fatal: .*3 times within 60 s \(last: media engine did not start \(no ready event\)\)/);
  expect(sup.engine).toBeNull();
});

test('no restart during shutdown', async () => {
  const {clock, sup, started, events} = harness('restart');
  await sup.start();
  const stopping = sup.stop();
  started[0].die();
  await stopping;
  clock.advanceMs(10_000);
  await settle();
  expect(started).toHaveLength(1);
  expect(started[0].closed).toBe(true);
  expect(events).toEqual(['ready 100']);
});

test('policy exit (or RTPSLA_ENGINE_RESTART=0): the first death is fatal with one line', async () => {
  const {sup, started, events} = harness('exit');
  await sup.start();
  started[0].die('exit code 3');
  expect(events.at(-1)).toBe('fatal: the relay media engine died: media engine died (exit code 3)');
  const saved = process.env.RTPSLA_ENGINE_RESTART;
  process.env.RTPSLA_ENGINE_RESTART = '0';
  try {
    expect(new EngineSupervisor({role: 'relay', start: async () => new FakeEngine(1)}).policy).toBe('exit');
  } finally {
    if (saved === undefined) delete process.env.RTPSLA_ENGINE_RESTART;
    else process.env.RTPSLA_ENGINE_RESTART = saved;
  }
});
