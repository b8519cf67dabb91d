/**
 * The RTP-caller bridge over real sockets on 127.0.0.1: an externalMedia channel created as the
 * caller (`data` → StasisStart args) and a relay-side one, bridged, forward each other's RTP the
 * way Asterisk's simple_bridge was recorded doing it (rtp-caller-mode.json): a new SSRC and a new
 * sequence base (+1 per packet) per outgoing stream, timestamp / payload type / marker / payload
 * unchanged; neither sends anything of its own; the forwardDelay fault fires and is counted;
 * hanging up ends the forwarding. Run with both media engines.
 */
import {createSocket, type Socket} from 'node:dgram';
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {ari, EventRecorder, PASS, sleep, USER} from './helpers.js';

interface Pkt {
  seq: number;
  ts: number;
  ssrc: number;
  pt: number;
  marker: number;
  payload: string;
}

class Party {
  readonly got: Pkt[] = [];
  socket!: Socket;
  port = 0;

  async open(): Promise<void> {
    this.socket = createSocket('udp4');
    this.socket.on('message', (b) => {
      this.got.push({seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), pt: b[1] & 0x7f, marker: b[1] >>> 7, payload: b.subarray(12).toString('hex')});
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
    this.port = this.socket.address().port;
  }

  /** `n` RTP packets to `port`, 5 ms apart: seq/ts from `seq0`, SSRC `ssrc`, marker on the 3rd. */
  async sendFrames(port: number, n: number, seq0: number, ssrc: number): Promise<Pkt[]> {
    const sent: Pkt[] = [];
    for (let i = 0; i < n; i++) {
      const b = Buffer.alloc(12 + 160);
      b[0] = 0x80;
      b[1] = (i === 2 ? 0x80 : 0) | 8;
      b.writeUInt16BE((seq0 + i) & 0xffff, 2);
      b.writeUInt32BE((seq0 + i) * 160, 4);
      b.writeUInt32BE(ssrc, 8);
      b.fill((seq0 + i) & 0xff, 12);
      b.writeUInt32BE(0xc0ffee00 + i, 12);
      await new Promise<void>((r) => this.socket.send(b, port, '127.0.0.1', () => r()));
      sent.push({seq: (seq0 + i) & 0xffff, ts: (seq0 + i) * 160, ssrc, pt: 8, marker: i === 2 ? 1 : 0, payload: b.subarray(12).toString('hex')});
      await sleep(5);
    }
    return sent;
  }

  close(): void {
    this.socket.close();
  }
}

async function waitUntil(pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

interface StatsBody {
  totals: {media: {forwarded: Record<'toRelay' | 'toCaller', {packets: number; delayedByFault: number; delayUs: {count: number}}>}};
  channels: Array<{id: string; ssrc: number; firstSeq: number; forwardDirection: string | null; forwarded: number; packetsSent: number}>;
  faults: {forwardDelay: {armed: boolean; linksDelayed: number; packetsDelayed: number}};
}

async function control(sim: SimHandle, method: string, path: string, body?: unknown): Promise<{status: number; body: unknown}> {
  const res = await fetch(`${sim.url}/_sim/${path}`, {
    method,
    headers: {authorization: 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64'), 'content-type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {status: res.status, body: await res.json()};
}

describe.each(['native', 'node'] as const)('sim RTP-caller bridge forwarding (%s engine)', (engine) => {
  let sim: SimHandle;
  let rec: EventRecorder;
  const caller = new Party();
  const relay = new Party();
  let callerPort = 0; // the caller channel's UNICASTRTP_LOCAL_PORT
  let relayPort = 0;
  const callerId = `run1-${engine}-0`;
  const relayId = `relay-${engine}-0`;

  beforeAll(async () => {
    sim = await startSim({port: 0, seed: 21, answerDelayMs: 0, engine});
    rec = await EventRecorder.open(sim.url);
    await caller.open();
    await relay.open();
    const a = await ari(sim.url, 'POST', '/channels/externalMedia', {
      app: 'rtpsla', external_host: `127.0.0.1:${caller.port}`, format: 'alaw', channelId: callerId, data: 'rtpsla-load,run1,0,tok',
    });
    await rec.waitFor((e) => e.type === 'StasisStart' && (e.data.channel as {id: string}).id === callerId);
    const b = await ari(sim.url, 'POST', '/channels/externalMedia', {app: 'rtpsla', external_host: `127.0.0.1:${relay.port}`, format: 'alaw', channelId: relayId});
    await rec.waitFor((e) => e.type === 'StasisStart' && (e.data.channel as {id: string}).id === relayId);
    callerPort = Number((a.body as {channelvars: Record<string, string>}).channelvars.UNICASTRTP_LOCAL_PORT);
    relayPort = Number((b.body as {channelvars: Record<string, string>}).channelvars.UNICASTRTP_LOCAL_PORT);
    await ari(sim.url, 'POST', '/bridges', {type: 'mixing', bridgeId: `br-${engine}`});
    expect((await ari(sim.url, 'POST', `/bridges/br-${engine}/addChannel`, {channel: `${callerId},${relayId}`})).status).toBe(204);
  });

  afterAll(async () => {
    rec?.close();
    caller.close();
    relay.close();
    await sim?.close();
  });

  const stats = async (): Promise<StatsBody> => (await control(sim, 'GET', 'stats')).body as StatsBody;

  it('gives the caller channel its data as StasisStart args, the relay channel none', () => {
    const start = (id: string) => rec.events.find((e) => e.type === 'StasisStart' && (e.data.channel as {id: string}).id === id)!.data;
    expect(start(callerId).args).toEqual(['rtpsla-load', 'run1', '0', 'tok']);
    expect(start(relayId).args).toEqual([]);
  });

  it('sends nothing of its own while neither party sends (a silent party produces nothing)', async () => {
    await sleep(300);
    expect(caller.got).toEqual([]);
    expect(relay.got).toEqual([]);
  });

  it('forwards caller → relay with the relay channel SSRC and sequence numbers, the rest unchanged', async () => {
    const sent = await caller.sendFrames(callerPort, 12, 65530, 10000);
    await waitUntil(() => relay.got.length >= 12);
    const s = await stats();
    const relayStream = s.channels.find((c) => c.id === relayId)!;
    const got = relay.got.slice(0, 12);
    expect(got.map((p) => p.ssrc)).toEqual(got.map(() => relayStream.ssrc));
    expect(relayStream.ssrc).not.toBe(10000);
    expect(got.map((p) => p.seq)).toEqual(got.map((_, i) => (relayStream.firstSeq + i) & 0xffff));
    expect(got.map(({ts, pt, marker, payload}) => ({ts, pt, marker, payload}))).toEqual(sent.map(({ts, pt, marker, payload}) => ({ts, pt, marker, payload})));
    expect(s.totals.media.forwarded.toRelay.packets).toBe(12);
    expect(s.totals.media.forwarded.toRelay.delayUs.count).toBe(12);
    expect(s.channels.find((c) => c.id === callerId)!.forwardDirection).toBe('toRelay');
    expect(s.channels.find((c) => c.id === callerId)!.packetsSent).toBe(0);
  });

  it('forwards relay → caller with the caller channel SSRC and its own sequence base', async () => {
    const sent = await relay.sendFrames(relayPort, 8, 100, 0x7bd16fa9);
    await waitUntil(() => caller.got.length >= 8);
    const s = await stats();
    const callerStream = s.channels.find((c) => c.id === callerId)!;
    const relayStream = s.channels.find((c) => c.id === relayId)!;
    expect(callerStream.ssrc).not.toBe(relayStream.ssrc);
    expect(caller.got.map((p) => p.ssrc)).toEqual(sent.map(() => callerStream.ssrc));
    expect(caller.got.map((p) => p.seq)).toEqual(sent.map((_, i) => (callerStream.firstSeq + i) & 0xffff));
    expect(caller.got.map(({ts, pt, marker, payload}) => ({ts, pt, marker, payload}))).toEqual(sent.map(({ts, pt, marker, payload}) => ({ts, pt, marker, payload})));
    expect(s.totals.media.forwarded.toCaller.packets).toBe(8);
    expect(relayStream.forwardDirection).toBe('toCaller');
  });

  it('delays the toCaller direction of the named call under forwardDelay, and counts it', async () => {
    const set = await control(sim, 'POST', 'faults', {forwardDelay: {calls: [0], direction: 'toCaller', extraMs: 30, durationMs: 60_000}});
    expect(set.status).toBe(200);
    const before = caller.got.length;
    await relay.sendFrames(relayPort, 6, 200, 0x7bd16fa9);
    await waitUntil(() => caller.got.length >= before + 6);
    const s = await stats();
    expect(s.faults.forwardDelay.armed).toBe(true);
    expect(s.faults.forwardDelay.linksDelayed).toBe(1);
    expect(s.faults.forwardDelay.packetsDelayed).toBe(6);
    expect(s.totals.media.forwarded.toCaller.delayedByFault).toBe(6);
    expect(s.totals.media.forwarded.toRelay.delayedByFault).toBe(0);
    // the other direction is untouched by it
    const relayBefore = relay.got.length;
    await caller.sendFrames(callerPort, 4, 300, 10000);
    await waitUntil(() => relay.got.length >= relayBefore + 4);
    expect((await stats()).faults.forwardDelay.packetsDelayed).toBe(6);
    await control(sim, 'POST', 'faults', {forwardDelay: false});
  });

  it('stops forwarding once the caller hangs up', async () => {
    expect((await ari(sim.url, 'DELETE', `/channels/${callerId}`)).status).toBe(204);
    await rec.waitFor((e) => e.type === 'ChannelDestroyed' && (e.data.channel as {id: string}).id === callerId);
    const before = (await stats()).totals.media.forwarded.toCaller.packets;
    await relay.sendFrames(relayPort, 5, 400, 0x7bd16fa9);
    await sleep(100);
    expect((await stats()).totals.media.forwarded.toCaller.packets).toBe(before);
  });
});
