#!/usr/bin/env node
// Measures the native engine's relay with and without recvmmsg/sendmmsg (RTPSLA_ENGINE_MMSG=0):
// N calls at 50 packets/s each through N relays of one engine, reflected by the echo of a
// second engine. Prints the relay engine's CPU µs per forwarded packet, syscalls per datagram
// and its hold (send − kernel receive) percentiles. Needs `npm run build` and the built engine.
// Usage: node scripts/measure-mmsg.mjs [calls=150] [seconds=10]
import {createSocket} from 'node:dgram';
import {engineBinaryPath} from '../dist/engine/engine-select.js';
import {NativeEngine} from '../dist/engine/native-engine.js';

const calls = Number(process.argv[2] ?? 150);
const seconds = Number(process.argv[3] ?? 10);
const binaryPath = engineBinaryPath();

function bound() {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

function pct(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function run(mmsg) {
  const echoEngine = await NativeEngine.start({binaryPath});
  const engine = await NativeEngine.start({binaryPath, env: {RTPSLA_ENGINE_MMSG: mmsg ? '1' : '0'}});
  const e = await echoEngine.command('echo.open', {host: '127.0.0.1', port: 0, idleExpiryMs: 60000});
  const holds = [];
  const sink = {onRecord: (kind, flags, pt, seq, ts, ssrc, size, tRecvUs, tSentUs) => {
    if ((kind === 0 || kind === 1) && tSentUs >= 0) holds.push(tSentUs - tRecvUs);
  }};
  const legs = [];
  for (let i = 0; i < calls; i++) {
    const sock = await bound();
    const r = await engine.command('relay.open', {bindIp: '127.0.0.1', port: 0, echoAddress: '127.0.0.1', echoPort: e.port});
    engine.registerRelay(r.relayId, sink);
    await engine.command('relay.setAsterisk', {relayId: r.relayId, address: '127.0.0.1', port: sock.address().port});
    let back = 0;
    sock.on('message', () => back++);
    legs.push({sock, port: r.port, back: () => back});
  }
  const pkt = Buffer.alloc(172, 0xff);
  pkt[0] = 0x80;
  let seq = 0;
  const tick = () => {
    seq++;
    pkt.writeUInt16BE(seq & 0xffff, 2);
    pkt.writeUInt32BE((seq * 160) >>> 0, 4);
    for (let i = 0; i < legs.length; i++) {
      pkt.writeUInt32BE(i + 1, 8);
      legs[i].sock.send(pkt, legs[i].port, '127.0.0.1');
    }
  };
  // warm-up 1 s, then measure
  let timer = setInterval(tick, 20);
  await new Promise((r) => setTimeout(r, 1000));
  holds.length = 0;
  const before = await engine.stats();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await engine.stats();
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 200));
  const forwarded = after.txDatagrams - before.txDatagrams;
  const cpuUs = after.cpuUserUs + after.cpuSysUs - before.cpuUserUs - before.cpuSysUs;
  const rx = after.rxDatagrams - before.rxDatagrams;
  const sorted = Float64Array.from(holds).sort();
  const out = {
    mode: mmsg ? 'recvmmsg/sendmmsg' : 'recvmsg/sendmsg',
    calls,
    seconds,
    forwarded,
    cpuUsPerForwarded: +(cpuUs / forwarded).toFixed(2),
    cpuPercentOfCore: +((cpuUs / (seconds * 1e6)) * 100).toFixed(1),
    rxSyscallsPerDatagram: +((after.rxCalls - before.rxCalls) / rx).toFixed(3),
    txSyscallsPerDatagram: +((after.txCalls - before.txCalls) / forwarded).toFixed(3),
    datagramsPerRxCall: +(rx / (after.rxCalls - before.rxCalls)).toFixed(3),
    holdUs: {p50: +pct(sorted, 50).toFixed(1), p99: +pct(sorted, 99).toFixed(1), p999: +pct(sorted, 99.9).toFixed(1), max: +(sorted.at(-1) ?? 0).toFixed(1)},
    recordsDropped: after.recordsDropped,
  };
  for (const l of legs) l.sock.close();
  await engine.close();
  await echoEngine.close();
  return out;
}

for (const mmsg of [true, false, true, false]) console.log(JSON.stringify(await run(mmsg)));
