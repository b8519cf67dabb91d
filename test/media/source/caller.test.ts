/**
 * The caller role against a stand-in for Asterisk on loopback: a UDP socket that forwards every
 * frame back the way Asterisk's simple_bridge does (its own SSRC and sequence numbers, the RTP
 * timestamp and payload unchanged). Both engines, each as load runs it.
 */
import {createSocket, type Socket} from 'node:dgram';
import {CallerPortCursor, randomStreamStart, type CallerEngine} from '../../../src/media/source/caller.js';
import {NativeCallerEngine} from '../../../src/media/source/caller-native.js';
import {NodeCallerEngine} from '../../../src/media/source/caller-node.js';
import {callerFormat} from '../../../src/media/source/caller.js';
import {startTestEngine} from '../../helpers/engine.js';

/** Asterisk's side of the caller channel: forwards back with its own SSRC/seq, dropping frames `drop` says. */
async function fakeAsterisk(drop: (n: number) => boolean = () => false): Promise<{socket: Socket; port: number; seen: number[]}> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const seen: number[] = [];
  let seq = 40000;
  socket.on('message', (msg, rinfo) => {
    const n = seen.length;
    seen.push(msg.readUInt32BE(4));
    if (drop(n)) return;
    const out = Buffer.from(msg);
    out.writeUInt16BE(seq++ & 0xffff, 2);
    out.writeUInt32BE(0x5eed, 8);
    socket.send(out, rinfo.port, rinfo.address);
  });
  return {socket, port: socket.address().port, seen};
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function oneCall(engine: CallerEngine, drop?: (n: number) => boolean) {
  const asterisk = await fakeAsterisk(drop);
  try {
    const port = await engine.open();
    expect(port.port).toBeGreaterThanOrEqual(52000);
    const start = randomStreamStart();
    await port.setup({remoteAddress: '127.0.0.1', remotePort: asterisk.port, ...start});
    await port.start(1000);
    while (port.meter.sent < 15) await sleep(20);
    await port.stop();
    await sleep(150); // the drain: frames in flight come back
    await port.close();
    return {meter: port.meter, seen: asterisk.seen, start};
  } finally {
    asterisk.socket.close();
  }
}

describe.each([
  ['native', async () => new NativeCallerEngine(await startTestEngine(), callerFormat('ulaw'), '127.0.0.1', {low: 52000, high: 52010}, 20)],
  ['node', () => Promise.resolve(new NodeCallerEngine(callerFormat('ulaw'), '127.0.0.1', {low: 52000, high: 52010}, 20))],
])('caller engine (%s)', (_kind, make) => {
  let engine: CallerEngine;
  beforeAll(async () => {
    engine = await make();
  });
  afterAll(async () => {
    await engine.close();
  });

  test('sends 20 ms frames of the format from its random start and matches what comes back by RTP timestamp', async () => {
    const {meter, seen, start} = await oneCall(engine);
    expect(seen.length).toBe(meter.sent);
    expect(seen[0]).toBe(start.firstTs);
    expect(seen[1]).toBe((start.firstTs + 160) >>> 0);
    const r = meter.finish({countFromUs: null, echoes: true, oneWayLegs: true});
    expect(r.side.received).toBe(meter.sent);
    expect(r.side.lost).toBe(0);
    expect(r.rtt.count).toBe(meter.sent); // every frame found its send time by timestamp
    expect(r.side.callerRttMs).not.toBeNull();
  });

  test('a frame Asterisk never returns is lost by timestamp, not by the returned stream\'s sequence', async () => {
    const {meter} = await oneCall(engine, (n) => n === 5);
    const r = meter.finish({countFromUs: null, echoes: true, oneWayLegs: true});
    expect(r.side.lost).toBe(1);
    expect(r.side.received).toBe(meter.sent - 1);
  });
});

test('the port cursor skips a port that fails to bind and reuses a released one', async () => {
  const cursor = new CallerPortCursor({low: 100, high: 102});
  const a = await cursor.take((p) => (p === 100 ? Promise.reject(new Error('EADDRINUSE')) : Promise.resolve(p)));
  expect(a.port).toBe(101);
  const b = await cursor.take((p) => Promise.resolve(p));
  expect(b.port).toBe(102);
  await expect(cursor.take((p) => (p === 100 ? Promise.reject(new Error('EADDRINUSE')) : Promise.resolve(p)))).rejects.toThrow('no free caller port in 100-102');
  cursor.release(101);
  expect((await cursor.take((p) => (p === 100 ? Promise.reject(new Error('EADDRINUSE')) : Promise.resolve(p)))).port).toBe(101);
});
