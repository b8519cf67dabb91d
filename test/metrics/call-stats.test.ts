import {CallMeter} from '../../src/metrics/call-stats.js';
import {rtpPacket} from '../helpers/rtp.js';

/** Up packet i of one SSRC stream, received at i×20 ms (+offset), echoed back after `rttUs`. */
function stream(meter: CallMeter, n: number, opts: {seq0?: number; ts0?: number; ssrc?: number; rttUs?: (i: number) => number | null; t0Us?: number} = {}) {
  const seq0 = opts.seq0 ?? 1000;
  const ts0 = opts.ts0 ?? 160;
  const ssrc = opts.ssrc ?? 42;
  const t0 = opts.t0Us ?? 1_000_000;
  const backs: Array<{buf: Buffer; t: number}> = [];
  for (let i = 0; i < n; i++) {
    const buf = rtpPacket({seq: (seq0 + i) & 0xffff, ts: (ts0 + i * 160) >>> 0, ssrc});
    const t = t0 + i * 20_000;
    expect(meter.up(buf, buf.length, t, t + 10)).toBe(true);
    const rtt = opts.rttUs ? opts.rttUs(i) : 1000;
    if (rtt !== null) backs.push({buf, t: t + 10 + rtt});
  }
  backs.sort((a, b) => a.t - b.t);
  for (const b of backs) meter.back(b.buf, b.buf.length, b.t);
}

describe('CallMeter', () => {
  test('clean call: every packet back, rtt and lateness exact, no loss', () => {
    const m = new CallMeter(8000);
    stream(m, 100, {rttUs: () => 1500});
    const s = m.snapshot();
    expect(s.packetsUp).toBe(100);
    expect(s.packetsBack).toBe(100);
    expect(s.lost).toBe(0);
    expect(s.late).toBe(0);
    expect(s.rttMs.p50).toBeCloseTo(1.5, 2);
    expect(s.rttMs.max).toBeCloseTo(1.5, 2);
    expect(s.latenessMs.max).toBeCloseTo(1.51, 2);
  });

  test('packets not back are lost; up = back + lost', () => {
    const m = new CallMeter(8000);
    stream(m, 200, {rttUs: (i) => (i % 50 === 7 ? null : 800)});
    const s = m.snapshot();
    expect(s.lost).toBe(4);
    expect(s.packetsUp).toBe(s.packetsBack + s.lost);
    expect(s.uplinkGaps).toBe(0);
  });

  test('late packets and consecutive misses, in back sequence order', () => {
    const m = new CallMeter(8000);
    // packets 10..14 come back 25 ms late; 30 comes back 21 ms late
    stream(m, 50, {rttUs: (i) => ((i >= 10 && i <= 14) ? 25_000 : i === 30 ? 21_000 : 500)});
    const s = m.snapshot();
    expect(s.late).toBe(6);
    expect(s.maxConsecutiveLate).toBe(5);
    expect(s.latenessMs.max).toBeGreaterThan(25);
    expect(s.lost).toBe(0);
  });

  test('remembers when the worst packet came back', () => {
    const m = new CallMeter(8000);
    expect(m.snapshot().worstLateAtUs).toBe(0);
    // packet 7 is the latest (30 ms); 20 is late too, but less (25 ms)
    stream(m, 40, {t0Us: 5_000_000, rttUs: (i) => (i === 7 ? 30_000 : i === 20 ? 25_000 : 800)});
    const s = m.snapshot();
    expect(s.worstLateAtUs).toBe(5_000_000 + 7 * 20_000 + 10 + 30_000);
    expect(s.latenessMs.max).toBeCloseTo(30.01, 2);
  });

  test('sequence wrap in the middle of a call: no loss, no unmatched', () => {
    const m = new CallMeter(8000);
    stream(m, 300, {seq0: 65400, ts0: 0xffff0000});
    const s = m.snapshot();
    expect(s.packetsBack).toBe(300);
    expect(s.lost).toBe(0);
    expect(s.unmatchedBack).toBe(0);
    expect(s.late).toBe(0);
  });

  test('duplicated echoes are counted once and flagged as duplicates', () => {
    const m = new CallMeter(8000);
    const buf = rtpPacket({seq: 5, ts: 160, ssrc: 1});
    m.up(buf, buf.length, 0, 0);
    m.back(buf, buf.length, 1000);
    m.back(buf, buf.length, 2000);
    const s = m.snapshot();
    expect(s.packetsBack).toBe(1);
    expect(s.duplicatesBack).toBe(1);
  });

  test('back packets of an unknown SSRC or never-sent sequence are unmatched', () => {
    const m = new CallMeter(8000);
    const up = rtpPacket({seq: 5, ts: 160, ssrc: 1});
    m.up(up, up.length, 0, 0);
    const other = rtpPacket({seq: 5, ts: 160, ssrc: 2});
    const never = rtpPacket({seq: 9, ts: 800, ssrc: 1});
    m.back(other, other.length, 100);
    m.back(never, never.length, 100);
    expect(m.snapshot().unmatchedBack).toBe(2);
    expect(m.snapshot().packetsBack).toBe(0);
  });

  test('uplink gaps are reported separately and also count as loss', () => {
    const m = new CallMeter(8000);
    for (const i of [0, 1, 2, 5, 6]) {
      const b = rtpPacket({seq: 100 + i, ts: 160 * (i + 1), ssrc: 3});
      m.up(b, b.length, i * 20_000, i * 20_000);
      m.back(b, b.length, i * 20_000 + 500);
    }
    const s = m.snapshot();
    expect(s.uplinkGaps).toBe(2);
    expect(s.lost).toBe(2);
  });

  test('a new SSRC re-anchors and folds counts', () => {
    const m = new CallMeter(8000);
    stream(m, 50, {ssrc: 1, seq0: 100, t0Us: 0});
    // second stream starts 5 s later with an unrelated timestamp base
    stream(m, 50, {ssrc: 2, seq0: 60000, ts0: 123456, t0Us: 5_000_000});
    const s = m.snapshot();
    expect(s.ssrcChanges).toBe(1);
    expect(s.packetsBack).toBe(100);
    expect(s.expected).toBe(100);
    expect(s.lost).toBe(0);
    expect(s.late).toBe(0);
  });

  test('malformed datagrams are counted and refused, figures untouched', () => {
    const m = new CallMeter(8000);
    expect(m.up(Buffer.alloc(5), 5, 0, 0)).toBe(false);
    const v1 = rtpPacket({seq: 1, ts: 1, ssrc: 1});
    v1[0] = 0x40;
    expect(m.back(v1, v1.length, 0)).toBe(false);
    const s = m.snapshot();
    expect(s.malformed).toBe(2);
    expect(s.packetsUp).toBe(0);
  });
});
