import {createSocket} from 'node:dgram';
import {PortPool, PortPoolExhaustedError} from '../../../src/media/relay/port-pool.js';
import {CallRelay} from '../../../src/media/relay/node.js';
import {freeUdpPort} from '../../helpers/cli.js';

describe('PortPool', () => {
  test('never hands out one port twice while held; FIFO reuse', () => {
    const pool = new PortPool({low: 5000, high: 5002});
    const a = pool.take();
    const b = pool.take();
    const c = pool.take();
    expect(new Set([a, b, c]).size).toBe(3);
    expect(pool.take()).toBe(-1);
    pool.release(b);
    pool.release(b); // double release is a no-op
    expect(pool.free).toBe(1);
    pool.release(a);
    expect(pool.take()).toBe(b); // released first, reused first
    expect(pool.take()).toBe(a);
    expect(pool.held).toBe(3);
  });

  test('release of a port outside the range is ignored', () => {
    const pool = new PortPool({low: 10, high: 11});
    pool.release(9);
    pool.release(12);
    expect(pool.free).toBe(2);
  });

  test('a port already bound by someone else is skipped, and retried later', async () => {
    const busyPort = await freeUdpPort();
    const blocker = createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(busyPort, '127.0.0.1', () => r()));
    try {
      // range: the busy port first, then one more port
      const pool = new PortPool({low: busyPort, high: busyPort + 1});
      const echo = {address: '127.0.0.1', port: 9};
      const {port, value: relay} = await pool.acquire((p) =>
        CallRelay.open({bindIp: '127.0.0.1', port: p, echo, clockRateHz: 8000, lateThresholdMs: 20}));
      expect(port).toBe(busyPort + 1);
      expect(pool.bindFailures).toBe(1);
      expect(pool.isHeld(busyPort)).toBe(false);
      expect(pool.isHeld(busyPort + 1)).toBe(true);
      await relay.close();
      pool.release(port);
    } finally {
      blocker.close();
    }
  });

  test('exhaustion is a typed error, not a crash, and holds nothing', async () => {
    const pool = new PortPool({low: 7000, high: 7001});
    pool.take();
    pool.take();
    await expect(pool.acquire(async (p) => p)).rejects.toBeInstanceOf(PortPoolExhaustedError);
    const pool2 = new PortPool({low: 7000, high: 7002});
    await expect(pool2.acquire(async () => { throw new Error('EADDRINUSE'); })).rejects.toThrow(/no free relay port in 7000-7002/);
    expect(pool2.free).toBe(3);
    expect(pool2.exhausted).toBe(1);
  });

  test('the exhaustion error says how many ports were tried and names the bind error (EADDRINUSE)', async () => {
    const busy = await freeUdpPort();
    const blockers = [createSocket('udp4'), createSocket('udp4')];
    await Promise.all(blockers.map((b, i) => new Promise<void>((r) => b.bind(busy + i, '127.0.0.1', () => r())).catch(() => undefined)));
    try {
      const pool = new PortPool({low: busy, high: busy + 1});
      const echo = {address: '127.0.0.1', port: 9};
      const err = await pool
        .acquire((p) => CallRelay.open({bindIp: '127.0.0.1', port: p, echo, clockRateHz: 8000, lateThresholdMs: 20}))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortPoolExhaustedError);
      expect((err as Error).message).toBe(`no free relay port in ${busy}-${busy + 1}: 2 tried, none would bind (EADDRINUSE ×2); 0 of 2 held by calls`);
    } finally {
      for (const b of blockers) b.close();
    }
    // one free port that will not bind is tried once, not 64 times
    const one = new PortPool({low: 7000, high: 7002});
    one.take();
    one.take();
    let attempts = 0;
    const inUse = Object.assign(new Error('bind EADDRINUSE'), {code: 'EADDRINUSE'});
    await expect(one.acquire(async () => { attempts++; throw inUse; })).rejects.toThrow('no free relay port in 7000-7002: 1 tried, none would bind (EADDRINUSE ×1); 2 of 3 held by calls');
    expect(attempts).toBe(1);
    const full = new PortPool({low: 7000, high: 7001});
    full.take();
    full.take();
    await expect(full.acquire(async (p) => p)).rejects.toThrow('no free relay port in 7000-7001: all 2 held by calls (0 tried)');
  });

  test('allocate/release stay O(1) over the default range size', () => {
    const pool = new PortPool({low: 4500, high: 50000});
    const held: number[] = [];
    for (let i = 0; i < 20000; i++) held.push(pool.take());
    expect(new Set(held).size).toBe(20000);
    for (const p of held) pool.release(p);
    expect(pool.free).toBe(45501);
  });
});
