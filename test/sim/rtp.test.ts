/**
 * The RTP a bridged (Local tone source, externalMedia) pair sends, against the recorded
 * headers: version, PT, size, timestamp step, constant SSRC, first timestamp one frame, no
 * marker on the first packet, from UNICASTRTP_LOCAL_PORT; every packet sent arrives and is
 * counted once; echoed packets give round-trip samples; media stops when the source leaves. Run
 * with both media engines (the native engine's sources and the Node sockets) on real sockets, so
 * the tests wait for what arrives, never for a wall-clock span. Pacing (a frame every 20 ms, at
 * its deadline) is asserted on a driven clock: test/media/source/node.test.ts.
 */
import {createSocket, type Socket} from 'node:dgram';
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {ari, EventRecorder, readJson, readJsonl, sleep} from './helpers.js';
import {waitUntil} from '../helpers/wait.js';

interface RecordedRtp {
  t_us: number;
  size: number;
  version: number;
  marker: number;
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
}

interface Got {
  tMs: number;
  buf: Buffer;
  port: number;
}

class Receiver {
  readonly got: Got[] = [];
  socket!: Socket;
  port = 0;
  echo = false;

  async open(): Promise<void> {
    this.socket = createSocket('udp4');
    this.socket.on('message', (buf, rinfo) => {
      this.got.push({tMs: performance.now(), buf, port: rinfo.port});
      if (this.echo) this.socket.send(buf, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
    this.port = this.socket.address().port;
  }

  close(): void {
    this.socket.close();
  }
}

async function bridgedCall(sim: SimHandle, rec: EventRecorder, udpPort: number, format: string, exten = 's') {
  const local = (await ari(sim.url, 'POST', '/channels', {endpoint: `Local/${exten}@rtpsla-source/n`, app: 'rtpsla', formats: format === 'slin16' ? 'slin16' : 'ulaw'})).body as {id: string};
  await rec.waitFor((e) => e.type === 'StasisStart' && (e.data.channel as {id: string}).id === local.id);
  const em = (await ari(sim.url, 'POST', '/channels/externalMedia', {app: 'rtpsla', external_host: `127.0.0.1:${udpPort}`, format, direction: 'both'})).body as {
    id: string;
    channelvars: Record<string, string>;
  };
  await rec.waitFor((e) => e.type === 'StasisStart' && (e.data.channel as {id: string}).id === em.id);
  const bridge = (await ari(sim.url, 'POST', '/bridges', {type: 'mixing'})).body as {id: string};
  const add = await ari(sim.url, 'POST', `/bridges/${bridge.id}/addChannel`, {channel: `${local.id},${em.id}`});
  expect(add.status).toBe(204);
  return {local, em, bridge, port: Number(em.channelvars.UNICASTRTP_LOCAL_PORT)};
}

function header(b: Buffer) {
  return {size: b.length, version: b[0] >>> 6, marker: b[1] >>> 7, pt: b[1] & 0x7f, seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8)};
}

describe.each(['native', 'node'] as const)('sim RTP media (%s engine)', (engine) => {
  let sim: SimHandle;
  let rec: EventRecorder;

  beforeAll(async () => {
    sim = await startSim({port: 0, seed: 11, answerDelayMs: 0, engine});
    rec = await EventRecorder.open(sim.url);
  });

  it('says which engine sends, in /_sim/stats', async () => {
    expect(sim.engine).toBe(engine);
    const res = await fetch(`${sim.url}/_sim/stats`, {headers: {authorization: 'Basic ' + Buffer.from('rtpsla:rtpsla').toString('base64')}});
    expect(((await res.json()) as {engine: string}).engine).toBe(engine);
  });

  afterAll(async () => {
    rec?.close();
    await sim?.close();
  });

  for (const [format, file] of [
    ['ulaw', 'rtp-ulaw-sample.jsonl'],
    ['slin16', 'rtp-slin16-sample.jsonl'],
  ] as const) {
    it(`sends ${format} like the recording, one frame a packet, from UNICASTRTP_LOCAL_PORT, each packet counted once`, async () => {
      const recorded = readJsonl<RecordedRtp>(file);
      const rx = new Receiver();
      await rx.open();
      rx.echo = true;
      try {
        const call = await bridgedCall(sim, rec, rx.port, format);
        await waitUntil('30 packets at the receiver', () => rx.got.length >= 30, {timeoutMs: 10_000});
        await ari(sim.url, 'DELETE', `/channels/${call.local.id}`);
        await ari(sim.url, 'DELETE', `/channels/${call.em.id}`);
        await ari(sim.url, 'DELETE', `/bridges/${call.bridge.id}`);
        const channel = () => sim.stats().channels.find((c) => c.id === call.em.id)!;
        // the channel is gone: every packet it sent arrives (loopback), none twice
        await waitUntil('every packet sent to arrive', () => !channel().live && rx.got.length >= channel().packetsSent);

        const hs = rx.got.map((g) => header(g.buf));
        const r0 = recorded[0];
        const stepRec = recorded[1].ts - recorded[0].ts;
        expect(hs[0]).toMatchObject({version: r0.version, pt: r0.pt, size: r0.size, marker: 0, ts: stepRec});
        for (let i = 1; i < hs.length; i++) {
          expect(hs[i]).toMatchObject({version: 2, pt: r0.pt, size: r0.size, marker: 0, ssrc: hs[0].ssrc});
          expect(hs[i].ts - hs[i - 1].ts).toBe(stepRec);
          expect((hs[i].seq - hs[i - 1].seq) & 0xffff).toBe(1);
        }
        expect(new Set(rx.got.map((g) => g.port))).toEqual(new Set([call.port]));

        const payload = rx.got[5].buf.subarray(12);
        if (format === 'slin16') {
          // big-endian 16-bit tone with a Milliwatt-like peak (recorded peak 23275)
          let peak = 0;
          for (let i = 0; i < payload.length; i += 2) peak = Math.max(peak, Math.abs(payload.readInt16BE(i)));
          expect(peak).toBeGreaterThan(20000);
          expect(peak).toBeLessThan(24000);
        } else {
          expect(new Set(payload).size).toBeGreaterThan(10); // a tone, not silence (0xff)
        }

        const stats = channel();
        expect(stats.packetsSent).toBe(rx.got.length);
        expect(new Set(hs.map((h) => h.seq)).size).toBe(hs.length);
        expect(stats.packetsReceived).toBeGreaterThan(0);
        expect(stats.rttUs.count).toBeGreaterThan(0);
        expect(stats.sendJitterUs.count).toBe(stats.packetsSent);
        expect(stats.port).toBe(call.port);
        expect(stats.live).toBe(false);
      } finally {
        rx.close();
      }
    });
  }

  it('sends nothing before the bridge, nothing from a silent source, nothing once the source has left', async () => {
    const rx = new Receiver();
    await rx.open();
    try {
      // silent source (exten silence): a two-party bridge forwards nothing (probe A)
      const silent = await bridgedCall(sim, rec, rx.port, 'ulaw', 'silence');
      await sleep(300);
      expect(rx.got.length).toBe(0);
      await ari(sim.url, 'DELETE', `/channels/${silent.local.id}`);
      await ari(sim.url, 'DELETE', `/channels/${silent.em.id}`);
      await ari(sim.url, 'DELETE', `/bridges/${silent.bridge.id}`);

      const call = await bridgedCall(sim, rec, rx.port, 'ulaw');
      await waitUntil('media from the bridged source', () => rx.got.length > 5);
      await ari(sim.url, 'DELETE', `/channels/${call.local.id}`);
      // externalMedia alone in the bridge: nothing sent. Once the sim's count stops moving and
      // everything it counted has arrived, no packet comes after.
      const em = () => sim.stats().channels.find((c) => c.id === call.em.id)!;
      const sent = em().packetsSent;
      await waitUntil('every packet sent before the source left to arrive', () => rx.got.length >= sent);
      await sleep(300);
      expect(em().packetsSent).toBe(sent);
      expect(rx.got.length).toBe(sent);
      await ari(sim.url, 'DELETE', `/channels/${call.em.id}`);
      await ari(sim.url, 'DELETE', `/bridges/${call.bridge.id}`);
    } finally {
      rx.close();
    }
  });

  it('resumes with a marker, contiguous seq and a timestamp jump after remove/re-add (probe B)', async () => {
    const probe = readJson<{B_externalMedia_alone_then_source_added_removed_readded: {jumps: Array<{dseq: number; ssrcChanged: boolean}>}}>(
      'externalmedia-probes.json',
    ).B_externalMedia_alone_then_source_added_removed_readded;
    const rx = new Receiver();
    await rx.open();
    try {
      const call = await bridgedCall(sim, rec, rx.port, 'ulaw');
      await waitUntil('media from the bridged source', () => rx.got.length >= 5);
      expect((await ari(sim.url, 'POST', `/bridges/${call.bridge.id}/removeChannel`, {channel: call.local.id})).status).toBe(204);
      const em = () => sim.stats().channels.find((c) => c.id === call.em.id)!;
      await sleep(300); // the gap the timestamp jump must reflect
      // read once the engine's counters have caught up (they reach the sim in batches, after the packets)
      const sentBefore = em().packetsSent;
      await waitUntil('every packet sent before the removal to arrive', () => rx.got.length >= sentBefore);
      const before = rx.got.length;
      expect(before).toBe(sentBefore);
      expect((await ari(sim.url, 'POST', `/bridges/${call.bridge.id}/addChannel`, {channel: call.local.id})).status).toBe(204);
      await waitUntil('media again after the re-add', () => rx.got.length > before);
      const hs = rx.got.map((g) => header(g.buf));
      const resumed = hs[before];
      const last = hs[before - 1];
      expect(resumed.marker).toBe(1);
      expect((resumed.seq - last.seq) & 0xffff).toBe(probe.jumps[0].dseq);
      expect(resumed.ssrc).toBe(last.ssrc);
      expect(resumed.ts - last.ts).toBeGreaterThan(160 * 10); // ≈ the 300+ ms gap
      await ari(sim.url, 'DELETE', `/channels/${call.local.id}`);
      await ari(sim.url, 'DELETE', `/channels/${call.em.id}`);
      await ari(sim.url, 'DELETE', `/bridges/${call.bridge.id}`);
    } finally {
      rx.close();
    }
  });

  it('counts packets from a foreign source and learns a new source after 4 (strictrtp)', async () => {
    const rx = new Receiver();
    await rx.open();
    const other = createSocket('udp4');
    await new Promise<void>((r) => other.bind(0, '127.0.0.1', () => r()));
    try {
      const call = await bridgedCall(sim, rec, rx.port, 'ulaw');
      await waitUntil('media from the bridged source', () => rx.got.length > 0);
      const pkt = Buffer.from(rx.got[0].buf);
      const em = () => sim.stats().channels.find((c) => c.id === call.em.id)!;
      for (let i = 0; i < 3; i++) other.send(pkt, call.port, '127.0.0.1');
      let s = await waitUntil('3 foreign packets counted', () => (em().foreignPackets >= 3 ? em() : null));
      expect(s.foreignPackets).toBe(3);
      expect(s.packetsReceived).toBe(0);
      other.send(pkt, call.port, '127.0.0.1');
      other.send(pkt, call.port, '127.0.0.1');
      s = await waitUntil('2 packets counted from the new source', () => (em().packetsReceived >= 2 ? em() : null));
      expect(s.foreignPackets).toBe(3);
      expect(s.packetsReceived).toBe(2);
      await ari(sim.url, 'DELETE', `/channels/${call.local.id}`);
      await ari(sim.url, 'DELETE', `/channels/${call.em.id}`);
      await ari(sim.url, 'DELETE', `/bridges/${call.bridge.id}`);
    } finally {
      other.close();
      rx.close();
    }
  });
});
