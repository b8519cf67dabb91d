import {CallerMeter} from '../../src/metrics/caller-meter.js';
import {attributeCallerFrames} from '../../src/metrics/caller-attribution.js';

const FRAME_US = 20_000;
const finishEcho = {countFromUs: null, echoes: true, oneWayLegs: true};

/**
 * A golden call: the caller sends n frames (ts 0,160,…) 20 ms apart from t=1 s; Asterisk returns
 * frame i (its own SSRC, seq from 5000) `delay(i)` µs after it was sent, or never (null).
 */
function call(n: number, delay: (i: number) => number | null, m = new CallerMeter(8000, 20)): CallerMeter {
  const back: Array<{seq: number; ts: number; t: number; sent: number}> = [];
  for (let i = 0; i < n; i++) {
    const ts = i * 160;
    const sent = 1_000_000 + i * FRAME_US;
    m.noteSent(ts, sent);
    const d = delay(i);
    if (d !== null) back.push({seq: 0, ts, t: sent + d, sent});
  }
  back.sort((a, b) => a.t - b.t);
  // Asterisk numbers the frames it forwards in the order it sends them
  back.forEach((b, k) => m.noteReceived(0xabc, (5000 + k) & 0xffff, b.ts, b.t, b.sent));
  return m;
}

describe('CallerMeter', () => {
  test('a clean echo: round trip exact, lateness from the earliest phase, no loss', () => {
    const r = call(100, () => 1500).finish(finishEcho);
    expect(r.side.sent).toBe(100);
    expect(r.side.received).toBe(100);
    expect(r.side.lost).toBe(0);
    expect(r.side.callerRttMs).toEqual({p50: 1.5, p95: 1.5, p99: 1.5, p999: 1.5, max: 1.5});
    expect(r.side.hearsLatenessMs?.max).toBe(0);
    expect(r.side.late).toBe(0);
    expect(r.side.nullReasons).toBeUndefined();
  });

  test('a late first frame is no anchor: later frames are judged against the earliest phase', () => {
    // frames 0..2 come back together 61 ms after frame 0 was sent (a stall), the rest after 1 ms:
    // a first-packet anchor would read every later frame 60 ms early and none late
    const r = call(50, (i) => (i < 3 ? 61_000 - i * FRAME_US : 1000)).finish(finishEcho);
    expect(r.side.anchorShiftMs).toBe(60);
    expect(r.side.late).toBe(2);
    expect(r.side.hearsLatenessMs?.max).toBe(60);
    expect(r.lateTs).toEqual([0, 160]);
  });

  test('late frames and the longest run of them, in the received sequence order', () => {
    // frames 10..13 come back 25 ms late (after the frames that follow them), 30 comes back 21 ms late
    const r = call(60, (i) => (i >= 10 && i <= 13 ? 26_000 : i === 30 ? 22_000 : 1000)).finish(finishEcho);
    expect(r.side.late).toBe(5);
    expect(r.lateTs.sort((a, b) => a - b)).toEqual([1600, 1760, 1920, 2080, 4800]);
    expect(r.side.lateRatio).toBeCloseTo(5 / 60, 10);
    // Asterisk numbers in its send order: 10, 11, 12 (late), 14 (on time, back before 13), 13 (late)
    expect(r.side.maxConsecutiveLate).toBe(3);
  });

  test('loss by RTP timestamp counts only frames sent once the bridge was up', () => {
    // frames 0..9 were sent before the bridge (never back), frames 40 and 41 lost later
    const r = call(100, (i) => (i < 10 || i === 40 || i === 41 ? null : 800)).finish({...finishEcho, countFromUs: 1_000_000 + 10 * FRAME_US});
    expect(r.side.expected).toBe(90);
    expect(r.side.lost).toBe(2);
    expect(r.side.lossRatio).toBeCloseTo(2 / 90, 10);
    // by the received stream's sequence numbers nothing is missing: Asterisk numbers what it sends
    expect(r.side.lostBySeq).toBe(0);
  });

  test('a media server that does not echo: rtt is null with its reason, loss by sequence numbers', () => {
    const m = new CallerMeter(8000, 20);
    for (let i = 0; i < 50; i++) m.noteSent(i * 160, 1_000_000 + i * FRAME_US);
    // a stream of its own: timestamps unrelated to the caller's, sequence 7 missing
    for (let i = 0; i < 50; i++) if (i !== 7) m.noteReceived(9, 100 + i, 777_000 + i * 160, 1_005_000 + i * FRAME_US, -1);
    const r = m.finish({countFromUs: null, echoes: false, noEchoReason: 'media server: stream (no echo)', oneWayLegs: false});
    expect(r.side.callerRttMs).toBeNull();
    expect(r.side.nullReasons).toEqual({callerRttMs: 'media server: stream (no echo)'});
    expect(r.side.expected).toBe(50);
    expect(r.side.lost).toBe(1);
    expect(r.side.hearsLatenessMs).not.toBeNull();
  });

  test('nothing came back: figures are null with their reason, every frame lost', () => {
    const r = call(20, () => null).finish({...finishEcho, countFromUs: 0});
    expect(r.side.hearsLatenessMs).toBeNull();
    expect(r.side.callerRttMs).toBeNull();
    expect(r.side.jitterMs).toBeNull();
    expect(r.side.lost).toBe(20);
    expect(r.side.lossRatio).toBe(1);
    expect(r.side.nullReasons?.hearsLatenessMs).toBe('no frame came back to the caller');
  });

  test('duplicates are measured once', () => {
    const m = call(10, () => 1000);
    m.noteReceived(0xabc, 5003, 3 * 160, 1_200_000, 1_060_000);
    const r = m.finish(finishEcho);
    expect(r.side.received).toBe(10);
  });
});

test('a new SSRC starts a new stream with its own earliest phase', () => {
  const m = new CallerMeter(8000, 20);
  // stream 1: the second frame 25 ms behind; stream 2 (Asterisk restarted its stream) 10 ms behind its own best
  [[1, 0, 0], [1, 160, 45_000], [1, 320, 40_000], [2, 9000, 100_000], [2, 9160, 130_000], [2, 9320, 140_000]].forEach(([ssrc, ts, t], i) =>
    m.noteReceived(ssrc, 10 + i, ts, 1_000_000 + t, -1),
  );
  const r = m.finish({countFromUs: null, echoes: false, oneWayLegs: false});
  expect(r.side.late).toBe(1);
  expect(r.lateTs).toEqual([160]);
  expect(r.side.hearsLatenessMs?.max).toBe(25);
  expect(r.side.received).toBe(6);
});

describe('attributeCallerFrames', () => {
  test('frames late at both points count under the relay leg; late only at the caller under asteriskBack', () => {
    const a = attributeCallerFrames({
      callerLateTs: [160, 320, 480, 640, 800],
      callerLost: 0,
      relayLate: {ts: [160, 320, 480, 9999], leg: 'arma', truncated: false},
      relayLost: 0,
    });
    expect(a.lateBy).toEqual({asterisk: 1, relay: 1, mediaServer: 1, asteriskBack: 2});
    expect(a.lateAtBoth).toBe(3);
  });

  test('frames lost after the relay: lost at the caller beyond what the relay missed', () => {
    const a = attributeCallerFrames({callerLateTs: [], callerLost: 7, relayLate: undefined, relayLost: 2});
    expect(a.lostAfterRelay).toBe(5);
    expect(a.lateBy.asteriskBack).toBe(0);
    expect(attributeCallerFrames({callerLateTs: [], callerLost: 1, relayLate: undefined, relayLost: 3}).lostAfterRelay).toBe(0);
  });

  test('without the relay list every late frame is asteriskBack, and a truncated list is said', () => {
    expect(attributeCallerFrames({callerLateTs: [1, 2], callerLost: 0, relayLate: undefined, relayLost: 0}).lateBy.asteriskBack).toBe(2);
    expect(attributeCallerFrames({callerLateTs: [1], callerLost: 0, relayLate: {ts: [1], leg: 'a', truncated: true}, relayLost: 0}).relayListTruncated).toBe(true);
  });
});
