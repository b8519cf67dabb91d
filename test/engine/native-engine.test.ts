import {createSocket, type Socket} from 'node:dgram';
import {EngineCommandError, EngineExitedError, RECORD_BYTES, RecordFlag, RecordKind} from '../../src/engine/engine-types.js';
import type {RecordViews} from '../../src/engine/frame-reader.js';
import type {NativeEngine} from '../../src/engine/native-engine.js';
import {nowUs} from '../../src/rtp/clock.js';
import {RtpParse} from '../../src/rtp/packet.js';
import {sleep} from '../helpers/cli.js';
import {CollectRecords as Collect, startTestEngine} from '../helpers/engine.js';
import {rtpPacket} from '../helpers/rtp.js';
import {waitUntil} from '../helpers/wait.js';

function bound(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

function send(s: Socket, buf: Buffer, port: number): Promise<void> {
  return new Promise((r) => s.send(buf, port, '127.0.0.1', () => r()));
}

/** The relay's own counters (`relay.stats`); every record of earlier datagrams precedes the reply. */
async function relayCounters(engine: NativeEngine, relayId: number): Promise<{forwardedUp: number; forwardedBack: number; sendErrors: number; foreign: number; malformed: number}> {
  return (await engine.command('relay.stats', {relayId})) as unknown as {forwardedUp: number; forwardedBack: number; sendErrors: number; foreign: number; malformed: number};
}

/** Datagrams the relay took in from Asterisk's side or from strangers: forwarded up, foreign or malformed. */
async function takenIn(engine: NativeEngine, relayId: number): Promise<number> {
  const c = await relayCounters(engine, relayId);
  return c.forwardedUp + c.foreign + c.malformed + c.sendErrors;
}

describe.each([
  ['recvmmsg/sendmmsg', {}],
  ['recvmsg/sendmsg', {RTPSLA_ENGINE_MMSG: '0'}],
] as const)('native engine relay (%s)', (_mode, env) => {
  let engine: NativeEngine;
  let asterisk: Socket;
  let echo: Socket;
  let stranger: Socket;
  let relayId: number;
  let relayPort: number;
  let sink: Collect;
  const atEcho: Array<{buf: Buffer; atUs: number}> = [];
  const atAsterisk: Buffer[] = [];

  beforeAll(async () => {
    engine = await startTestEngine(env);
  });
  afterAll(async () => {
    await engine.close();
  });

  beforeEach(async () => {
    atEcho.length = 0;
    atAsterisk.length = 0;
    asterisk = await bound();
    echo = await bound();
    stranger = await bound();
    echo.on('message', (m, r) => {
      atEcho.push({buf: m, atUs: nowUs()});
      echo.send(m, r.port, r.address);
    });
    asterisk.on('message', (m) => atAsterisk.push(m));
    const r = await engine.command('relay.open', {bindIp: '127.0.0.1', port: 0, echoAddress: '127.0.0.1', echoPort: echo.address().port, bufferBytes: 262144});
    relayId = r.relayId as number;
    relayPort = r.port as number;
    sink = new Collect();
    engine.registerRelay(relayId, sink);
    await engine.command('relay.setAsterisk', {relayId, address: '127.0.0.1', port: asterisk.address().port});
  });

  afterEach(async () => {
    await engine.command('relay.close', {relayId}).catch(() => undefined);
    engine.unregisterRelay(relayId);
    for (const s of [asterisk, echo, stranger]) s.close();
  });

  test('records carry the header fields; kernel receive time lies between the send and the forward, tSent after tRecv', async () => {
    const sentAtUs: number[] = [];
    for (let i = 0; i < 10; i++) {
      sentAtUs.push(nowUs());
      await send(asterisk, rtpPacket({seq: 65530 + i, ts: 4294967000 + 160 * i, ssrc: 0xdeadbeef, pt: 8, marker: i === 0, payloadBytes: 160}), relayPort);
      await sleep(2);
    }
    await waitUntil('the 10 packets back at Asterisk', () => atAsterisk.length >= 10);
    await engine.command('relay.stats', {relayId}); // every record of earlier packets precedes this reply
    const up = sink.of(RecordKind.Up);
    const back = sink.of(RecordKind.Back);
    expect(up.map((r) => r.seq)).toEqual([65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3]);
    expect(up.map((r) => r.ts)).toEqual(Array.from({length: 10}, (_, i) => (4294967000 + 160 * i) >>> 0));
    expect(new Set(up.map((r) => r.ssrc))).toEqual(new Set([0xdeadbeef]));
    expect(up.map((r) => r.pt)).toEqual(Array(10).fill(8));
    expect(up.map((r) => (r.flags & RecordFlag.Marker) !== 0)).toEqual([true, ...Array(9).fill(false)]);
    expect(up.every((r) => r.size === 172)).toBe(true);
    expect(back.map((r) => r.seq)).toEqual(up.map((r) => r.seq));
    expect(atEcho).toHaveLength(10);
    expect(atAsterisk).toHaveLength(10);
    for (let i = 0; i < 10; i++) {
      const r = up[i];
      expect(r.tRecvUs).toBeGreaterThanOrEqual(sentAtUs[i]); // the kernel saw it after we sent it
      expect(r.tSentUs).toBeGreaterThanOrEqual(r.tRecvUs); // forwarded after it was received
      expect(r.tRecvUs).toBeLessThanOrEqual(atEcho[i].atUs); // ...and before the echo's process saw it
      expect(back[i].tRecvUs).toBeGreaterThan(r.tRecvUs); // (a loopback echo may answer before the send call returns)
      expect(back[i].tSentUs).toBeGreaterThanOrEqual(back[i].tRecvUs);
      expect(r.flags & RecordFlag.SendFailed).toBe(0);
    }
  });

  test('foreign and malformed datagrams are recorded with their reason and never forwarded', async () => {
    await send(stranger, rtpPacket({seq: 1, ts: 160, ssrc: 3}), relayPort);
    await send(asterisk, Buffer.alloc(5), relayPort);
    const v1 = rtpPacket({seq: 2, ts: 320, ssrc: 3});
    v1[0] = 0x40;
    await send(asterisk, v1, relayPort);
    const csrc = rtpPacket({seq: 3, ts: 480, ssrc: 3, payloadBytes: 0});
    csrc[0] = 0x8f; // 15 CSRCs in a 12-byte datagram
    await send(asterisk, csrc, relayPort);
    const ext = rtpPacket({seq: 4, ts: 640, ssrc: 3, payloadBytes: 4});
    ext[0] = 0x90;
    ext.writeUInt16BE(100, 14); // extension of 100 words
    await send(asterisk, ext, relayPort);
    const pad = rtpPacket({seq: 5, ts: 800, ssrc: 3, payloadBytes: 4});
    pad[0] = 0xa0;
    pad[pad.length - 1] = 200;
    await send(asterisk, pad, relayPort);
    await send(echo, Buffer.from('garbage from the echo'), relayPort);
    // 1 foreign + 6 malformed: once the relay has counted them all, their records are in
    await waitUntil('the relay to count the 7 datagrams', async () => {
      const c = await relayCounters(engine, relayId);
      return c.foreign + c.malformed >= 7;
    });
    expect(sink.of(RecordKind.Foreign)).toHaveLength(1);
    expect(sink.of(RecordKind.Malformed).map((r) => r.aux)).toEqual([
      RtpParse.TooShort,
      RtpParse.BadVersion,
      RtpParse.CsrcPastEnd,
      RtpParse.ExtensionPastEnd,
      RtpParse.PaddingPastEnd,
      RtpParse.BadVersion,
    ]);
    expect(sink.of(RecordKind.Up)).toHaveLength(0);
    expect(atEcho).toHaveLength(0);
    expect(atAsterisk).toHaveLength(0);
  });

  test('survives 10k garbage datagrams, records every datagram it took in exactly once, and keeps forwarding', async () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const droppedBefore = (await engine.stats()).recordsDropped;
    for (let i = 0; i < 10_000; i++) {
      const len = rnd() % 300;
      const b = Buffer.alloc(len);
      for (let k = 0; k < len; k++) b[k] = rnd() & 0xff;
      if (len > 0 && i % 2 === 0) b[0] = 0x80 | (b[0] & 0x3f); // half look like RTP v2 with random flags
      await send(i % 3 === 0 ? stranger : asterisk, b, relayPort);
      // flow control, not a pause: at most 100 in flight, well within the socket buffer, so every
      // datagram reaches the engine however busy the machine is
      if (i % 100 === 99) await waitUntil(`the relay to take in ${i + 1} datagrams`, async () => (await takenIn(engine, relayId)) >= i + 1);
    }
    await send(asterisk, rtpPacket({seq: 42, ts: 4200, ssrc: 99}), relayPort);
    await waitUntil('the packet after the garbage at the echo', () => atEcho.some((e) => e.buf.readUInt16BE(2) === 42 && e.buf.readUInt32BE(8) === 99));
    expect(engine.alive).toBe(true);
    expect(await takenIn(engine, relayId)).toBe(10_001); // relay.stats: every record of them is in
    const dropped = (await engine.stats()).recordsDropped - droppedBefore;
    const counted = sink.recs.filter((r) => r.kind === RecordKind.Foreign || r.kind === RecordKind.Malformed || r.kind === RecordKind.Up).length;
    expect(counted).toBe(10_001 - dropped);
  });
});

describe('native engine control', () => {
  let engine: NativeEngine;
  beforeEach(async () => {
    engine = await startTestEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  test('a taken port is reported as EADDRINUSE', async () => {
    const taken = await bound();
    const err = await engine
      .command('relay.open', {bindIp: '127.0.0.1', port: taken.address().port, echoAddress: '127.0.0.1', echoPort: 9})
      .catch((e: unknown) => e);
    taken.close();
    expect(err).toBeInstanceOf(EngineCommandError);
    expect((err as EngineCommandError).code).toBe('EADDRINUSE');
  });

  test('bad commands get an error reply and the engine carries on', async () => {
    await expect(engine.command('relay.open', {bindIp: 'not-an-ip', port: 0, echoAddress: '127.0.0.1', echoPort: 9})).rejects.toMatchObject({code: 'EINVAL'});
    await expect(engine.command('relay.close', {relayId: 777})).rejects.toMatchObject({code: 'ENOENT'});
    await expect(engine.command('no.such')).rejects.toMatchObject({code: 'EINVAL'});
    const s = await engine.stats();
    expect(s.relays).toBe(0);
  });

  test('relays and echoes closed while datagrams stream in leave the engine running', async () => {
    const peer = await bound();
    for (let round = 0; round < 20; round++) {
      const r = await engine.command('relay.open', {bindIp: '127.0.0.1', port: 0, echoAddress: '127.0.0.1', echoPort: peer.address().port});
      const e = await engine.command('echo.open', {host: '127.0.0.1', port: 0});
      for (let i = 0; i < 200; i++) {
        peer.send(rtpPacket({seq: i, ts: 160 * i, ssrc: 1}), r.port as number, '127.0.0.1');
        peer.send(rtpPacket({seq: i, ts: 160 * i, ssrc: 2}), e.port as number, '127.0.0.1');
      }
      await Promise.all([engine.command('relay.close', {relayId: r.relayId as number}), engine.command('echo.close', {echoId: e.echoId as number})]);
    }
    peer.close();
    expect(engine.alive).toBe(true);
    expect((await engine.stats()).relays).toBe(0);
  });

  test('the engine exiting is detected: pending commands reject and exit is emitted', async () => {
    const exited = new Promise<unknown>((resolve) => engine.once('exit', resolve));
    const errors: unknown[] = [];
    engine.on('error', (e) => errors.push(e));
    process.kill(engine.pid, 'SIGKILL');
    const pending = engine.command('stats').catch((e: unknown) => e);
    expect(await exited).toBeInstanceOf(EngineExitedError);
    expect(await pending).toBeInstanceOf(EngineExitedError);
    expect(errors).toHaveLength(1);
    expect(engine.alive).toBe(false);
    await expect(engine.command('stats')).rejects.toBeInstanceOf(EngineExitedError);
  });
});

describe('record batches reach their sinks', () => {
  let engine: NativeEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine.close();
  });

  /** A batch as FrameReader hands it on: records (id, kind, seq, tRecvNs) in this order. */
  function batch(recs: Array<[number, RecordKind, number, number]>): RecordViews {
    const ab = new ArrayBuffer(recs.length * RECORD_BYTES);
    const b = Buffer.from(ab);
    recs.forEach(([id, kind, seq, tRecvNs], i) => {
      const o = i * RECORD_BYTES;
      b.writeUInt32LE(id, o);
      b[o + 4] = kind;
      b.writeUInt16LE(seq, o + 8);
      b.writeBigInt64LE(BigInt(tRecvNs), o + 20);
    });
    return {u8: new Uint8Array(ab), u16: new Uint16Array(ab), u32: new Uint32Array(ab), i32: new Int32Array(ab)};
  }

  test('each sink gets its own records in the engine\'s order, whatever the interleaving; unknown ids are skipped', () => {
    const relay7 = new Collect();
    const relay8 = new Collect();
    const echo7 = new Collect();
    engine.registerRelay(7007, relay7);
    engine.registerRelay(7008, relay8);
    engine.registerEcho(7007, echo7); // the same id as a relay: a different sink
    const recs: Array<[number, RecordKind, number, number]> = [];
    for (let seq = 0; seq < 50; seq++) {
      recs.push([7007, RecordKind.Up, seq, 1e12 + seq * 20e6]);
      recs.push([7008, RecordKind.Up, 1000 + seq, 1e12 + seq * 20e6 + 1e5]);
      recs.push([9999, RecordKind.Up, seq, 1e12]);
      recs.push([7007, RecordKind.Echo, 2000 + seq, 1e12 + seq * 20e6 + 2e5]);
      recs.push([7007, RecordKind.Back, seq, 1e12 + seq * 20e6 + 3e5]);
    }
    engine.onRecordViews(batch(recs), recs.length);
    engine.unregisterRelay(7007);
    engine.unregisterRelay(7008);
    engine.unregisterEcho(7007);
    expect(relay7.recs.map((r) => `${r.kind}:${r.seq}`)).toEqual(Array.from({length: 50}, (_, s) => [`${RecordKind.Up}:${s}`, `${RecordKind.Back}:${s}`]).flat());
    expect(relay8.recs.map((r) => r.seq)).toEqual(Array.from({length: 50}, (_, s) => 1000 + s));
    expect(echo7.recs.map((r) => r.seq)).toEqual(Array.from({length: 50}, (_, s) => 2000 + s));
    expect(echo7.recs.every((r) => r.kind === RecordKind.Echo)).toBe(true);
    expect(relay7.recs[2].tRecvUs).toBeCloseTo(engine.toNowUs(1e12 + 20e6), 6);
    expect(relay7.recs[0].tSentUs).toBe(-1); // tSent 0: not sent
  });
});
