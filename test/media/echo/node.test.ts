/**
 * The echo over real UDP on 127.0.0.1. Arrival times come from a driven clock
 * (src/runtime/clock.ts) where lateness is asserted: time moves only when the test advances it,
 * so a packet that comes back while the clock stands still was not held for any timer, and
 * "late" is exact. The burst and interleaving tests run on the real clock end to end.
 */
import {startEcho, type EchoServer} from '../../../src/media/echo/index.js';
import {DrivenClock} from '../../../src/runtime/clock.js';
import {rtpPacket} from '../../helpers/rtp.js';
import {EchoClient, expectWholeBurst} from './client.js';

/** 50 packets, timestamps 160 apart (20 ms at 8 kHz), distinct payloads so identity is checked. */
function burst(n: number, opts: {ssrc: number; ts0?: number; step?: number; pt?: number; seq0?: number; payloadBytes?: number}): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const buf = rtpPacket({
      seq: ((opts.seq0 ?? 1000) + i) & 0xffff,
      ts: ((opts.ts0 ?? 160) + i * (opts.step ?? 160)) >>> 0,
      ssrc: opts.ssrc,
      pt: opts.pt ?? 0,
      payloadBytes: opts.payloadBytes ?? 160,
    });
    for (let k = 12; k < buf.length; k++) buf[k] = (i * 31 + k) & 0xff;
    out.push(buf);
  }
  return out;
}

/** Wait (real time) until `cond` holds: the echo has taken in what was sent. */
async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for the echo');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function sendAll(client: EchoClient, bufs: Buffer[], port: number): Promise<void> {
  for (const b of bufs) await client.send(b, port);
}

describe('startEcho (in-process, real UDP on 127.0.0.1)', () => {
  let echo: EchoServer | undefined;
  let clock: DrivenClock;
  const clients: EchoClient[] = [];

  /** An echo whose arrival times and timers follow `clock` (reset per test). */
  function drivenEcho(options: Parameters<typeof startEcho>[0] = {}): Promise<EchoServer> {
    clock = new DrivenClock(10_000_000);
    return startEcho({port: 0, ...options, clock});
  }

  async function client(): Promise<EchoClient> {
    const c = await EchoClient.open();
    clients.push(c);
    return c;
  }

  afterEach(async () => {
    await echo?.close();
    echo = undefined;
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  it('binds port 0 to a real port with 2 MiB buffers (or reports what the OS allowed)', async () => {
    echo = await startEcho({port: 0});
    expect(echo.address).toBe('127.0.0.1');
    expect(echo.port).toBeGreaterThan(0);
    expect(echo.recvBufferBytes).toBeGreaterThan(0);
    expect(echo.recvBufferBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(echo.sendBufferBytes).toBeGreaterThan(0);
  });

  it('re-paces a burst of 50 packets sent at once to their timestamps (driven clock)', async () => {
    echo = await drivenEcho();
    const c = await client();
    const sent = burst(50, {ssrc: 0x11223344});
    await sendAll(c, sent, echo.port);
    await c.waitFor(1, 3000); // the first at once; the others wait for their slots
    await until(() => echo!.stats().queued === 49);
    expect(c.received).toHaveLength(1);
    for (let i = 1; i < 50; i++) {
      clock.advanceMs(20);
      await c.waitFor(i + 1, 3000); // frame i leaves when the clock reaches its slot, not before
      expect(c.received).toHaveLength(i + 1);
    }
    expectWholeBurst(c.received, sent);
    expect(echo.stats()).toMatchObject({packetsOut: 50, held: 49, queued: 0, late: 0, maxSchedulerLagUs: 0, anchorMoves: 0});
  });

  it('a first packet 150 ms late, a catch-up burst, then on time: released when the 2nd on-time packet settles the anchor', async () => {
    echo = await drivenEcho();
    const c = await client();
    const frames = burst(12, {ssrc: 21});
    for (let i = 0; i <= 7; i++) await c.send(frames[i], echo.port); // at 150 ms: the stall's catch-up
    await c.waitFor(1, 3000);
    await until(() => echo!.stats().queued === 7);
    clock.advanceMs(10); // 160 ms: frame 8 on time
    await c.send(frames[8], echo.port);
    await until(() => echo!.stats().queued === 8);
    clock.advanceMs(20); // 180 ms: frame 9 on time: two consecutive phases 150 ms early settle the anchor
    await c.send(frames[9], echo.port);
    await c.waitFor(10, 3000);
    clock.advanceMs(20);
    await c.send(frames[10], echo.port);
    await c.waitFor(11, 3000); // on time: not held
    expect(c.received.map((r) => r.buf.readUInt16BE(2))).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010]);
    expect(echo.stats()).toMatchObject({held: 8, queued: 0, anchorMoves: 1, reanchors: 0, maxSchedulerLagUs: 0});
  });

  it('holds a jittered packet only until its slot', async () => {
    echo = await drivenEcho();
    const c = await client();
    const frames = burst(3, {ssrc: 31});
    await c.send(frames[0], echo.port);
    await c.waitFor(1, 3000);
    clock.advanceMs(16); // 4 ms early
    await c.send(frames[1], echo.port);
    await until(() => echo!.stats().queued === 1);
    clock.advanceMs(3);
    expect(c.received).toHaveLength(1);
    clock.advanceMs(1); // its slot
    await c.waitFor(2, 3000);
    clock.advanceMs(29); // 9 ms late: at once
    await c.send(frames[2], echo.port);
    await c.waitFor(3, 3000);
    expect(echo.stats()).toMatchObject({held: 1, late: 1, queued: 0, maxSchedulerLagUs: 0});
  });

  it('--max-hold-ms: a packet due further ahead re-anchors its source and is never held', async () => {
    echo = await drivenEcho({maxHoldMs: 300});
    const c = await client();
    await c.send(rtpPacket({seq: 1, ts: 160, ssrc: 6}), echo.port);
    await c.waitFor(1);
    await c.send(rtpPacket({seq: 2, ts: 160 + 8000 * 60, ssrc: 6}), echo.port); // 60 s ahead
    await c.waitFor(2, 3000); // back with the clock standing still
    await c.send(rtpPacket({seq: 3, ts: 160 + 8000 * 60 + 1600, ssrc: 6}), echo.port); // 200 ms ahead of it: ≤ 300, held
    await until(() => echo!.stats().queued === 1);
    clock.advanceMs(200);
    await c.waitFor(3, 3000);
    expect(echo.stats()).toMatchObject({reanchors: 1, held: 1, late: 0, queued: 0});
  });

  it('keeps many interleaved sources each in its own order', async () => {
    echo = await startEcho({port: 0});
    const socks = await Promise.all([client(), client(), client(), client()]);
    // 40 sources: 4 sockets × 10 SSRCs, each a burst of 10 packets, starts staggered.
    const starts: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      const c = socks[i % 4];
      starts.push(
        new Promise((r) => setTimeout(r, (i * 7) % 100)).then(async () => {
          await sendAll(c, burst(10, {ssrc: 1000 + i, seq0: i * 100}), echo!.port);
        }),
      );
    }
    await Promise.all(starts);
    await Promise.all(socks.map((c) => c.waitFor(100, 5000)));
    for (const c of socks) {
      const bySsrc = new Map<number, number[]>();
      for (const r of c.received) {
        const ssrc = r.buf.readUInt32BE(8);
        if (!bySsrc.has(ssrc)) bySsrc.set(ssrc, []);
        bySsrc.get(ssrc)!.push(r.buf.readUInt16BE(2));
      }
      expect(bySsrc.size).toBe(10);
      for (const [ssrc, seqs] of bySsrc) expect(seqs).toEqual([...Array(10).keys()].map((k) => (ssrc - 1000) * 100 + k));
    }
    expect(echo.stats()).toMatchObject({packetsIn: 400, packetsOut: 400, sourcesActive: 40, queued: 0});
  });

  it('keys a source by SSRC too: a new SSRC from the same socket gets its own anchor', async () => {
    echo = await drivenEcho();
    const c = await client();
    await c.send(rtpPacket({seq: 1, ts: 160, ssrc: 7}), echo.port);
    await c.waitFor(1);
    clock.advanceMs(200);
    // Same socket, other SSRC, timestamp 1.5 s from SSRC 7's: its own anchor, back with the clock standing still.
    await c.send(rtpPacket({seq: 1, ts: 160 + 8000 * 1.5, ssrc: 8}), echo.port);
    await c.waitFor(2, 3000);
    // SSRC 7 again, 200 ms later on the clock but only 20 ms of RTP time: late by its own anchor
    await c.send(rtpPacket({seq: 2, ts: 320, ssrc: 7}), echo.port);
    await c.waitFor(3, 3000);
    expect(echo.stats()).toMatchObject({sourcesTotal: 2, reanchors: 0, late: 1});
  });

  it('sends a late packet at once and counts it late', async () => {
    echo = await drivenEcho();
    const c = await client();
    // 5 packets 20 ms apart in timestamp but sent 100 ms apart: from the 2nd on, each is late.
    for (let i = 0; i < 5; i++) {
      await c.send(rtpPacket({seq: i, ts: 160 * i, ssrc: 5}), echo.port);
      await c.waitFor(i + 1, 3000); // back at once: the clock did not move
      clock.advanceMs(100);
    }
    // One whose slot (ts 160*6 → 120 ms after the first) passed long ago.
    await c.send(rtpPacket({seq: 5, ts: 160 * 6, ssrc: 5}), echo.port);
    await c.waitFor(6, 3000);
    const s = echo.stats();
    expect(s.late).toBe(5);
    expect(s.arrivedLate).toBe(5);
    expect(s.packetsOut).toBe(6);
  });

  it('clocks PT 118 (slin16) at 16 kHz', async () => {
    echo = await drivenEcho();
    const c = await client();
    await c.send(rtpPacket({seq: 0, ts: 0, ssrc: 118, pt: 118, payloadBytes: 640}), echo.port);
    await c.waitFor(1, 3000);
    clock.advanceMs(300);
    // 3200 ticks: 200 ms at 16 kHz (so 100 ms late), 400 ms at 8 kHz (on time)
    await c.send(rtpPacket({seq: 1, ts: 3200, ssrc: 118, pt: 118, payloadBytes: 640}), echo.port);
    await c.waitFor(2, 3000);
    expect(echo.stats()).toMatchObject({late: 1, arrivedLate: 1});
  });

  it('uses --clock-rate for unknown payload types', async () => {
    echo = await drivenEcho({clockRateHz: 16000});
    const c = await client();
    await c.send(rtpPacket({seq: 0, ts: 0, ssrc: 96, pt: 96}), echo.port);
    await c.waitFor(1, 3000);
    clock.advanceMs(300);
    await c.send(rtpPacket({seq: 1, ts: 3200, ssrc: 96, pt: 96}), echo.port); // late only at 16 kHz
    await c.waitFor(2, 3000);
    expect(echo.stats()).toMatchObject({late: 1});
  });

  it('counts garbage as malformed, never echoes it, and keeps working', async () => {
    echo = await startEcho({port: 0});
    const c = await client();
    const short = Buffer.from([0x80, 0x00, 0x01, 0x02, 0x03]);
    const v1 = rtpPacket({seq: 1, ts: 160, ssrc: 3});
    v1[0] = 0x40; // version 1
    const csrcPastEnd = Buffer.alloc(16);
    csrcPastEnd[0] = 0x8f; // V=2, CC=15 → needs 72 header bytes
    for (const g of [short, v1, csrcPastEnd]) await c.send(g, echo.port);
    const good = rtpPacket({seq: 2, ts: 160, ssrc: 3});
    await c.send(good, echo.port);
    const got = await c.waitFor(1, 3000);
    await new Promise((r) => setTimeout(r, 150)); // nothing else comes back
    expect(got).toHaveLength(1);
    expect(got[0].buf.equals(good)).toBe(true);
    expect(echo.stats()).toMatchObject({packetsIn: 4, packetsOut: 1, malformed: 3, sourcesTotal: 1});
  });

  it('expires an idle source and re-anchors it when it comes back', async () => {
    echo = await drivenEcho({idleExpiryMs: 200}); // swept every 50 ms
    const c = await client();
    await c.send(rtpPacket({seq: 1, ts: 160, ssrc: 4}), echo.port);
    await c.waitFor(1);
    expect(echo.stats().sourcesActive).toBe(1);
    clock.advanceMs(200); // silent exactly 200 ms at the sweep: kept
    expect(echo.stats()).toMatchObject({sourcesActive: 1, sourcesExpired: 0});
    clock.advanceMs(50); // the next sweep: forgotten
    expect(echo.stats()).toMatchObject({sourcesActive: 0, sourcesExpired: 1});
    // 250 ms later with only 20 ms of RTP time: late for the old anchor, on time for a new one
    await c.send(rtpPacket({seq: 2, ts: 320, ssrc: 4}), echo.port);
    await c.waitFor(2, 3000);
    expect(echo.stats()).toMatchObject({sourcesActive: 1, sourcesTotal: 2, reanchors: 0, late: 0});
  });

  it('rejects with a clear error when the port is taken', async () => {
    echo = await startEcho({port: 0});
    await expect(startEcho({port: echo.port})).rejects.toThrow(/cannot bind UDP 127\.0\.0\.1:\d+: EADDRINUSE/);
  });
});
