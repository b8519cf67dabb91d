import {EarliestPhaseLateness, EXACT_WINDOW_US} from '../../src/metrics/earliest-phase.js';
import {LatencyHistogram} from '../../src/metrics/histogram.js';

const FRAME_US = 20_000;
const TICKS = 160; // 20 ms at 8 kHz

/** A stream of `n` frames: frame i arrives at arrivalUs(i), with ts = base + i·160. */
function feed(m: EarliestPhaseLateness, n: number, arrivalUs: (i: number) => number, tsBase = 4_294_960_000): void {
  for (let i = 0; i < n; i++) m.add(arrivalUs(i), (tsBase + i * TICKS) >>> 0, i);
}

test('a first packet 150 ms late: the catch-up burst counts as late, judged from the earliest phase', () => {
  const h = new LatencyHistogram();
  const m = new EarliestPhaseLateness(8000, 20_000, h);
  // frames 0..7 are due at 0..140 ms; a stall holds them until 150 ms, then all come at once; the rest on time
  feed(m, 500, (i) => (i <= 7 ? 150_000 : i * FRAME_US), 4_294_967_000); // timestamps wrap inside the stream
  m.finish();
  expect(m.anchor.shiftUs).toBe(150_000);
  // lateness of frames 0..7: 150, 130, 110, 90, 70, 50, 30, 10 ms: seven over 20 ms, in a row
  expect(m.judge.late).toBe(7);
  expect(m.judge.maxConsecutiveLate).toBe(7);
  expect(m.judge.maxLatenessUs).toBe(150_000);
  expect(h.count).toBe(500);
  expect(m.anchor.anchorMoves).toBe(0);
});

test('a first-packet anchor would have hidden it: every frame judged against the first reads on time', () => {
  // the same stream judged with a window of 0 (values judged as they come, anchor = first phase until an earlier one)
  const h = new LatencyHistogram();
  const m = new EarliestPhaseLateness(8000, 20_000, h, 0);
  feed(m, 500, (i) => (i <= 7 ? 150_000 : i * FRAME_US));
  m.finish();
  // the catch-up frames move the anchor earlier one after another (counted), so none reads late
  expect(m.judge.late).toBe(0);
  expect(m.anchor.anchorMoves).toBe(8); // frames 1..7 of the burst, then frame 8 on time
  expect(m.anchor.shiftUs).toBe(150_000);
});

test('consecutive misses are counted in sequence order even when the frames arrived reordered', () => {
  const h = new LatencyHistogram();
  const m = new EarliestPhaseLateness(8000, 20_000, h);
  const arrivals = [0, 20_000, 40_000, 60_000 + 30_000, 80_000 + 30_000, 100_000, 120_000];
  // frames 3 and 4 are 30 ms late; frame 5 arrives before them
  const order = [0, 1, 2, 5, 3, 4, 6];
  for (const i of order) m.add(arrivals[i], i * TICKS, i);
  m.finish();
  expect(m.judge.late).toBe(2);
  expect(m.judge.maxConsecutiveLate).toBe(2);
});

test('after the exact window an earlier phase re-anchors from then on and is counted', () => {
  const h = new LatencyHistogram();
  const m = new EarliestPhaseLateness(8000, 20_000, h, 1_000_000);
  // 2 s of frames 5 ms behind, then the stream runs 5 ms earlier
  feed(m, 200, (i) => i * FRAME_US + (i < 100 ? 5_000 : 0));
  m.finish();
  expect(m.anchor.anchorMoves).toBe(1);
  expect(m.judge.late).toBe(0);
  expect(m.judge.maxLatenessUs).toBe(0);
});

test('a driven 2-hour call holds nothing after its first minute', () => {
  const h = new LatencyHistogram();
  const m = new EarliestPhaseLateness(8000, 20_000, h);
  const frames = (2 * 3600 * 1_000_000) / FRAME_US;
  let heldAtOneMinute = -1;
  let heldMax = 0;
  for (let i = 0; i < frames; i++) {
    const t = i * FRAME_US + ((i * 7919) % 3000); // up to 3 ms of jitter
    m.add(t, (i * TICKS) >>> 0, i);
    if (t >= EXACT_WINDOW_US) {
      if (heldAtOneMinute < 0) heldAtOneMinute = m.judge.heldBytes;
      heldMax = Math.max(heldMax, m.judge.heldBytes);
    }
  }
  m.finish();
  expect(heldAtOneMinute).toBe(0);
  expect(heldMax).toBe(0);
  expect(h.count).toBe(frames);
});
