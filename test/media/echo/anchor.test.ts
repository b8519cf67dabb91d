/** echo's pacing anchor on explicit times (µs): the first packet's phase, settling earlier only on two consecutive early packets. */
import {describe, expect, it} from '@jest/globals';
import {AnchorMove, anchorDueUs, newAnchor} from '../../../src/media/echo/anchor.js';

const US_PER_TICK_8K = 125;
const FRAME_US = 20_000;
const NO_CAP = 3_600_000_000;

/** Frame i has ts = ts0 + 160·i and arrives at `arrivalsUs[i]`; returns how long each one waits (due − arrival) and the moves. */
function run(arrivalsUs: number[], ts0 = 0, maxHoldUs = NO_CAP): {waits: number[]; moves: AnchorMove[]} {
  const a = newAnchor(ts0, arrivalsUs[0], US_PER_TICK_8K);
  const moves: AnchorMove[] = [];
  const waits = arrivalsUs.map((t, i) => {
    const due = anchorDueUs(a, (ts0 + 160 * i) >>> 0, t, maxHoldUs);
    moves.push(a.move);
    return due - t;
  });
  return {waits, moves};
}

describe('echo pacing anchor', () => {
  it('re-paces a burst of 50 packets sent at once to their timestamps', () => {
    const {waits, moves} = run(Array.from({length: 50}, (_, i) => 1_000_000 + i * 10));
    waits.forEach((w, i) => expect(w).toBe(i * FRAME_US - i * 10));
    expect(moves.every((m) => m === AnchorMove.Kept)).toBe(true);
  });

  it('a first packet 150 ms late, a catch-up burst, then on time: the anchor settles on the 2nd on-time packet', () => {
    // frames 0..7 are due at 0..140 ms; a stall holds them until 150 ms, then they come at once; the rest on time
    const arrivals = Array.from({length: 100}, (_, i) => 1_000_000 + (i <= 7 ? 150_000 + i * 10 : i * FRAME_US));
    const {waits, moves} = run(arrivals, 0xffffff00); // timestamps wrap on the way
    expect(waits[0]).toBe(0);
    expect(waits[1]).toBe(FRAME_US - 10);
    expect(waits[8]).toBe(150_000); // the 1st on-time packet alone cannot move the anchor
    expect(waits.slice(9).every((w) => w === 0)).toBe(true);
    expect(moves.filter((m) => m === AnchorMove.Moved)).toHaveLength(1);
  });

  it('holds a jittered packet at most by its earliness against the first packet\'s grid', () => {
    const arrivals = Array.from({length: 200}, (_, i) => 1_000_000 + i * FRAME_US + (i === 0 ? 0 : (((i * 7919) % 14) - 4) * 1000));
    const {waits} = run(arrivals);
    waits.forEach((w, i) => expect(w).toBeLessThanOrEqual(Math.max(0, 1_000_000 + i * FRAME_US - arrivals[i])));
    expect(waits.some((w) => w > 0)).toBe(true);
  });

  it('two consecutive early phases within 5 ms move t0\' to the later one; a late packet never moves it', () => {
    const a = newAnchor(0, 1_000_000, US_PER_TICK_8K);
    expect(anchorDueUs(a, 0, 1_000_000, NO_CAP)).toBe(1_000_000);
    expect(anchorDueUs(a, 160, 1_010_000, NO_CAP)).toBe(1_020_000); // phase 990 ms alone: held
    expect(anchorDueUs(a, 320, 1_027_000, NO_CAP)).toBe(1_030_000); // phase 987: t0' = 990
    expect(a.move).toBe(AnchorMove.Moved);
    expect(anchorDueUs(a, 480, 1_100_000, NO_CAP)).toBe(1_050_000);
    expect(a.t0Us).toBe(990_000);
  });

  it('re-anchors rather than hold a packet beyond max-hold (a timestamp jump)', () => {
    const a = newAnchor(160, 1_000_000, US_PER_TICK_8K);
    anchorDueUs(a, 160, 1_000_000, 300_000);
    expect(anchorDueUs(a, 160 + 8000 * 60, 1_001_000, 300_000)).toBe(1_001_000);
    expect(a.move).toBe(AnchorMove.Reanchored);
    expect(anchorDueUs(a, 160 + 8000 * 60 + 1600, 1_002_000, 300_000)).toBe(1_201_000);
    expect(a.move).toBe(AnchorMove.Kept);
  });
});
