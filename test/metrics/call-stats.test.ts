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
  test('a forged packet far ahead in sequence is ignored, not counted as thousands lost (RFC 3550 A.1)', () => {
    const m = new CallMeter(8000);
    stream(m, 50, {seq0: 1000});
    const forged = rtpPacket({seq: 1049 + 32_000, ts: 160 + 50 * 160, ssrc: 42});
    expect(m.up(forged, forged.length, 2_100_000, 2_100_010)).toBe(true);
    m.back(forged, forged.length, 2_101_000);
    stream(m, 50, {seq0: 1050, ts0: 160 + 50 * 160, t0Us: 2_000_000});
    const s = m.snapshot();
    expect(s.expected).toBe(100);
    expect(s.lost).toBe(0);
    expect(s.packetsBack).toBe(100);
  });

  test('clean call: every packet back, rtt and lateness exact, no loss', () => {
    const m = new CallMeter(8000);
    stream(m, 100, {rttUs: () => 1500});
    const s = m.snapshot();
    expect(s.packetsUp).toBe(100);
    expect(s.packetsBack).toBe(100);
    expect(s.lost).toBe(0);
    expect(s.late).toBe(0);
    expect(s.rttMs?.p50).toBeCloseTo(1.5, 2);
    expect(s.rttMs?.max).toBeCloseTo(1.5, 2);
    expect(s.latenessMs?.max).toBeCloseTo(1.51, 2);
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
    expect(s.latenessMs?.max).toBeGreaterThan(25);
    expect(s.lost).toBe(0);
  });

  test('remembers when the worst packet came back', () => {
    const m = new CallMeter(8000);
    expect(m.snapshot().worstLateAtUs).toBe(0);
    // packet 7 is the latest (30 ms); 20 is late too, but less (25 ms)
    stream(m, 40, {t0Us: 5_000_000, rttUs: (i) => (i === 7 ? 30_000 : i === 20 ? 25_000 : 800)});
    const s = m.snapshot();
    expect(s.worstLateAtUs).toBe(5_000_000 + 7 * 20_000 + 10 + 30_000);
    expect(s.latenessMs?.max).toBeCloseTo(30.01, 2);
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

describe('CallMeter legs (docs/measurement.md): up_lateness + hold_up + rtt = lateness, each late packet under its largest leg', () => {
  /**
   * A synthetic call driven through the parsed-field entry points with explicit times:
   * packet i is due at T0 + i×20 ms; `upLateUs(i)` delays its arrival from Asterisk, `holdUs(i)`
   * is the relay's hold before it goes to the echo, `rttUs(i)` the media server's turn-around,
   * and every back packet is forwarded to Asterisk 7 µs after it arrived.
   */
  const T0 = 2_000_000;
  function drive(m: CallMeter, n: number, legs: {upLateUs: (i: number) => number; holdUs: (i: number) => number; rttUs: (i: number) => number}) {
    const backs: Array<{i: number; t: number}> = [];
    for (let i = 0; i < n; i++) {
      const tRecv = T0 + i * 20_000 + legs.upLateUs(i);
      const tSent = tRecv + legs.holdUs(i);
      m.upFields(77, 500 + i, 1000 + i * 160, 0, false, 172, tRecv, tSent);
      backs.push({i, t: tSent + legs.rttUs(i)});
    }
    backs.sort((a, b) => a.t - b.t);
    for (const b of backs) m.backFields(77, 500 + b.i, 1000 + b.i * 160, 0, false, 172, b.t, b.t + 7);
  }

  test('Asterisk 30 ms late on 5 packets, echo 25 ms slow on 3, relay holding one 21 ms: exact legs and lateBy', () => {
    const m = new CallMeter(8000);
    const upLate = (i: number) => (i >= 10 && i <= 14 ? 30_000 : 0);
    const hold = (i: number) => (i === 30 ? 21_000 : 10);
    const rtt = (i: number) => (i >= 20 && i <= 22 ? 25_000 : i === 30 ? 500 : 1_000);
    drive(m, 50, {upLateUs: upLate, holdUs: hold, rttUs: rtt});
    const s = m.snapshot();
    expect(s.packetsBack).toBe(50);
    expect(s.late).toBe(9);
    expect(s.lateBy).toEqual({asterisk: 5, relay: 1, mediaServer: 3});
    expect(s.upLatenessMs?.max).toBe(30);
    expect(s.upLatenessMs?.p50).toBe(0);
    expect(s.rttMs?.max).toBe(25);
    expect(s.rttMs?.p50).toBe(1);
    // relay hold: 50 up holds (49 × 10 µs, one 21 ms) and 50 back holds of 7 µs
    expect(s.relayHoldMs?.max).toBe(21);
    expect(s.relayHoldMs?.p50).toBe(0.007);
    expect(m.relayHold.count).toBe(100);
    expect(m.upLateness.count).toBe(50);
    // lateness is the sum of the three legs: 30 + 0.01 + 1 for Asterisk's, 21 + 0.5 for the relay's
    expect(s.latenessMs?.max).toBe(31.01);
    expect(s.latenessMs?.p50).toBe(1.01);
  });

  test('the identity holds packet by packet: lateness(q) = up_lateness(p) + hold_up(p) + rtt(q)', () => {
    const upLate = (i: number) => (i * 3_731) % 27_000;
    const hold = (i: number) => 5 + ((i * 17) % 90);
    const rtt = (i: number) => 300 + ((i * 4_099) % 24_000);
    // one packet at a time, so the per-call max is that packet's value
    for (let i = 0; i < 40; i++) {
      const one = new CallMeter(8000);
      one.upFields(9, 0, 0, 0, false, 172, T0, T0); // anchor, on time
      const tRecv = T0 + 20_000 + upLate(i);
      const tSent = tRecv + hold(i);
      one.upFields(9, 1, 160, 0, false, 172, tRecv, tSent);
      one.backFields(9, 1, 160, 0, false, 172, tSent + rtt(i), -1);
      const expected = upLate(i) + hold(i) + rtt(i);
      const s = one.snapshot(); // judges the first minute, held until then
      expect(one.lateness.maxUs()).toBe(expected);
      const lateLeg = expected > 20_000 ? (upLate(i) >= hold(i) && upLate(i) >= rtt(i) ? 'asterisk' : rtt(i) > hold(i) ? 'mediaServer' : 'relay') : null;
      expect(s.late).toBe(lateLeg === null ? 0 : 1);
      if (lateLeg !== null) expect(s.lateBy[lateLeg]).toBe(1);
    }
  });

  test('a back packet that is not forwarded records no relay hold', () => {
    const m = new CallMeter(8000);
    m.upFields(1, 1, 160, 0, false, 172, 0, 4);
    m.backFields(1, 1, 160, 0, false, 172, 900, -1);
    expect(m.relayHold.count).toBe(1);
    expect(m.snapshot().relayHoldMs?.max).toBe(0.004);
  });

  test('the format seen: payload type and size of the up packets, and how many differed', () => {
    const m = new CallMeter(16000);
    expect(m.snapshot().seen).toEqual({payloadType: null, packetBytes: null, otherPackets: 0});
    for (let i = 0; i < 5; i++) m.upFields(1, i, i * 320, 118, false, 652, i * 20_000, i * 20_000);
    m.upFields(1, 5, 5 * 320, 0, false, 172, 100_000, 100_000);
    expect(m.snapshot().seen).toEqual({payloadType: 118, packetBytes: 652, otherPackets: 1});
  });

  test('malformedPacket counts a datagram the engine could not parse', () => {
    const m = new CallMeter(8000);
    m.malformedPacket();
    m.foreignPacket();
    const s = m.snapshot();
    expect(s.malformed).toBe(1);
    expect(s.foreign).toBe(1);
    expect(s.packetsUp).toBe(0);
  });
});

describe('CallMeter up gaps (media that stops while the call is up)', () => {
  test('the longest silence between two up packets and when it began', () => {
    const m = new CallMeter(8000);
    expect(m.snapshot()).toMatchObject({upGapMaxUs: 0, upGapAtUs: 0});
    // 20 ms pacing, then nothing from 1.0 s to 2.5 s, then pacing again
    let t = 1_000_000;
    for (let i = 0; i < 50; i++, t += 20_000) m.upFields(3, i, i * 160, 0, false, 172, t, t);
    const lastBefore = t - 20_000;
    t = lastBefore + 1_500_000;
    for (let i = 50; i < 60; i++, t += 20_000) m.upFields(3, i, i * 160, 0, false, 172, t, t);
    expect(m.snapshot()).toMatchObject({upGapMaxUs: 1_500_000, upGapAtUs: lastBefore});
  });
});
