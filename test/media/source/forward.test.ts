/**
 * The Node engine's forwarding between linked streams and the hold of a stream's first frames,
 * on a driven clock (src/runtime/clock.ts) with stand-in sockets: each packet leaves at exactly
 * its receive time + the delay drawn from the quantile table, with the target's SSRC and next
 * sequence number and the rest unchanged, never overtaking an earlier one; a forwardDelay fault
 * adds its extra and is counted; unlinking drops what is queued. A held stream sends nothing
 * before start + hold, then its overdue frames at once on their original deadlines.
 */
import {EventEmitter} from 'node:events';
import type {Socket} from 'node:dgram';
import {afterEach, describe, expect, it} from '@jest/globals';
import {DelayDistribution} from '../../../src/media/source/delay-dist.js';
import {FIRST_PACKET_DELAY_US, FRAME_US, MediaStream, NodeMediaEngine} from '../../../src/media/source/node.js';
import {DrivenClock} from '../../../src/runtime/clock.js';

interface Sent {
  tUs: number;
  seq: number;
  ts: number;
  ssrc: number;
  marker: number;
  pt: number;
  payload: string;
}

/** Stands in for a dgram socket: records each send (either send signature) with the clock's time. */
class FakeSocket extends EventEmitter {
  readonly sent: Sent[] = [];
  constructor(private readonly clock: DrivenClock) {
    super();
  }

  send(buf: Buffer, a: number, b?: unknown, c?: unknown): void {
    const b2 = typeof c === 'number' ? buf.subarray(a, a + (b as number)) : buf;
    this.sent.push({
      tUs: this.clock.nowUs(), seq: b2.readUInt16BE(2), ts: b2.readUInt32BE(4), ssrc: b2.readUInt32BE(8), marker: b2[1] >>> 7, pt: b2[1] & 0x7f,
      payload: b2.subarray(12).toString('hex'),
    });
  }

  close(cb?: () => void): void {
    cb?.();
  }
}

function rtp(seq: number, ts: number, ssrc: number, marker = false): Buffer {
  const b = Buffer.alloc(12 + 4);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | 8;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ts, 4);
  b.writeUInt32BE(ssrc, 8);
  b.writeUInt32BE(0xdead0000 + seq, 12);
  return b;
}

describe('forwarding delay table', () => {
  it('interpolates linearly between evenly spaced quantiles', () => {
    const d = DelayDistribution.parse('100,300,1300');
    expect(d.at(0)).toBe(100);
    expect(d.at(0.25)).toBe(200);
    expect(d.at(0.5)).toBe(300);
    expect(d.at(0.75)).toBe(800);
    expect(d.at(1)).toBe(1300);
  });

  it('refuses what the engine refuses', () => {
    expect(() => DelayDistribution.parse('300,100')).toThrow();
    expect(() => DelayDistribution.parse('')).toThrow();
    expect(() => DelayDistribution.parse(Array.from({length: 102}, () => '1').join(','))).toThrow();
  });
});

describe('Node engine forwarding and first-frames hold (driven clock)', () => {
  let engine: NodeMediaEngine | undefined;
  let clock: DrivenClock;
  let draws: number[];

  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  function setup(): {a: MediaStream; b: MediaStream; sa: FakeSocket; sb: FakeSocket} {
    clock = new DrivenClock(5_000_000);
    draws = [];
    engine = new NodeMediaEngine(clock, () => draws.shift() ?? 0.5);
    const mk = (id: string, port: number, remotePort: number, ssrc: number, firstSeq: number): [MediaStream, FakeSocket] => {
      const s = new MediaStream({
        id, name: `UnicastRTP/${id}`, format: 'alaw', localAddress: '127.0.0.1', port, remoteAddress: '127.0.0.1', remotePort,
        externalHost: `127.0.0.1:${remotePort}`, ssrc, firstSeq,
      });
      const socket = new FakeSocket(clock);
      engine!.add(s, socket as unknown as Socket);
      return [s, socket];
    };
    const [a, sa] = mk('caller', 20000, 52000, 111, 65535);
    const [b, sb] = mk('relay', 20002, 4500, 222, 7);
    engine!.link(a, b, 'toRelay', '1000,3000');
    engine!.link(b, a, 'toCaller', '1000,3000');
    return {a, b, sa, sb};
  }

  it('sends each packet at receive time + its drawn delay, target SSRC and sequence, in arrival order', () => {
    const {sa, sb} = setup();
    const t0 = clock.nowUs();
    draws.push(0.5); // 2 ms
    sa.emit('message', rtp(10, 1600, 999, true), {address: '127.0.0.1', port: 52000});
    clock.advanceUs(500);
    draws.push(0); // 1 ms, but not before the first one
    sa.emit('message', rtp(11, 1760, 999), {address: '127.0.0.1', port: 52000});
    clock.advanceUs(1_400);
    expect(sb.sent).toEqual([]);
    clock.advanceUs(100);
    expect(sb.sent).toEqual([
      {tUs: t0 + 2_000, seq: 7, ts: 1600, ssrc: 222, marker: 1, pt: 8, payload: 'dead000a'},
      {tUs: t0 + 2_000, seq: 8, ts: 1760, ssrc: 222, marker: 0, pt: 8, payload: 'dead000b'},
    ]);
    const stats = engine!.totals().forwarded;
    expect(stats.toRelay.packets).toBe(2);
    expect(stats.toRelay.delayUs.count).toBe(2);
    expect(stats.toCaller.packets).toBe(0);
    expect(sa.sent).toEqual([]); // nothing of its own
  });

  it('forwards the other way with the caller stream SSRC and sequence (wrapping at 65535)', () => {
    const {sa, sb} = setup();
    const t0 = clock.nowUs();
    draws.push(1, 1); // 3 ms each
    sb.emit('message', rtp(500, 0, 4242), {address: '127.0.0.1', port: 4500});
    sb.emit('message', rtp(501, 160, 4242), {address: '127.0.0.1', port: 4500});
    clock.advanceMs(5);
    expect(sa.sent.map(({tUs, seq, ssrc, ts}) => ({tUs, seq, ssrc, ts}))).toEqual([
      {tUs: t0 + 3_000, seq: 65535, ssrc: 111, ts: 0},
      {tUs: t0 + 3_000, seq: 0, ssrc: 111, ts: 160},
    ]);
  });

  it('adds a fault extra delay while it lasts and counts the packets it delayed', () => {
    const {a, sa, sb} = setup();
    engine!.delayForward(a, 10_000, 5_000);
    const t0 = clock.nowUs();
    draws.push(0); // 1 ms + 10 ms
    sa.emit('message', rtp(1, 160, 9), {address: '127.0.0.1', port: 52000});
    clock.advanceMs(20);
    expect(sb.sent.map((p) => p.tUs)).toEqual([t0 + 11_000]);
    draws.push(0); // the fault is over: 1 ms
    sa.emit('message', rtp(2, 320, 9), {address: '127.0.0.1', port: 52000});
    clock.advanceMs(2);
    expect(sb.sent.map((p) => p.tUs)).toEqual([t0 + 11_000, t0 + 21_000]);
    expect(a.delayedByFault).toBe(1);
    expect(engine!.totals().forwarded.toRelay.delayedByFault).toBe(1);
  });

  it('drops what is queued and forwards nothing more once unlinked', () => {
    const {a, sa, sb} = setup();
    sa.emit('message', rtp(1, 160, 9), {address: '127.0.0.1', port: 52000});
    engine!.unlink(a);
    sa.emit('message', rtp(2, 320, 9), {address: '127.0.0.1', port: 52000});
    clock.advanceMs(10);
    expect(sb.sent).toEqual([]);
    expect(a.packetsReceived).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('holds the first frames of a lateFirstPackets stream, then sends them at once on their deadlines', () => {
    clock = new DrivenClock(5_000_000);
    engine = new NodeMediaEngine(clock);
    engine.setLateFirstPackets({share: 1, maxUs: 100_000, minUs: 0}, () => 0); // hold = (1 − 0) × 100 ms
    const s = new MediaStream({
      id: 'tone', name: 'UnicastRTP/tone', format: 'ulaw', localAddress: '127.0.0.1', port: 20000, remoteAddress: '127.0.0.1', remotePort: 4000,
      externalHost: '127.0.0.1:4000', ssrc: 5, firstSeq: 100,
    });
    const socket = new FakeSocket(clock);
    engine.add(s, socket as unknown as Socket);
    const t0 = clock.nowUs();
    engine.setWanted(s, true);
    const first = t0 + FIRST_PACKET_DELAY_US;
    clock.advanceUs(FIRST_PACKET_DELAY_US + 100_000 - 1);
    expect(socket.sent).toEqual([]);
    clock.advanceUs(1); // the hold ends: frames due at +10 … +110 ms go at once
    expect(socket.sent.map((p) => [p.tUs, p.seq, p.ts, p.marker])).toEqual(
      Array.from({length: 6}, (_, i) => [first + 100_000, 100 + i, 160 * (i + 1), 0]),
    );
    clock.advanceUs(FRAME_US); // then the original schedule
    expect(socket.sent.at(-1)).toMatchObject({tUs: first + 120_000, seq: 106, ts: 160 * 7});
    expect(engine.lateFirstCounts).toEqual({streamsHeld: 1, maxHoldUs: 100_000});
    expect(s.stats(true).holdFirstUs).toBe(100_000);
  });

  it('holds nobody with a share of 0, nor a stream on a later start', () => {
    clock = new DrivenClock(5_000_000);
    engine = new NodeMediaEngine(clock);
    engine.setLateFirstPackets({share: 0, maxUs: 100_000, minUs: 0}, () => 0);
    const s = new MediaStream({
      id: 'tone', name: 'UnicastRTP/tone', format: 'ulaw', localAddress: '127.0.0.1', port: 20000, remoteAddress: '127.0.0.1', remotePort: 4000,
      externalHost: '127.0.0.1:4000', ssrc: 5, firstSeq: 100,
    });
    const socket = new FakeSocket(clock);
    engine.add(s, socket as unknown as Socket);
    engine.setWanted(s, true);
    clock.advanceUs(FIRST_PACKET_DELAY_US);
    expect(socket.sent).toHaveLength(1);
    engine.setWanted(s, false);
    engine.setLateFirstPackets({share: 1, maxUs: 100_000, minUs: 0}, () => 0);
    engine.setWanted(s, true);
    clock.advanceUs(FIRST_PACKET_DELAY_US);
    expect(socket.sent).toHaveLength(2);
    expect(engine.lateFirstCounts.streamsHeld).toBe(0);
  });
});
