import {startEcho, type EchoServer} from '../../src/echo/index.js';
import {rtpPacket} from '../helpers/rtp.js';
import {sleep} from '../helpers/cli.js';
import {EchoClient, expectPacedBurst} from './client.js';

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

async function sendAll(client: EchoClient, bufs: Buffer[], port: number): Promise<number> {
  const t = performance.now();
  for (const b of bufs) await client.send(b, port);
  return t;
}

describe('startEcho (in-process, real UDP on 127.0.0.1)', () => {
  let echo: EchoServer | undefined;
  const clients: EchoClient[] = [];

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

  it('re-paces a burst of 50 packets over ≈1 s, in timestamp order, byte-identical', async () => {
    echo = await startEcho({port: 0});
    const c = await client();
    const sent = burst(50, {ssrc: 0x11223344});
    const tSend = await sendAll(c, sent, echo.port);
    const got = await c.waitFor(50, 5000);
    expect(got[0].tMs - tSend).toBeLessThan(100); // the first is due at once
    expectPacedBurst(got, sent);
    const s = echo.stats();
    expect(s).toMatchObject({packetsIn: 50, packetsOut: 50, malformed: 0, sendErrors: 0, sourcesActive: 1, sourcesTotal: 1, queued: 0});
    expect(s.bytesIn).toBe(50 * 172);
    expect(s.bytesOut).toBe(50 * 172);
  });

  it('paces two sources independently, each from its own first packet', async () => {
    echo = await startEcho({port: 0});
    const a = await client();
    const b = await client();
    const tA = await sendAll(a, burst(25, {ssrc: 1}), echo.port);
    await sleep(300);
    const tB = await sendAll(b, burst(25, {ssrc: 2}), echo.port);
    const gotA = (await a.waitFor(25, 5000)).map((r) => r.tMs);
    const gotB = (await b.waitFor(25, 5000)).map((r) => r.tMs);
    expect(gotA[0] - tA).toBeLessThan(100);
    expect(gotB[0] - tB).toBeLessThan(100); // B's anchor is B's first packet, not A's
    for (const times of [gotA, gotB]) {
      const span = times[24] - times[0];
      expect(span).toBeGreaterThanOrEqual(420);
      expect(span).toBeLessThanOrEqual(650);
    }
    expect(gotB[0] - gotA[0]).toBeGreaterThanOrEqual(250);
    expect(echo.stats()).toMatchObject({sourcesActive: 2, sourcesTotal: 2});
  });

  it('schedules many interleaved sources through one timer, each in order and on its own pace', async () => {
    echo = await startEcho({port: 0});
    const socks = await Promise.all([client(), client(), client(), client()]);
    // 40 sources: 4 sockets × 10 SSRCs, each a burst of 10 packets (≈180 ms of timestamps), starts staggered.
    const starts: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      const c = socks[i % 4];
      starts.push(
        sleep((i * 7) % 100).then(async () => {
          await sendAll(c, burst(10, {ssrc: 1000 + i, seq0: i * 100}), echo!.port);
        }),
      );
    }
    await Promise.all(starts);
    await Promise.all(socks.map((c) => c.waitFor(100, 5000)));
    for (const c of socks) {
      const bySsrc = new Map<number, {seq: number; t: number}[]>();
      for (const r of c.received) {
        const ssrc = r.buf.readUInt32BE(8);
        if (!bySsrc.has(ssrc)) bySsrc.set(ssrc, []);
        bySsrc.get(ssrc)!.push({seq: r.buf.readUInt16BE(2), t: r.tMs});
      }
      expect(bySsrc.size).toBe(10);
      for (const [ssrc, list] of bySsrc) {
        const i = ssrc - 1000;
        expect(list.map((x) => x.seq)).toEqual([...Array(10).keys()].map((k) => i * 100 + k));
        const span = list[9].t - list[0].t;
        expect(span).toBeGreaterThanOrEqual(150);
        expect(span).toBeLessThanOrEqual(320);
      }
    }
    expect(echo.stats()).toMatchObject({packetsIn: 400, packetsOut: 400, sourcesActive: 40, queued: 0});
  });

  it('keys a source by SSRC too: a new SSRC from the same socket gets its own anchor', async () => {
    echo = await startEcho({port: 0});
    const c = await client();
    await c.send(rtpPacket({seq: 1, ts: 160, ssrc: 7}), echo.port);
    await c.waitFor(1);
    await sleep(200);
    // Same socket, other SSRC, timestamp far from SSRC 7's: due at once for its own anchor.
    const t = performance.now();
    await c.send(rtpPacket({seq: 1, ts: 160 + 8000 * 1.5, ssrc: 8}), echo.port);
    const got = await c.waitFor(2, 3000);
    expect(got[1].tMs - t).toBeLessThan(100);
    expect(echo.stats()).toMatchObject({sourcesTotal: 2, reanchors: 0});
  });

  it('sends a late packet at once and counts it late', async () => {
    echo = await startEcho({port: 0});
    const c = await client();
    // 5 packets 20 ms apart in timestamp but sent 100 ms apart: from the 2nd on, each is late.
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await c.send(rtpPacket({seq: i, ts: 160 * i, ssrc: 5}), echo.port);
      const got = await c.waitFor(i + 1, 3000);
      delays.push(got[i].tMs - t);
      await sleep(100);
    }
    // One whose slot (ts 160*6 → 120 ms after the first) passed long ago.
    const t = performance.now();
    await c.send(rtpPacket({seq: 5, ts: 160 * 6, ssrc: 5}), echo.port);
    const got = await c.waitFor(6, 3000);
    delays.push(got[5].tMs - t);
    for (const d of delays) expect(d).toBeLessThan(50);
    const s = echo.stats();
    expect(s.late).toBe(5);
    expect(s.arrivedLate).toBe(5);
    expect(s.packetsOut).toBe(6);
  });

  it('keeps pacing when timestamps wrap past 2^32', async () => {
    echo = await startEcho({port: 0});
    const c = await client();
    const sent = burst(30, {ssrc: 9, ts0: 2 ** 32 - 160 * 10});
    expect(sent[29].readUInt32BE(4)).toBeLessThan(160 * 30); // the burst does cross the wrap
    await sendAll(c, sent, echo.port);
    const got = await c.waitFor(30, 5000);
    const times = got.map((r) => r.tMs);
    const span = times[29] - times[0];
    expect(span).toBeGreaterThanOrEqual(29 * 20 - 80);
    expect(span).toBeLessThanOrEqual(29 * 20 + 200);
    // Right after the wrap the pacing continues: packets 9→10→11 are still ≈20 ms apart.
    expect(times[11] - times[9]).toBeGreaterThanOrEqual(30);
    got.forEach((r, i) => expect(r.buf.equals(sent[i])).toBe(true));
    expect(echo.stats().reanchors).toBe(0);
  });

  it('paces PT 118 (slin16) at 16 kHz', async () => {
    echo = await startEcho({port: 0});
    const c = await client();
    await sendAll(c, burst(26, {ssrc: 118, step: 320, pt: 118, payloadBytes: 640}), echo.port);
    const times = (await c.waitFor(26, 5000)).map((r) => r.tMs);
    const span = times[25] - times[0];
    expect(span).toBeGreaterThanOrEqual(420);
    expect(span).toBeLessThanOrEqual(700);
  });

  it('uses --clock-rate for unknown payload types', async () => {
    echo = await startEcho({port: 0, clockRateHz: 16000});
    const c = await client();
    // PT 96 unknown → 16 kHz: 160 ticks = 10 ms, so 26 packets span ≈250 ms, not 500.
    await sendAll(c, burst(26, {ssrc: 96, pt: 96}), echo.port);
    const times = (await c.waitFor(26, 5000)).map((r) => r.tMs);
    const span = times[25] - times[0];
    expect(span).toBeGreaterThanOrEqual(200);
    expect(span).toBeLessThanOrEqual(400);
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
    await sleep(150);
    expect(got).toHaveLength(1);
    expect(got[0].buf.equals(good)).toBe(true);
    expect(echo.stats()).toMatchObject({packetsIn: 4, packetsOut: 1, malformed: 3, sourcesTotal: 1});
  });

  it('expires an idle source and re-anchors it when it comes back', async () => {
    echo = await startEcho({port: 0, idleExpiryMs: 200});
    const c = await client();
    await c.send(rtpPacket({seq: 1, ts: 160, ssrc: 4}), echo.port);
    await c.waitFor(1);
    expect(echo.stats().sourcesActive).toBe(1);
    await sleep(600);
    expect(echo.stats()).toMatchObject({sourcesActive: 0, sourcesExpired: 1});
    // 1.5 s ahead of the old anchor: without the re-anchor it would wait ≈0.9 s.
    const t = performance.now();
    await c.send(rtpPacket({seq: 2, ts: 160 + 8000 * 1.5, ssrc: 4}), echo.port);
    const got = await c.waitFor(2, 3000);
    expect(got[1].tMs - t).toBeLessThan(100);
    expect(echo.stats()).toMatchObject({sourcesActive: 1, sourcesTotal: 2, reanchors: 0});
  });

  it('re-anchors a source whose timestamp jumps beyond --max-hold-ms instead of holding it', async () => {
    echo = await startEcho({port: 0, maxHoldMs: 300});
    const c = await client();
    await c.send(rtpPacket({seq: 1, ts: 160, ssrc: 6}), echo.port);
    await c.waitFor(1);
    const t = performance.now();
    await c.send(rtpPacket({seq: 2, ts: 160 + 8000 * 60, ssrc: 6}), echo.port); // 60 s ahead
    await c.send(rtpPacket({seq: 3, ts: 160 + 8000 * 60 + 160, ssrc: 6}), echo.port); // paced from the new anchor
    const got = await c.waitFor(3, 3000);
    expect(got[1].tMs - t).toBeLessThan(100);
    expect(got[2].tMs - got[1].tMs).toBeGreaterThanOrEqual(10);
    expect(got[2].buf.readUInt16BE(2)).toBe(3);
    expect(echo.stats().reanchors).toBe(1);
  });

  it('sends a reordered early packet at its own slot, ahead of later ones', async () => {
    echo = await startEcho({port: 0});
    const c = await client();
    await c.send(rtpPacket({seq: 0, ts: 0, ssrc: 10}), echo.port);
    await c.send(rtpPacket({seq: 3, ts: 160 * 15, ssrc: 10}), echo.port); // due at 300 ms
    await c.send(rtpPacket({seq: 2, ts: 160 * 10, ssrc: 10}), echo.port); // due at 200 ms
    await c.send(rtpPacket({seq: 1, ts: 160 * 5, ssrc: 10}), echo.port); // due at 100 ms
    const got = await c.waitFor(4, 3000);
    expect(got.map((r) => r.buf.readUInt16BE(2))).toEqual([0, 1, 2, 3]);
    const t = got.map((r) => r.tMs - got[0].tMs);
    expect(t[1]).toBeGreaterThanOrEqual(80);
    expect(t[1]).toBeLessThan(160);
    expect(t[3]).toBeGreaterThanOrEqual(280);
  });

  it('rejects with a clear error when the port is taken', async () => {
    echo = await startEcho({port: 0});
    await expect(startEcho({port: echo.port})).rejects.toThrow(/cannot bind UDP 127\.0\.0\.1:\d+: EADDRINUSE/);
  });
});
