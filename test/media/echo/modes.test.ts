/**
 * `echo --mode stream|sink` over real UDP on 127.0.0.1: in Node on a driven clock (frames go only
 * when the test moves time, so which frames went and when is exact), and in the native engine on
 * the real clock (what is asserted is the stream's shape, never its timing).
 */
import type {NativeEngine} from '../../../src/engine/native-engine.js';
import {startEcho, type EchoServer} from '../../../src/media/echo/index.js';
import {startNativeEcho} from '../../../src/media/echo/native.js';
import {DrivenClock} from '../../../src/runtime/clock.js';
import {sleep} from '../../helpers/cli.js';
import {startTestEngine} from '../../helpers/engine.js';
import {rtpPacket} from '../../helpers/rtp.js';
import {EchoClient} from './client.js';

type Hdr = {marker: boolean; pt: number; seq: number; ts: number; ssrc: number; size: number; payload: Buffer};
const hdr = (b: Buffer): Hdr => ({marker: (b[1] & 0x80) !== 0, pt: b[1] & 0x7f, seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), size: b.length, payload: b.subarray(12)});

/** Wait (real time) until `cond` holds. */
async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Consecutive frames: sequence +1 each (mod 2^16), timestamp +step each (mod 2^32). */
function expectConsecutive(frames: Hdr[], step: number): void {
  for (let i = 1; i < frames.length; i++) {
    expect((frames[i].seq - frames[i - 1].seq) & 0xffff).toBe(1);
    expect((frames[i].ts - frames[i - 1].ts) >>> 0).toBe(step);
  }
}

describe('echo --mode stream in Node (driven clock, real UDP)', () => {
  let echo: EchoServer;
  let client: EchoClient;
  let clock: DrivenClock;

  beforeEach(async () => {
    clock = new DrivenClock(10_000_000);
    echo = await startEcho({port: 0, mode: 'stream', idleExpiryMs: 1000, clock});
    client = await EchoClient.open();
  });
  afterEach(async () => {
    await echo.close();
    await client.close();
  });

  test('a source gets its own paced 20 ms stream from first sight: own SSRC, its PT, step and size, whatever it sends', async () => {
    await client.send(rtpPacket({seq: 7, ts: 1000, ssrc: 42, pt: 8, payloadBytes: 320}), echo.port);
    await client.waitFor(1); // frame 0 goes at once
    await client.send(rtpPacket({seq: 8, ts: 1320, ssrc: 42, pt: 8, payloadBytes: 320}), echo.port);
    await until(() => echo.stats().packetsIn === 2, 'the second packet');
    clock.advanceMs(100); // frames 1..5
    const got = (await client.waitFor(6)).map((r) => hdr(r.buf));
    await sleep(30);
    expect(client.received).toHaveLength(6);
    const ssrcs = new Set(got.map((f) => f.ssrc));
    expect(ssrcs.size).toBe(1);
    expect(ssrcs.has(42)).toBe(false);
    for (const f of got) {
      expect(f.pt).toBe(8);
      expect(f.size).toBe(12 + 320);
      expect(f.payload.every((b) => b === 0xff)).toBe(true);
    }
    // frame 0 went before the source's step was known (160 at 8 kHz); then its own step, 320
    expect((got[1].ts - got[0].ts) >>> 0).toBe(160);
    expectConsecutive(got.slice(1), 320);
    const s = echo.stats();
    expect(s).toMatchObject({packetsIn: 2, sourcesActive: 1, sourcesTotal: 1, late: 0});
  });

  test('a stall of 100 ms sends the frames it missed at once, counted late; a longer one skips ahead with the marker', async () => {
    await client.send(rtpPacket({seq: 1, ts: 0, ssrc: 5}), echo.port);
    await client.waitFor(1);
    clock.stallMs(100);
    clock.advanceMs(0);
    let got = (await client.waitFor(6)).map((r) => hdr(r.buf));
    expectConsecutive(got, 160);
    expect(echo.stats().late).toBe(4); // frames 1..4 late by 80..20 ms; frame 5 due now
    expect(echo.stats().maxSchedulerLagUs).toBe(80_000);
    await client.send(rtpPacket({seq: 2, ts: 160, ssrc: 5}), echo.port);
    await until(() => echo.stats().packetsIn === 2, 'the packet');
    clock.stallMs(500); // 25 frames missed: more than 8 behind
    clock.advanceMs(0);
    await sleep(30);
    expect(client.received).toHaveLength(6);
    clock.advanceMs(20);
    got = (await client.waitFor(7)).map((r) => hdr(r.buf));
    const last = got[6];
    expect(last.marker).toBe(true);
    expect((last.seq - got[5].seq) & 0xffff).toBe(1);
    expect((last.ts - got[5].ts) >>> 0).toBe(160 * 26); // at 600 ms frames 6..30 are skipped; frame 31 goes at its deadline, 620 ms
  });

  test('the stream stops when its source goes idle, and the source expires', async () => {
    await client.send(rtpPacket({seq: 1, ts: 0, ssrc: 5}), echo.port);
    await client.waitFor(1);
    clock.advanceMs(1000); // 50 more frames, the source silent all along
    await client.waitFor(51);
    clock.advanceMs(1000);
    await sleep(30);
    expect(client.received).toHaveLength(51);
    expect(echo.stats()).toMatchObject({sourcesActive: 0, sourcesExpired: 1, packetsOut: 51});
    expect(clock.pendingTimers).toBe(1); // the sweep only
  });
});

describe('echo --mode sink in Node (real UDP)', () => {
  test('receives and counts, sends nothing', async () => {
    const echo = await startEcho({port: 0, mode: 'sink'});
    const client = await EchoClient.open();
    for (let i = 0; i < 10; i++) await client.send(rtpPacket({seq: i, ts: i * 160, ssrc: 9}), echo.port);
    await client.send(Buffer.from('not rtp'), echo.port);
    await until(() => echo.stats().packetsIn === 11, 'the packets');
    await sleep(50);
    await client.close();
    const s = await echo.close();
    expect(client.received).toHaveLength(0);
    expect(s).toMatchObject({packetsIn: 11, malformed: 1, packetsOut: 0, sourcesTotal: 1});
  });
});

describe('echo --mode stream and sink in the native engine (real UDP, real clock)', () => {
  let engine: NativeEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine.close();
  });

  test('stream: its own SSRC, consecutive frames of the source\'s step and size, stopping once the source is idle', async () => {
    const echo = await startNativeEcho(engine, {host: '127.0.0.1', port: 0, mode: 'stream', idleExpiryMs: 300});
    const client = await EchoClient.open();
    await client.send(rtpPacket({seq: 100, ts: 5000, ssrc: 77, pt: 0, payloadBytes: 160}), echo.port);
    await client.send(rtpPacket({seq: 101, ts: 5160, ssrc: 77, pt: 0, payloadBytes: 160}), echo.port);
    const got = (await client.waitFor(8)).map((r) => hdr(r.buf));
    expect(new Set(got.map((f) => f.ssrc)).size).toBe(1);
    expect(got[0].ssrc).not.toBe(77);
    expectConsecutive(got.filter((f) => !f.marker), 160);
    for (const f of got) expect(f).toMatchObject({pt: 0, size: 172});
    await sleep(900); // idle for 300 ms: the stream stopped
    const n = client.received.length;
    await sleep(200);
    expect(client.received.length).toBe(n);
    const s = await echo.close();
    expect(s.packetsIn).toBe(2);
    expect(s.packetsOut).toBe(n);
    await client.close();
  });

  test('sink: counts, sends nothing', async () => {
    const echo = await startNativeEcho(engine, {host: '127.0.0.1', port: 0, mode: 'sink'});
    const client = await EchoClient.open();
    for (let i = 0; i < 10; i++) await client.send(rtpPacket({seq: i, ts: i * 160, ssrc: 9}), echo.port);
    await sleep(100);
    const s = await echo.close();
    expect(client.received).toHaveLength(0);
    expect(s).toMatchObject({packetsIn: 10, packetsOut: 0, sourcesTotal: 1});
    await client.close();
  });

  test('an unknown mode is refused', async () => {
    await expect(startNativeEcho(engine, {host: '127.0.0.1', port: 0, mode: 'bot' as never})).rejects.toThrow(/EINVAL/);
  });
});
