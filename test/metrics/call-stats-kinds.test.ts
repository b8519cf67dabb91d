import {CallMeter, type LateLeg} from '../../src/metrics/call-stats.js';
import {callRecordFrom, reportCallRecord} from '../../src/metrics/call-record-from.js';
import {CallRecordSchema} from '../../src/protocol/report.js';
import {ServeCallRecordSchema} from '../../src/protocol/serve-api.js';
import {rtpPacket} from '../helpers/rtp.js';

const T0 = 1_000_000;
const FRAME_US = 20_000;
const HOLD_US = 10;

/** Up packet i of SSRC 42 (seq 1000+i, ts 160+160i) received at T0 + 20 ms·i + extraUs(i), forwarded HOLD_US later (or holdUs(i)). */
function up(m: CallMeter, n: number, o: {extraUs?: (i: number) => number; holdUs?: (i: number) => number; skip?: (i: number) => boolean} = {}): Buffer[] {
  const sent: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (o.skip?.(i)) continue;
    const buf = rtpPacket({seq: 1000 + i, ts: 160 + i * 160, ssrc: 42});
    const t = T0 + i * FRAME_US + (o.extraUs?.(i) ?? 0);
    m.up(buf, buf.length, t, t + (o.holdUs?.(i) ?? HOLD_US));
    sent.push(buf);
  }
  return sent;
}

/**
 * A voice bot's own stream: SSRC 0xb07, sequence from 65500 (it wraps), its own timestamps,
 * frame k due at start + 20 ms·k; `stallUntil(k)`: a stalled bot sends frame k only then.
 */
function botStream(m: CallMeter, n: number, startUs: number, o: {stallUntil?: (k: number) => number | null; drop?: (k: number) => boolean} = {}): void {
  for (let k = 0; k < n; k++) {
    if (o.drop?.(k)) continue;
    const buf = rtpPacket({seq: (65_500 + k) & 0xffff, ts: (7_777_000 + k * 160) >>> 0, ssrc: 0xb07});
    const t = o.stallUntil?.(k) ?? startUs + k * FRAME_US;
    m.back(buf, buf.length, t, t + HOLD_US);
  }
}

const meta = {
  index: 0,
  runId: 'r1',
  channelId: 'r1-0',
  externalMediaChannelId: 'em-0',
  bridgeId: 'b-0',
  port: 40_000,
  startedAt: new Date('2026-12-07T10:00:00Z'),
  endedAt: new Date('2026-12-07T10:00:04Z'),
  tStartUs: 900_000,
  tEndUs: 4_100_000,
  setupMs: 12,
  endReason: 'caller left Stasis',
  error: null,
};

describe('CallMeter with a media server that streams (a voice bot)', () => {
  /** The bot stalls for 100 ms before frame 100: frames 100..104 all arrive with frame 105. */
  const stall = (k: number) => (k >= 100 && k < 105 ? T0 + 5000 + 105 * FRAME_US : null);

  test.each([
    ['inside the first minute (held, judged at the end)', undefined],
    ['after the exact window closed (judged as they come)', 1_000_000],
  ])('its own stream is judged on its own; a 100 ms stall makes late frames of the media server, %s', (_what, windowUs) => {
    const late: Array<[number, LateLeg]> = [];
    const m = new CallMeter(8000, 20, {lateness: [], rtt: []}, windowUs, 'stream');
    m.lateFrames = {note: (ts, leg) => late.push([ts, leg])};
    up(m, 150);
    botStream(m, 150, T0 + 5000, {stallUntil: stall});
    const s = m.snapshot();
    expect(s.mediaServer).toBe('stream');
    expect(s.packetsBack).toBe(150);
    expect(s.unmatchedBack).toBe(0);
    expect(s.expected).toBe(150);
    expect(s.lost).toBe(0);
    // frame 100 is 100 ms late, 101 80, 102 60, 103 40, 104 20 (not over the 20 ms threshold)
    expect(s.late).toBe(4);
    expect(s.maxConsecutiveLate).toBe(4);
    expect(s.lateBy).toEqual({asterisk: 0, relay: 0, mediaServer: 4});
    expect(late).toEqual([100, 101, 102, 103].map((k) => [7_777_000 + k * 160, 'm']));
    expect(s.latenessMs?.max).toBeCloseTo(100, 1);
    expect(s.latenessMs?.p50).toBeCloseTo(0, 1);
    expect(s.rttMs).toBeNull();
    expect(s.nullReasons.rttMs).toBe('media server: stream (no echo)');
    expect(s.jitterBackMs).not.toBeNull();
    expect(s.mediaError).toBeNull();
    // the relay's hold is kept in both directions: 150 up + 150 back, every one 10 µs
    expect(s.relayHoldMs?.max).toBeCloseTo(0.01, 3);
  });

  test('loss is counted by its own sequence numbers, across their wrap', () => {
    const m = new CallMeter(8000, 20, undefined, undefined, 'stream');
    up(m, 100);
    botStream(m, 100, T0 + 5000, {drop: (k) => k === 36 || k === 70});
    const s = m.snapshot();
    expect(s.packetsBack).toBe(98);
    expect(s.expected).toBe(100);
    expect(s.lost).toBe(2);
    expect(s.late).toBe(0);
  });

  test('a bot whose first frame came late is judged against its earliest phase, not its first frame', () => {
    const m = new CallMeter(8000, 20, undefined, undefined, 'stream');
    up(m, 60);
    botStream(m, 60, T0 + 5000, {stallUntil: (k) => (k === 0 ? T0 + 5000 + 60_000 : null)});
    const s = m.snapshot();
    expect(s.late).toBe(1);
    expect(s.latenessMs?.max).toBeCloseTo(60, 1);
  });

  test('no frame from the bot: lateness and jitter null with the reason', () => {
    const m = new CallMeter(8000, 20, undefined, undefined, 'stream');
    up(m, 50);
    const s = m.snapshot();
    expect(s.packetsBack).toBe(0);
    expect(s.latenessMs).toBeNull();
    expect(s.nullReasons.latenessMs).toBe('no packet came from the media server');
    expect(s.jitterBackMs).toBeNull();
    expect(s.upLatenessMs).not.toBeNull();
  });

  test('the call record carries the nulls, the reasons and the kind, and validates', () => {
    const m = new CallMeter(8000, 20, undefined, undefined, 'stream');
    up(m, 100);
    botStream(m, 100, T0 + 5000);
    const r = callRecordFrom(m.snapshot(), meta);
    expect(r.error).toBeNull();
    expect(ServeCallRecordSchema.safeParse(r).success).toBe(true);
    expect(r.rttMs).toBeNull();
    expect(r.nullReasons).toEqual({rttMs: 'media server: stream (no echo)'});
    expect(r.mediaServer).toBe('stream');
    expect(CallRecordSchema.safeParse(reportCallRecord(r)).success).toBe(true);
  });
});

describe('CallMeter with a media server that is a sink', () => {
  test('the up stream as delivered is judged: 50 ms late from Asterisk makes late frames, no back figure', () => {
    const late: Array<[number, LateLeg]> = [];
    const m = new CallMeter(8000, 20, {lateness: [], rtt: []}, undefined, 'sink');
    m.lateFrames = {note: (ts, leg) => late.push([ts, leg])};
    // packets 40..44 arrive 50 ms late; packet 70 is held 30 ms by the relay
    up(m, 100, {extraUs: (i) => (i >= 40 && i < 45 ? 50_000 : 0), holdUs: (i) => (i === 70 ? 30_000 : HOLD_US)});
    const s = m.snapshot();
    expect(s.mediaServer).toBe('sink');
    expect(s.packetsUp).toBe(100);
    expect(s.packetsBack).toBe(0);
    expect(s.expected).toBe(100);
    expect(s.lost).toBe(0);
    expect(s.late).toBe(6);
    expect(s.maxConsecutiveLate).toBe(5);
    expect(s.lateBy).toEqual({asterisk: 5, relay: 1, mediaServer: 0});
    expect(late.map(([, leg]) => leg).join('')).toBe('aaaaar');
    expect(s.latenessMs?.max).toBeCloseTo(50.01, 2);
    expect(s.upLatenessMs?.max).toBeCloseTo(50, 2);
    expect(s.rttMs).toBeNull();
    expect(s.jitterBackMs).toBeNull();
    expect(s.nullReasons).toEqual({rttMs: 'media server: sink (sends nothing back)', jitterMs: 'media server: sink (sends nothing back)'});
    expect(s.mediaError).toBeNull();
  });

  test('loss is the up stream\'s gaps: nothing is expected back', () => {
    const m = new CallMeter(8000, 20, undefined, undefined, 'sink');
    up(m, 100, {skip: (i) => i === 10 || i === 11});
    const s = m.snapshot();
    expect(s.lost).toBe(2);
    expect(s.uplinkGaps).toBe(2);
    expect(s.late).toBe(0);
  });

  test('the call record validates with its back-stream figures null', () => {
    const m = new CallMeter(8000, 20, undefined, undefined, 'sink');
    up(m, 100);
    const r = callRecordFrom(m.snapshot(), meta);
    expect(ServeCallRecordSchema.safeParse(r).success).toBe(true);
    expect(r.error).toBeNull();
    expect(r.jitterMs).toBeNull();
    expect(r.rttMs).toBeNull();
    expect(r.latenessMs).not.toBeNull();
  });
});

describe('CallMeter with an echo', () => {
  test('an echo that returns nothing: lateness and rtt are null with the reason, not 0', () => {
    const m = new CallMeter(8000);
    up(m, 50);
    const s = m.snapshot();
    expect(s.lost).toBe(50);
    expect(s.latenessMs).toBeNull();
    expect(s.rttMs).toBeNull();
    expect(s.jitterBackMs).toBeNull();
    expect(s.nullReasons.latenessMs).toMatch(/^no packet came back from the media server/);
    expect(s.nullReasons.rttMs).toBe(s.nullReasons.latenessMs);
    expect(s.upLatenessMs).not.toBeNull();
    expect(s.mediaError).toBeNull();
  });

  test('a call that saw nothing: every percentile null, "no up packet received"', () => {
    const s = new CallMeter(8000).snapshot();
    for (const k of ['latenessMs', 'rttMs', 'upLatenessMs', 'relayHoldMs'] as const) {
      expect(s[k]).toBeNull();
      expect(s.nullReasons[k]).toBe('no up packet received');
    }
  });

  test('a media server that streams instead of echoing gives the call a clear error, not 100 % loss without a word', () => {
    const m = new CallMeter(8000);
    up(m, 250);
    botStream(m, 250, T0 + 5000);
    const s = m.snapshot();
    expect(s.packetsBack).toBe(0);
    expect(s.unmatchedBack).toBe(250);
    const why = "the media server sent 250 packets that are not echoes of the caller's: is it a stream? run serve --media-server stream";
    expect(s.mediaError).toBe(why);
    expect(s.nullReasons.latenessMs).toBe(why);
    const r = callRecordFrom(s, meta);
    expect(r.error).toBe(why);
    expect(ServeCallRecordSchema.safeParse(r).success).toBe(true);
  });

  test('a few stray packets beside the echoes are no media error', () => {
    const m = new CallMeter(8000);
    for (const buf of up(m, 100)) m.back(buf, buf.length, T0 + 3_000_000);
    botStream(m, 3, T0 + 5000);
    const s = m.snapshot();
    expect(s.packetsBack).toBe(100);
    expect(s.unmatchedBack).toBe(3);
    expect(s.mediaError).toBeNull();
  });
});
