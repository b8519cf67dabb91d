import {CallMeter, type LateLeg} from '../../src/metrics/call-stats.js';
import {LatencyHistogram} from '../../src/metrics/histogram.js';

const FRAME_US = 20_000;
const TICKS = 160; // 20 ms at 8 kHz
const T0 = 5_000_000;
const SSRC = 0x1234;

/**
 * Up packet i (ts = i·160) arrives at arrivalUs(i), goes to the echo `holdUs` later and comes
 * back `rttUs` after that (the echo returns it at once).
 */
function call(m: CallMeter, from: number, to: number, arrivalUs: (i: number) => number, holdUs = 0, rttUs = 0): void {
  for (let i = from; i < to; i++) {
    const t = arrivalUs(i);
    m.upFields(SSRC, i & 0xffff, (i * TICKS) >>> 0, 0, false, 172, t, t + holdUs);
    m.backFields(SSRC, i & 0xffff, (i * TICKS) >>> 0, 0, false, 172, t + holdUs + rttUs, t + holdUs + rttUs);
  }
}

/** Frames 0..7 are due at 0..140 ms; a stall holds them until 150 ms, then they all come at once; the rest on time. */
const stalledStart = (i: number) => T0 + (i <= 7 ? 150_000 : i * FRAME_US);

describe('CallMeter anchor: the up stream\'s earliest phase, not its first packet', () => {
  test('a first packet 150 ms late, a catch-up burst, then on time: the burst is late, under Asterisk\'s leg', () => {
    const late: Array<[number, LateLeg]> = [];
    const m = new CallMeter(8000, 20, {lateness: [], rtt: []});
    m.lateFrames = {note: (ts, leg) => late.push([ts, leg])};
    call(m, 0, 500, stalledStart);
    const s = m.snapshot();
    expect(s.anchorShiftMs).toBe(150);
    expect(s.anchorMoves).toBe(0);
    // lateness of frames 0..7: 150, 130, …, 30, 10 ms: seven over 20 ms, in a row
    expect(s.late).toBe(7);
    expect(s.maxConsecutiveLate).toBe(7);
    expect(s.lateBy).toEqual({asterisk: 7, relay: 0, mediaServer: 0});
    expect(s.latenessMs?.max).toBe(150);
    expect(s.upLatenessMs?.max).toBe(150);
    expect(s.worstLateAtUs).toBe(T0 + 150_000);
    expect(late).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => [i * TICKS, 'a']));
    expect(m.lateness.count).toBe(500);
    expect(m.upLateness.count).toBe(500);
  });

  test('the sinks receive the values judged against the final anchor', () => {
    const lateness = new LatencyHistogram();
    const upLateness = new LatencyHistogram();
    const m = new CallMeter(8000, 20, {lateness: [lateness], rtt: [], upLateness: [upLateness]});
    call(m, 0, 100, stalledStart);
    expect(lateness.count).toBe(0); // held: the stream's first minute is not over
    m.finish();
    expect(lateness.count).toBe(100);
    expect(upLateness.count).toBe(100);
    expect(lateness.maxUs()).toBe(150_000);
  });

  test('the earliest phase found late in the first minute judges the whole minute: 30 ms late throughout', () => {
    const m = new CallMeter(8000);
    // every frame 30 ms behind schedule except frame 2000 (at 40 s), which is on time
    call(m, 0, 2500, (i) => T0 + i * FRAME_US + (i === 2000 ? 0 : 30_000));
    const s = m.snapshot();
    expect(s.anchorShiftMs).toBe(30);
    expect(s.late).toBe(2499);
    expect(s.maxConsecutiveLate).toBe(2000);
    expect(s.anchorMoves).toBe(0);
  });

  test('after the first minute an earlier phase re-anchors from then on and is counted', () => {
    const m = new CallMeter(8000);
    // on time (phase +25 ms) for 90 s; frame 4500 comes 25 ms earlier than every frame before it; then 24 ms later than it
    call(m, 0, 6000, (i) => T0 + i * FRAME_US + (i === 4500 ? 0 : 25_000));
    const s = m.snapshot();
    expect(s.anchorMoves).toBe(1);
    expect(s.anchorShiftMs).toBe(25);
    // judged live after the move: frames 4501..5999 are 25 ms late against the new anchor
    expect(s.late).toBe(1499);
    expect(s.maxConsecutiveLate).toBe(1499);
  });

  test('legs of late packets held in the first minute are judged against the final anchor', () => {
    const m = new CallMeter(8000);
    // up on time; the echo answers frames 100..104 25 ms late; the relay holds frame 200 for 22 ms
    for (let i = 0; i < 400; i++) {
      const t = T0 + i * FRAME_US;
      const hold = i === 200 ? 22_000 : 10;
      const rtt = i >= 100 && i <= 104 ? 25_000 : 500;
      m.upFields(SSRC, i, i * TICKS, 0, false, 172, t, t + hold);
      m.backFields(SSRC, i, i * TICKS, 0, false, 172, t + hold + rtt, -1);
    }
    expect(m.snapshot().lateBy).toEqual({asterisk: 0, relay: 1, mediaServer: 5});
  });

  test('a driven 2-hour call holds nothing after its first minute', () => {
    const m = new CallMeter(8000);
    const frames = 2 * 3600 * 50;
    call(m, 0, 2999, (i) => T0 + i * FRAME_US);
    expect(m.heldBytes).toBeGreaterThan(0);
    call(m, 2999, 3001, (i) => T0 + i * FRAME_US); // frame 3000 is 60 s after the first
    expect(m.heldBytes).toBe(0);
    for (let from = 3001; from < frames; from += 50_000) {
      call(m, from, Math.min(frames, from + 50_000), (i) => T0 + i * FRAME_US + (i % 7) * 1000);
      expect(m.heldBytes).toBe(0);
    }
    const s = m.snapshot();
    expect(s.packetsBack).toBe(frames);
    expect(s.lost).toBe(0);
    expect(s.late).toBe(0);
    expect(m.lateness.count).toBe(frames);
  });

  test('a new SSRC judges the old stream against its own anchor and starts a new one', () => {
    const m = new CallMeter(8000);
    call(m, 0, 100, stalledStart);
    // the new stream: on time from its first packet, anchored afresh
    for (let i = 0; i < 50; i++) {
      const t = T0 + 3_000_000 + i * FRAME_US;
      m.upFields(99, 7000 + i, 900_000 + i * TICKS, 0, false, 172, t, t);
      m.backFields(99, 7000 + i, 900_000 + i * TICKS, 0, false, 172, t + 1000, -1);
    }
    const s = m.snapshot();
    expect(s.ssrcChanges).toBe(1);
    expect(s.late).toBe(7);
    expect(s.anchorShiftMs).toBe(150);
    expect(m.lateness.count).toBe(150);
  });

  test('no up packet: anchorShiftMs is null, not 0', () => {
    const s = new CallMeter(8000).snapshot();
    expect(s.anchorShiftMs).toBeNull();
    expect(s.anchorMoves).toBe(0);
  });
});
