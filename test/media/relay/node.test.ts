import {createSocket, type Socket} from 'node:dgram';
import type {NativeEngine} from '../../../src/engine/native-engine.js';
import type {CallRelayOptions} from '../../../src/media/relay/node.js';
import {relayOpener} from '../../../src/media/relay/index.js';
import type {MeasuringRelay} from '../../../src/media/relay/types.js';
import {startTestEngine} from '../../helpers/engine.js';
import {freeUdpPort, sleep} from '../../helpers/cli.js';
import {rtpPacket} from '../../helpers/rtp.js';

function bound(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

describe.each(['node', 'native'] as const)('%s engine: relay over real UDP sockets', (engineKind) => {
  let engine: NativeEngine | null = null;
  let open: (opts: CallRelayOptions) => Promise<MeasuringRelay>;
  let asterisk: Socket;
  let echo: Socket;
  let stranger: Socket;
  let relay: MeasuringRelay;

  beforeAll(async () => {
    engine = engineKind === 'native' ? await startTestEngine() : null;
    const e = engine;
    open = relayOpener(e ? {current: () => e, downReason: () => 'engine closed'} : null);
  });

  afterAll(async () => {
    await engine?.close();
  });
  const atAsterisk: Buffer[] = [];
  const atEcho: Buffer[] = [];

  beforeEach(async () => {
    atAsterisk.length = 0;
    atEcho.length = 0;
    asterisk = await bound();
    echo = await bound();
    stranger = await bound();
    // the echo reflects whatever reaches it
    echo.on('message', (m, r) => {
      atEcho.push(m);
      echo.send(m, r.port, r.address);
    });
    asterisk.on('message', (m) => atAsterisk.push(m));
    relay = await open({bindIp: '127.0.0.1', port: await freeUdpPort(),
      echo: {address: '127.0.0.1', port: echo.address().port}, clockRateHz: 8000, lateThresholdMs: 20});
    relay.setAsterisk({address: '127.0.0.1', port: asterisk.address().port});
  });

  afterEach(async () => {
    await relay.close();
    for (const s of [asterisk, echo, stranger]) s.close();
  });

  async function sendFrom(s: Socket, buf: Buffer) {
    await new Promise<void>((r) => s.send(buf, relay.port, '127.0.0.1', () => r()));
  }

  test('forwards Asterisk → echo → Asterisk byte for byte and measures both ways', async () => {
    const sent: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      const p = rtpPacket({seq: 100 + i, ts: 160 * (i + 1), ssrc: 77, fill: i});
      sent.push(p);
      await sendFrom(asterisk, p);
      await sleep(2);
    }
    await sleep(100);
    expect(atEcho.map((b) => b.toString('hex'))).toEqual(sent.map((b) => b.toString('hex')));
    expect(atAsterisk.map((b) => b.toString('hex'))).toEqual(sent.map((b) => b.toString('hex')));
    const s = await relay.close();
    expect(s.packetsUp).toBe(20);
    expect(s.packetsBack).toBe(20);
    expect(s.lost).toBe(0);
    expect(s.rttMs?.max).toBeGreaterThan(0);
    expect(s.foreign).toBe(0);
  });

  test('foreign packets are counted and not forwarded; malformed are dropped; figures unaffected', async () => {
    for (let i = 0; i < 5; i++) await sendFrom(asterisk, rtpPacket({seq: i, ts: 160 * (i + 1), ssrc: 5}));
    for (let i = 0; i < 7; i++) await sendFrom(stranger, rtpPacket({seq: 500 + i, ts: 99, ssrc: 5}));
    await sendFrom(asterisk, Buffer.from('not rtp at all'));
    await sendFrom(asterisk, Buffer.alloc(4));
    await sleep(100);
    const s = await relay.close();
    expect(s.foreign).toBe(7);
    expect(s.malformed).toBe(2);
    expect(s.packetsUp).toBe(5);
    expect(s.packetsBack).toBe(5);
    expect(s.lost).toBe(0);
    expect(atEcho).toHaveLength(5);
    expect(atAsterisk).toHaveLength(5);
  });

  test('media from Asterisk before its address is known is foreign (the relay forwards only known peers)', async () => {
    const r2 = await open({bindIp: '127.0.0.1', port: await freeUdpPort(),
      echo: {address: '127.0.0.1', port: echo.address().port}, clockRateHz: 8000, lateThresholdMs: 20});
    await new Promise<void>((r) => asterisk.send(rtpPacket({seq: 1, ts: 160, ssrc: 1}), r2.port, '127.0.0.1', () => r()));
    await sleep(50);
    const s = await r2.close();
    expect(s.foreign).toBe(1);
    expect(atEcho).toHaveLength(0);
  });

  test('close drains echoed packets that were still on their way', async () => {
    // echo that holds packets 80 ms before returning them
    echo.removeAllListeners('message');
    echo.on('message', (m, r) => setTimeout(() => echo.send(m, r.port, r.address), 80));
    for (let i = 0; i < 3; i++) await sendFrom(asterisk, rtpPacket({seq: i, ts: 160 * (i + 1), ssrc: 9}));
    await sleep(20); // the relay has forwarded them; the echo still holds them
    const s = await relay.close(250);
    expect(s.packetsBack).toBe(3);
    expect(s.lost).toBe(0);
    expect(atAsterisk).toHaveLength(0); // nothing forwarded to a call that is ending
  });
});
