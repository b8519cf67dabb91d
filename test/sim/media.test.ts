/**
 * The shared scheduler: many streams on one timer at 50 packets/s each, and what happens when
 * the event loop stalls (catch-up burst with intact packets; beyond 8 frames a skip-ahead with
 * marker and timestamp jump, sequence numbers contiguous).
 */
import {createSocket, type Socket} from 'node:dgram';
import {afterEach, describe, expect, it} from '@jest/globals';
import {bindUdp, FRAME_US, NodeMediaEngine, MediaStream} from '../../src/sim/media.js';

interface Rx {
  socket: Socket;
  port: number;
  got: Buffer[];
}

async function receiver(): Promise<Rx> {
  const socket = createSocket('udp4');
  const rx: Rx = {socket, port: 0, got: []};
  socket.on('message', (m) => rx.got.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  rx.port = socket.address().port;
  return rx;
}

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* stall the event loop */
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sim media scheduler', () => {
  let engine: NodeMediaEngine | undefined;
  const sockets: Socket[] = [];

  afterEach(async () => {
    await engine?.close();
    engine = undefined;
    for (const s of sockets.splice(0)) s.close();
  });

  async function streams(n: number, rxPort: number): Promise<MediaStream[]> {
    engine = new NodeMediaEngine();
    const out: MediaStream[] = [];
    for (let i = 0; i < n; i++) {
      const socket = await bindUdp('127.0.0.1', 0);
      const port = socket.address().port;
      const s = new MediaStream({
        id: `s${i}`, name: `UnicastRTP/x-${i}`, format: 'ulaw', localAddress: '127.0.0.1', port,
        remoteAddress: '127.0.0.1', remotePort: rxPort, externalHost: `127.0.0.1:${rxPort}`, ssrc: 1000 + i, firstSeq: 65500,
      });
      engine.add(s, socket);
      out.push(s);
    }
    return out;
  }

  it('drives 200 streams from one timer at ~50 packets/s each', async () => {
    const rx = await receiver();
    sockets.push(rx.socket);
    const ss = await streams(200, rx.port);
    for (const s of ss) engine!.setWanted(s, true);
    await sleep(1000);
    for (const s of ss) engine!.setWanted(s, false);
    await sleep(50);
    // 1 s minus the 10 ms start delay: ~50 each (bounds generous for a busy machine)
    for (const s of ss) {
      expect(s.packetsSent).toBeGreaterThanOrEqual(35);
      expect(s.packetsSent).toBeLessThanOrEqual(51);
    }
    expect(engine!.totals()).toMatchObject({streamsSending: 0, packetsSent: ss.reduce((a, s) => a + s.packetsSent, 0)});
    // every stream arrived (one receive socket in this same busy process may drop a few)
    const perSsrc = new Set(rx.got.map((b) => b.readUInt32BE(8)));
    expect(perSsrc.size).toBe(200);
    expect(rx.got.length).toBeGreaterThan(0.8 * engine!.totals().packetsSent);
  });

  it('catches up after a stall with intact, contiguous packets; skips ahead with a marker after a long one', async () => {
    const rx = await receiver();
    sockets.push(rx.socket);
    const [s] = await streams(1, rx.port);
    engine!.setWanted(s, true);
    await sleep(100);
    busy(100); // 5 frames late: burst
    await sleep(100);
    busy(400); // 20 frames late: skip ahead
    await sleep(100);
    engine!.setWanted(s, false);
    await sleep(30);
    const hs = rx.got.map((b) => ({seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), marker: b[1] >> 7, size: b.length}));
    for (let i = 1; i < hs.length; i++) expect((hs[i].seq - hs[i - 1].seq) & 0xffff).toBe(1); // no duplicate, no gap, across the wrap
    expect(new Set(hs.map((h) => h.size))).toEqual(new Set([172]));
    const jumps = hs.filter((h, i) => i > 0 && h.ts - hs[i - 1].ts !== 160);
    expect(jumps).toHaveLength(1);
    expect(jumps[0].marker).toBe(1);
    expect(jumps[0].ts - hs[hs.indexOf(jumps[0]) - 1].ts).toBeGreaterThan(160 * 8);
    expect(hs.filter((h) => h.marker === 1)).toHaveLength(1);
    expect(engine!.totals().skips).toBe(1);
    expect(s.stats(true).sendJitterUs.max).toBeGreaterThan(3 * FRAME_US);
  });
});
