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

  it('echoes a burst of 50 packets at once: each earlier phase becomes the anchor, so none waits or counts late', async () => {
    echo = await startEcho({port: 0});
    const c = await client();
    const sent = burst(50, {ssrc: 0x11223344});
    await sendAll(c, sent, echo.port);
    expectWholeBurst(await c.waitFor(50, 5000), sent);
    const s = echo.stats();
    expect(s).toMatchObject({packetsIn: 50, packetsOut: 50, malformed: 0, sendErrors: 0, sourcesActive: 1, sourcesTotal: 1, queued: 0, late: 0});
    expect(s.bytesIn).toBe(50 * 172);
    expect(s.bytesOut).toBe(50 * 172);
  });

  it('does not let a first packet delayed by a stall hold the stream back (earliest-phase anchor)', async () => {
    echo = await drivenEcho();
    const c = await client();
    // the first packet comes 1 s behind the phase of the next one (a stall before it)
    await c.send(rtpPacket({seq: 0, ts: 160, ssrc: 21}), echo.port);
    await c.waitFor(1);
    // a first-packet anchor would hold it 1 s; the earliest phase sends it back with the clock standing still
    await c.send(rtpPacket({seq: 1, ts: 160 + 8000, ssrc: 21}), echo.port);
    await c.waitFor(2, 3000);
    clock.advanceMs(100);
    await c.send(rtpPacket({seq: 2, ts: 160 + 8000 + 3200, ssrc: 21}), echo.port); // 100 ms later, 400 ms of RTP time: ahead of its slot
    await c.waitFor(3, 3000);
    expect(echo.stats()).toMatchObject({late: 0, queued: 0, reanchors: 0});
  });

  it('anchors each source on its own: one source far ahead in RTP time does not make another late', async () => {
    echo = await drivenEcho();
    const a = await client();
    const b = await client();
    await a.send(rtpPacket({seq: 0, ts: 160, ssrc: 1}), echo.port);
    await b.send(rtpPacket({seq: 0, ts: 160 + 8000 * 5, ssrc: 2}), echo.port);
    await Promise.all([a.waitFor(1, 3000), b.waitFor(1, 3000)]);
    clock.advanceMs(100);
    // 100 ms later with 400 ms of RTP time: ahead of each one's own slot, so not late
    await a.send(rtpPacket({seq: 1, ts: 160 + 3200, ssrc: 1}), echo.port);
    await b.send(rtpPacket({seq: 1, ts: 160 + 8000 * 5 + 3200, ssrc: 2}), echo.port);
    await Promise.all([a.waitFor(2, 3000), b.waitFor(2, 3000)]);
    expect(echo.stats()).toMatchObject({late: 0, sourcesActive: 2, sourcesTotal: 2});
    clock.advanceMs(300);
    await a.send(rtpPacket({seq: 2, ts: 160 + 1600, ssrc: 1}), echo.port); // slot: 200 ms after A's first; arrives at 400 ms: late
    await a.waitFor(3, 3000);
    expect(echo.stats()).toMatchObject({late: 1, arrivedLate: 1});
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

  it('measures lateness across a timestamp wrap past 2^32 (signed difference)', async () => {
    echo = await drivenEcho();
    const c = await client();
    const ts0 = 2 ** 32 - 160;
    await c.send(rtpPacket({seq: 0, ts: ts0, ssrc: 9}), echo.port);
    await c.waitFor(1, 3000);
    clock.advanceMs(100);
    await c.send(rtpPacket({seq: 1, ts: (ts0 + 1600) >>> 0, ssrc: 9}), echo.port); // past the wrap, 200 ms ahead at 100 ms: the anchor moves 100 ms earlier
    await c.waitFor(2, 3000);
    clock.advanceMs(299);
    await c.send(rtpPacket({seq: 2, ts: (ts0 + 3000) >>> 0, ssrc: 9}), echo.port); // due at 275 ms (375 − 100), comes at 399 ms: late
    await c.waitFor(3, 3000);
    clock.advanceMs(1);
    await c.send(rtpPacket({seq: 3, ts: (ts0 + 3200) >>> 0, ssrc: 9}), echo.port); // due at 300 ms, comes at 400 ms: late
    await c.waitFor(4, 3000);
    expect(echo.stats()).toMatchObject({late: 2, reanchors: 0, packetsOut: 4});
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

  it('counts a timestamp jump beyond --max-hold-ms as a re-anchor and never holds the packet', async () => {
    echo = await drivenEcho({maxHoldMs: 300});
    const c = await client();
    await c.send(rtpPacket({seq: 1, ts: 160, ssrc: 6}), echo.port);
    await c.waitFor(1);
    await c.send(rtpPacket({seq: 2, ts: 160 + 8000 * 60, ssrc: 6}), echo.port); // 60 s ahead
    await c.send(rtpPacket({seq: 3, ts: 160 + 8000 * 60 + 160, ssrc: 6}), echo.port);
    const got = await c.waitFor(3, 3000); // back with the clock standing still
    expect(got.map((r) => r.buf.readUInt16BE(2))).toEqual([1, 2, 3]);
    await c.send(rtpPacket({seq: 4, ts: 160 + 8000 * 60 + 8000 * 0.2, ssrc: 6}), echo.port); // 200 ms more: ≤ 300, no re-anchor
    await c.waitFor(4, 3000);
    expect(echo.stats()).toMatchObject({reanchors: 1, late: 0, queued: 0});
  });

  it('sends reordered packets as they come and counts the ones behind the earliest phase late', async () => {
    echo = await drivenEcho();
    const c = await client();
    await c.send(rtpPacket({seq: 0, ts: 0, ssrc: 10}), echo.port);
    await c.send(rtpPacket({seq: 3, ts: 160 * 15, ssrc: 10}), echo.port); // 300 ms ahead: the new anchor
    await c.send(rtpPacket({seq: 2, ts: 160 * 10, ssrc: 10}), echo.port); // 100 ms behind it
    await c.send(rtpPacket({seq: 1, ts: 160 * 5, ssrc: 10}), echo.port); // 200 ms behind it
    const got = await c.waitFor(4, 3000);
    expect(got.map((r) => r.buf.readUInt16BE(2))).toEqual([0, 3, 2, 1]);
    expect(echo.stats()).toMatchObject({late: 2, arrivedLate: 2, queued: 0});
  });

  it('rejects with a clear error when the port is taken', async () => {
    echo = await startEcho({port: 0});
    await expect(startEcho({port: echo.port})).rejects.toThrow(/cannot bind UDP 127\.0\.0\.1:\d+: EADDRINUSE/);
  });
});
