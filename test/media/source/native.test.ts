/**
 * The native engine's sim media sources (native/source.c) over real loopback sockets: header
 * sequence and payload as given, sent and received records (send jitter, round trip), strict-RTP
 * learning, stop/resume and skip-ahead. Behaviour, not milliseconds.
 */
import {createSocket, type Socket} from 'node:dgram';
import {EngineCommandError, RecordFlag, RecordKind} from '../../../src/engine/engine-types.js';
import type {NativeEngine} from '../../../src/engine/native-engine.js';
import {nowUs} from '../../../src/rtp/clock.js';
import {sleep} from '../../helpers/cli.js';
import {CollectRecords as Collect, startTestEngine} from '../../helpers/engine.js';

interface Peer {
  socket: Socket;
  port: number;
  got: Buffer[];
  echo: boolean;
}

async function peer(): Promise<Peer> {
  const socket = createSocket('udp4');
  const p: Peer = {socket, port: 0, got: [], echo: false};
  socket.on('message', (m, rinfo) => {
    p.got.push(m);
    if (p.echo) socket.send(m, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  p.port = socket.address().port;
  return p;
}

function header(b: Buffer) {
  return {version: b[0] >>> 6, marker: b[1] >>> 7, pt: b[1] & 0x7f, seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8)};
}

/** Three distinct 4-byte frames: the engine cuts frame n % 3 for the n-th packet. */
const PERIOD = Buffer.from('000102031011121320212223', 'hex');
const SSRC = 0xdeadbeef;

describe('native engine sim sources', () => {
  let engine: NativeEngine;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    engine = await startTestEngine();
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    await engine.close();
  });

  async function open(remotePort: number, extra: Record<string, number | string> = {}): Promise<{id: number; port: number; sink: Collect}> {
    const r = await engine.command('source.open', {
      bindIp: '127.0.0.1', port: 0, remoteAddress: '127.0.0.1', remotePort, pt: 8, ssrc: SSRC, firstSeq: 65534, samplesPerFrame: 160,
      frameUs: 20_000, payloadBytes: 4, payloadHex: PERIOD.toString('hex'), ...extra,
    });
    const sink = new Collect();
    engine.registerSource(r.sourceId as number, sink);
    return {id: r.sourceId as number, port: r.port as number, sink};
  }

  async function usePeer(): Promise<Peer> {
    const p = await peer();
    sockets.push(p.socket);
    return p;
  }

  it('sends frames with the header sequence and payload given, one sent record per frame', async () => {
    const rx = await usePeer();
    const src = await open(rx.port);
    await engine.command('source.start', {sourceId: src.id, delayUs: 0});
    await sleep(250);
    await engine.command('source.stop', {sourceId: src.id});
    await sleep(50);
    const counters = await engine.command('source.close', {sourceId: src.id});
    const hs = rx.got.map(header);
    expect(hs.length).toBeGreaterThanOrEqual(5);
    expect(hs[0]).toMatchObject({version: 2, marker: 0, pt: 8, ts: 160, ssrc: SSRC, seq: 65534});
    for (let i = 1; i < hs.length; i++) {
      expect(hs[i]).toMatchObject({version: 2, marker: 0, pt: 8, ssrc: SSRC});
      expect((hs[i].seq - hs[i - 1].seq) & 0xffff).toBe(1); // across the wrap
      expect(hs[i].ts - hs[i - 1].ts).toBe(160);
    }
    rx.got.forEach((b, i) => expect(b.subarray(12)).toEqual(PERIOD.subarray((i % 3) * 4, (i % 3) * 4 + 4)));
    const sent = src.sink.of(RecordKind.SourceSent);
    expect(sent.map((r) => r.seq)).toEqual(hs.map((h) => h.seq));
    expect(counters.packetsSent).toBe(hs.length);
    // deadlines 20 ms apart exactly (absolute, never drifting); sent at or after each
    for (let i = 1; i < sent.length; i++) expect(sent[i].tRecvUs - sent[i - 1].tRecvUs).toBeCloseTo(20_000, 0);
    for (const r of sent) expect(r.tSentUs).toBeGreaterThanOrEqual(r.tRecvUs);
  });

  it('gives a round-trip sample for every echoed frame (kernel receive − send of the same seq)', async () => {
    const rx = await usePeer();
    rx.echo = true;
    const src = await open(rx.port);
    await engine.command('source.start', {sourceId: src.id, delayUs: 0});
    await sleep(200);
    await engine.command('source.stop', {sourceId: src.id});
    await sleep(50);
    const counters = await engine.command('source.close', {sourceId: src.id});
    const sent = src.sink.of(RecordKind.SourceSent);
    const back = src.sink.of(RecordKind.SourceReceived);
    expect(back.length).toBe(sent.length);
    expect(counters.packetsReceived).toBe(back.length);
    for (const r of back) {
      const s = sent.find((x) => x.seq === r.seq)!;
      expect(r.tSentUs).toBe(s.tSentUs);
      expect(r.tRecvUs).toBeGreaterThan(r.tSentUs);
    }
  });

  it('counts packets from a new address as foreign until the 4th from it, then learns it; malformed from the peer', async () => {
    const rx = await usePeer();
    const other = await usePeer();
    const src = await open(rx.port);
    const pkt = Buffer.from('80080001000000a0deadbeef00010203', 'hex');
    const send = (s: Socket, b: Buffer) => new Promise<void>((r) => s.send(b, src.port, '127.0.0.1', () => r()));
    for (let i = 0; i < 3; i++) await send(other.socket, pkt);
    await sleep(50);
    let c = await engine.command('source.stats', {sourceId: src.id});
    expect(c).toMatchObject({foreign: 3, packetsReceived: 0});
    for (let i = 0; i < 2; i++) await send(other.socket, pkt); // the 4th in a row is learned
    await send(other.socket, Buffer.from([0x80, 0x00])); // from the new peer, too short: malformed
    await send(rx.socket, pkt); // the configured peer is now foreign
    await sleep(50);
    c = await engine.command('source.close', {sourceId: src.id});
    expect(c).toMatchObject({foreign: 4, packetsReceived: 2, malformed: 1});
    expect(src.sink.of(RecordKind.SourceForeign)).toHaveLength(4);
    expect(src.sink.of(RecordKind.SourceReceived)).toHaveLength(2);
    expect(src.sink.of(RecordKind.SourceMalformed).map((r) => r.aux)).toEqual([1]);
    // a received packet that matches no frame sent has no send time
    expect(src.sink.of(RecordKind.SourceReceived).every((r) => r.tSentUs < 0)).toBe(true);
  });

  it('resumes after a stop with contiguous seq, a marker and a timestamp jump of the gap', async () => {
    const rx = await usePeer();
    const src = await open(rx.port);
    await engine.command('source.start', {sourceId: src.id, delayUs: 0});
    await sleep(150);
    await engine.command('source.stop', {sourceId: src.id});
    await sleep(300);
    const before = rx.got.length;
    await engine.command('source.start', {sourceId: src.id, delayUs: 0});
    await sleep(150);
    await engine.command('source.close', {sourceId: src.id});
    const hs = rx.got.map(header);
    expect(hs.length).toBeGreaterThan(before);
    const last = hs[before - 1];
    const resumed = hs[before];
    expect(resumed.marker).toBe(1);
    expect((resumed.seq - last.seq) & 0xffff).toBe(1);
    expect(resumed.ts - last.ts).toBeGreaterThan(160 * 10); // ≈ the 300+ ms gap in frames
    expect(hs.filter((h) => h.marker === 1)).toHaveLength(1);
    const sent = src.sink.of(RecordKind.SourceSent);
    expect(sent.filter((r) => (r.flags & RecordFlag.Marker) !== 0).map((r) => r.seq)).toEqual([resumed.seq]);
  });

  it('skips ahead with a timestamp jump and a marker when far behind its deadlines', async () => {
    const rx = await usePeer();
    const src = await open(rx.port);
    // a start 300 ms in the past: 15 frames behind, more than MAX_CATCH_UP_FRAMES (8)
    const startAtUs = Math.round(nowUs() - 300_000 + engine.offsetUs);
    await engine.command('source.start', {sourceId: src.id, startAtUs});
    await sleep(100);
    const c = await engine.command('source.close', {sourceId: src.id});
    const hs = rx.got.map(header);
    expect(c.skips).toBe(1);
    expect(hs[0].marker).toBe(1);
    expect(hs[0].ts).toBeGreaterThanOrEqual(160 * 16); // first ts one frame + the skipped frames
    expect(hs.slice(1).every((h) => h.marker === 0)).toBe(true);
    expect(src.sink.of(RecordKind.SourceSent)[0].aux).toBeGreaterThanOrEqual(15);
  });

  it('refuses a taken port with its errno name and a bad setup with EINVAL', async () => {
    const taken = await usePeer();
    await expect(engine.command('source.open', {bindIp: '127.0.0.1', port: taken.port})).rejects.toMatchObject({code: 'EADDRINUSE'});
    const r = await engine.command('source.open', {bindIp: '127.0.0.1', port: 0});
    await expect(engine.command('source.start', {sourceId: r.sourceId as number, delayUs: 0})).rejects.toBeInstanceOf(EngineCommandError);
    await expect(
      engine.command('source.setup', {sourceId: r.sourceId as number, remoteAddress: '127.0.0.1', remotePort: 9, pt: 0, ssrc: 1, samplesPerFrame: 160, payloadBytes: 5, payloadHex: 'abcd'}),
    ).rejects.toMatchObject({code: 'EINVAL'});
    await engine.command('source.close', {sourceId: r.sourceId as number});
    await expect(engine.command('source.stats', {sourceId: r.sourceId as number})).rejects.toMatchObject({code: 'ENOENT'});
  });
});
