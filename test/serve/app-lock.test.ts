import {AriRest} from '../../src/ari/rest.js';
import {nullLogger} from '../../src/log/logger.js';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {AppInUseError, AppLock} from '../../src/serve/app-lock.js';

describe('AppLock: one serve per Stasis app, through an Asterisk global variable', () => {
  let sim: SimHandle;
  let ari: AriRest;
  let clock = 1_000_000;
  const now = () => clock;
  beforeAll(async () => {
    sim = await startSim({port: 0, seed: 4, user: 'u', pass: 'p'});
    ari = new AriRest({url: sim.url, user: 'u', pass: 'p'});
  });
  afterAll(async () => {
    ari.close();
    await sim.close();
  });

  test('a second holder is refused while the first keeps its lease; after release it may start', async () => {
    const first = new AppLock(ari, 'rtpsla', 'http://127.0.0.1:9090', nullLogger, {settleMs: 0, nowMs: now});
    await first.acquire();
    expect(await ari.getGlobalVar('RTPSLA_SERVE_rtpsla')).toMatch(/^[0-9a-f]+ \d+ http:\/\/127\.0\.0\.1:9090$/);
    const second = new AppLock(ari, 'rtpsla', 'http://127.0.0.1:9091', nullLogger, {settleMs: 0, nowMs: now});
    const err = await second.acquire().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppInUseError);
    expect((err as AppInUseError).exitCode).toBe(2);
    expect((err as Error).message).toBe(
      'another rtpsla serve holds app "rtpsla" on this Asterisk (its HTTP: http://127.0.0.1:9090; lease RTPSLA_SERVE_rtpsla valid for 15 s more): ' +
        'stop it first, or give this one another --app/APP_NAME',
    );
    // another app name is another lease
    const other = new AppLock(ari, 'other-app', 'http://127.0.0.1:9092', nullLogger, {settleMs: 0, nowMs: now});
    await other.acquire();
    await other.release();
    await first.release();
    expect(await ari.getGlobalVar('RTPSLA_SERVE_rtpsla')).toBe('');
    await second.acquire();
    await second.release();
  });

  test('a crashed holder\'s lease expires after three refresh periods', async () => {
    const crashed = new AppLock(ari, 'rtpsla', 'http://127.0.0.1:9090', nullLogger, {settleMs: 0, nowMs: now, refreshMs: 5000});
    await crashed.acquire();
    (crashed as unknown as {timer: NodeJS.Timeout}).timer.unref(); // never released: it "crashed"
    clearInterval((crashed as unknown as {timer: NodeJS.Timeout}).timer);
    const next = new AppLock(ari, 'rtpsla', 'http://127.0.0.1:9091', nullLogger, {settleMs: 0, nowMs: now});
    clock += 14_999;
    await expect(next.acquire()).rejects.toBeInstanceOf(AppInUseError);
    clock += 1;
    await expect(next.acquire()).resolves.toBeUndefined();
    await next.release();
  });
});
