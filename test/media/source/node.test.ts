/**
 * The Node engine's shared scheduler on a driven clock (src/runtime/clock.ts): many streams on
 * one timer, each frame sent at exactly its absolute deadline (start + 10 ms + n × 20 ms); after
 * a stall, a catch-up burst with intact packets; beyond 8 frames a skip-ahead with marker and
 * timestamp jump, sequence numbers contiguous; round trips measured on the same clock.
 * Sockets are stand-ins that record each send with the clock's time: no network, no wall clock.
 */
import {EventEmitter} from 'node:events';
import type {Socket} from 'node:dgram';
import {afterEach, describe, expect, it} from '@jest/globals';
import {FIRST_PACKET_DELAY_US, FRAME_US, NodeMediaEngine, MediaStream} from '../../../src/media/source/node.js';
import {DrivenClock} from '../../../src/runtime/clock.js';
import {newRtpPacket, parseRtp, RtpParse} from '../../../src/rtp/packet.js';

interface Sent {
  tUs: number;
  seq: number;
  ts: number;
  ssrc: number;
  marker: boolean;
  pt: number;
  size: number;
  port: number;
}

/** Stands in for a dgram socket: records what is sent (header parsed at send time) and when. */
class FakeSocket extends EventEmitter {
  readonly sent: Sent[] = [];
  closed = false;
  constructor(private readonly clock: DrivenClock) {
    super();
  }

  send(buf: Buffer, port: number): void {
    const p = newRtpPacket();
    expect(parseRtp(buf, p)).toBe(RtpParse.Ok);
    this.sent.push({tUs: this.clock.nowUs(), seq: p.sequence, ts: p.timestamp, ssrc: p.ssrc, marker: p.marker, pt: p.payloadType, size: buf.length, port});
  }

  close(cb?: () => void): void {
    this.closed = true;
    cb?.();
  }
}

describe('sim media scheduler (driven clock)', () => {
  let engine: NodeMediaEngine | undefined;
  let clock: DrivenClock;

  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  function streams(n: number): Array<{s: MediaStream; socket: FakeSocket}> {
    clock = new DrivenClock(5_000_000);
    engine = new NodeMediaEngine(clock);
    const out: Array<{s: MediaStream; socket: FakeSocket}> = [];
    for (let i = 0; i < n; i++) {
      const s = new MediaStream({
        id: `s${i}`, name: `UnicastRTP/x-${i}`, format: 'ulaw', localAddress: '127.0.0.1', port: 20000 + i,
        remoteAddress: '127.0.0.1', remotePort: 4000, externalHost: '127.0.0.1:4000', ssrc: 1000 + i, firstSeq: 65500,
      });
      const socket = new FakeSocket(clock);
      engine.add(s, socket as unknown as Socket);
      out.push({s, socket});
    }
    return out;
  }

  it('drives 200 streams from one timer, every frame at exactly its deadline', () => {
    const ss = streams(200);
    const t0 = clock.nowUs();
    for (const {s} of ss) engine!.setWanted(s, true);
    expect(clock.pendingTimers).toBe(1);
    for (let ms = 0; ms < 1000; ms++) {
      clock.advanceMs(1);
      expect(clock.pendingTimers).toBe(1); // one timer for all streams, never one per stream
    }
    for (const {s} of ss) engine!.setWanted(s, false);
    expect(clock.pendingTimers).toBe(0);
    // deadlines t0 + 10 ms + n × 20 ms up to t0 + 1000 ms: n = 0..49
    const deadlines = Array.from({length: 50}, (_, n) => t0 + FIRST_PACKET_DELAY_US + n * FRAME_US);
    for (const {s, socket} of ss) {
      expect(socket.sent.map((x) => x.tUs)).toEqual(deadlines);
      expect(socket.sent.map((x) => x.seq)).toEqual(deadlines.map((_, n) => (65500 + n) & 0xffff)); // across the wrap
      expect(socket.sent.map((x) => x.ts)).toEqual(deadlines.map((_, n) => 160 * (n + 1))); // first ts one frame
      expect(new Set(socket.sent.map((x) => `${x.ssrc}/${x.pt}/${x.size}/${x.port}/${x.marker}`))).toEqual(new Set([`${s.ssrc}/0/172/4000/false`]));
      expect(s.stats(true).sendJitterUs).toMatchObject({count: 50, max: 0});
    }
    expect(engine!.totals()).toMatchObject({streamsSending: 0, packetsSent: 200 * 50, skips: 0});
    clock.advanceMs(100);
    expect(engine!.totals().packetsSent).toBe(200 * 50);
  });

  it('catches up after a stall with intact, contiguous packets; skips ahead with a marker after a long one', () => {
    const [{s, socket}] = streams(1);
    const t0 = clock.nowUs();
    const first = t0 + FIRST_PACKET_DELAY_US;
    engine!.setWanted(s, true);
    clock.advanceMs(100); // deadlines +10, +30, +50, +70, +90 ms
    expect(socket.sent.map((x) => x.tUs)).toEqual([0, 1, 2, 3, 4].map((n) => first + n * FRAME_US));

    clock.stallMs(100); // the loop is back at t0 + 200 ms: 5 frames overdue (≤ 8): burst
    clock.advanceUs(0);
    const burst = socket.sent.slice(5);
    expect(burst).toHaveLength(5);
    expect(burst.every((x) => x.tUs === t0 + 200_000)).toBe(true);
    // send jitter = send time − deadline: 90, 70, 50, 30, 10 ms
    expect(burst.map((_, i) => t0 + 200_000 - (first + (5 + i) * FRAME_US))).toEqual([90_000, 70_000, 50_000, 30_000, 10_000]);
    clock.advanceMs(100); // back on schedule: +210 … +290 ms
    expect(socket.sent.slice(10).map((x) => x.tUs)).toEqual([10, 11, 12, 13, 14].map((n) => first + n * FRAME_US));

    clock.stallMs(400); // at t0 + 700 ms the +310 ms frame is 390 ms (> 8 frames) overdue: skip ahead
    clock.advanceUs(0);
    expect(socket.sent).toHaveLength(15);
    expect(engine!.totals().skips).toBe(1);
    clock.advanceMs(100); // the skipped schedule: 20 frames on, +710 … +790 ms
    const after = socket.sent.slice(15);
    expect(after.map((x) => x.tUs)).toEqual([35, 36, 37, 38, 39].map((n) => first + n * FRAME_US));
    expect(after.map((x) => x.marker)).toEqual([true, false, false, false, false]);

    const all = socket.sent;
    for (let i = 1; i < all.length; i++) expect((all[i].seq - all[i - 1].seq) & 0xffff).toBe(1); // no duplicate, no gap
    const jumps = all.flatMap((x, i) => (i > 0 && x.ts - all[i - 1].ts !== 160 ? [{i, dts: x.ts - all[i - 1].ts}] : []));
    expect(jumps).toEqual([{i: 15, dts: 21 * 160}]); // the next frame's 160 + the 20 skipped
    expect(new Set(all.map((x) => x.size))).toEqual(new Set([172]));
    expect(s.stats(true).sendJitterUs).toMatchObject({count: 20, max: 90_000});
  });

  it('measures a round trip on the same clock: send of a seq → its echo, a duplicate echo counted once', () => {
    const [{s, socket}] = streams(1);
    engine!.setWanted(s, true);
    clock.advanceMs(11); // first frame at +10 ms
    expect(socket.sent).toHaveLength(1);
    const echoed = Buffer.alloc(172);
    echoed.writeUInt8(0x80, 0);
    echoed.writeUInt16BE(socket.sent[0].seq, 2);
    echoed.writeUInt32BE(socket.sent[0].ts, 4);
    echoed.writeUInt32BE(s.ssrc, 8);
    clock.advanceUs(2_250); // the echo comes back 3.25 ms after the send
    socket.emit('message', echoed, {address: '127.0.0.1', port: 4000});
    socket.emit('message', echoed, {address: '127.0.0.1', port: 4000});
    socket.emit('message', Buffer.from([0x80, 0]), {address: '127.0.0.1', port: 4000}); // not RTP
    const st = s.stats(true);
    expect(st).toMatchObject({packetsReceived: 2, malformedPackets: 1, foreignPackets: 0});
    expect(st.rttUs).toMatchObject({count: 1, max: 3_250});
  });
});
