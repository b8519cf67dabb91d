import {createSocket} from 'node:dgram';
import {ConfigError} from '../../../src/errors.js';
import type {NativeEngine} from '../../../src/engine/native-engine.js';
import {startNativeEcho, type NativeEchoServer} from '../../../src/media/echo/native.js';
import {CliProcess, sleep} from '../../helpers/cli.js';
import {ensureEngineBuilt, startTestEngine} from '../../helpers/engine.js';
import {rtpPacket} from '../../helpers/rtp.js';
import {EchoClient} from './client.js';

describe('echo in the native engine (real UDP on 127.0.0.1)', () => {
  let engine: NativeEngine;
  let echo: NativeEchoServer;
  let client: EchoClient;

  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine.close();
  });
  beforeEach(async () => {
    echo = await startNativeEcho(engine, {host: '127.0.0.1', port: 0, idleExpiryMs: 60_000});
    client = await EchoClient.open();
  });
  afterEach(async () => {
    await echo.close();
    await client.close();
  });

  test('reflects RTP byte-identical (CSRCs, extension, padding too) and drops what is not RTP', async () => {
    const plain = rtpPacket({seq: 1, ts: 0, ssrc: 7, payloadBytes: 160, fill: 0x55});
    const withCsrc = Buffer.concat([rtpPacket({seq: 2, ts: 160, ssrc: 7, payloadBytes: 0}), Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]), Buffer.alloc(20, 9)]);
    withCsrc[0] = 0x82;
    const withExt = Buffer.concat([rtpPacket({seq: 3, ts: 320, ssrc: 7, payloadBytes: 0}), Buffer.from([0xbe, 0xde, 0, 1, 1, 2, 3, 4]), Buffer.alloc(10, 3)]);
    withExt[0] = 0x90;
    const padded = Buffer.concat([rtpPacket({seq: 4, ts: 480, ssrc: 7, payloadBytes: 8}), Buffer.from([0, 0, 0, 4])]);
    padded[0] = 0xa0;
    const sent = [plain, withCsrc, withExt, padded];
    for (const p of sent) await client.send(p, echo.port);
    await client.send(Buffer.from('hello'), echo.port);
    await client.send(Buffer.alloc(0), echo.port);
    const got = await client.waitFor(4);
    await sleep(50);
    expect(got.map((r) => r.buf.toString('hex'))).toEqual(sent.map((b) => b.toString('hex')));
    const s = await echo.close();
    expect(s.packetsIn).toBe(6);
    expect(s.malformed).toBe(2);
    expect(s.packetsOut).toBe(4);
    expect(s.bytesOut).toBe(sent.reduce((n, b) => n + b.length, 0));
    expect(s.sourcesTotal).toBe(1);
    const pacing = echo.pacing();
    expect(pacing.pacingErrorUs.count).toBe(3); // the 2nd..4th waited for their slots (sent at once, 20 ms apart in RTP time)
    expect(pacing.pacingErrorUs.p50).toBeGreaterThanOrEqual(0);
  });

  test('a burst of 50 packets sent at once comes back re-paced to its timestamps', async () => {
    const ssrc = 0x1234;
    const sent = Array.from({length: 50}, (_, i) => rtpPacket({seq: i, ts: i * 160, ssrc}));
    for (const p of sent) await client.send(p, echo.port);
    const got = await client.waitFor(50, 5000);
    expect(got.map((r) => r.buf.readUInt16BE(2))).toEqual(sent.map((_, i) => i));
    // 49 frames of 20 ms: the last one cannot leave before 980 ms after the first
    expect(got[49].tMs - got[0].tMs).toBeGreaterThanOrEqual(900);
    await sleep(20);
    const s = await echo.close();
    expect(s).toMatchObject({packetsOut: 50, held: 49, queued: 0, queueOverflows: 0, anchorMoves: 0});
    expect(echo.pacing().pacingErrorUs.count).toBe(49);
  });

  test('sources are per address and SSRC, and idle ones expire', async () => {
    const e2 = await startNativeEcho(engine, {host: '127.0.0.1', port: 0, idleExpiryMs: 40});
    try {
      await client.send(rtpPacket({seq: 0, ts: 0, ssrc: 1}), e2.port);
      await client.send(rtpPacket({seq: 0, ts: 0, ssrc: 2}), e2.port);
      await client.waitFor(2);
      await sleep(400);
      await client.send(rtpPacket({seq: 1, ts: 160, ssrc: 1}), e2.port); // back after expiry: a new source
      await client.waitFor(3);
    } finally {
      const s = await e2.close();
      expect(s.sourcesTotal).toBe(3);
      expect(s.sourcesExpired).toBe(2);
      expect(s.sourcesActive).toBe(1);
    }
  });

  test('a taken port is a configuration error naming EADDRINUSE', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    try {
      const err = await startNativeEcho(engine, {host: '127.0.0.1', port: taken.address().port}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/cannot bind UDP 127\.0\.0\.1:\d+: EADDRINUSE/);
    } finally {
      taken.close();
    }
  });
});

describe('rtpsla echo --engine', () => {
  test.each(['native', 'node'])('--engine %s says which engine in its listening line and reflects', async (kind) => {
    if (kind === 'native') ensureEngineBuilt();
    const p = new CliProcess(['echo', '--port', '0', '--stats-interval-sec', '0', '--engine', kind]);
    try {
      const m = await p.waitFor(/(\w+) engine: echo listening on [\d.]+:(\d+) \(rcvbuf \d+, sndbuf \d+\)\n/);
      expect(m[1]).toBe(kind);
      const client = await EchoClient.open();
      await client.send(rtpPacket({seq: 5, ts: 800, ssrc: 9}), Number(m[2]));
      const got = await client.waitFor(1);
      expect(got[0].buf.readUInt16BE(2)).toBe(5);
      await client.close();
    } finally {
      const r = await p.stop();
      expect(r.code).toBe(0);
    }
  });
});
