/** echo's earliest-phase anchor on explicit times (µs): the earliest phase, never the first packet. */
import {describe, expect, it} from '@jest/globals';
import {anchorDueUs, type PacingAnchor} from '../../../src/media/echo/anchor.js';

const US_PER_TICK_8K = 125;

/** A stream of 20 ms frames: frame i has ts = 160·i and arrives at `arrivalsUs[i]`; returns each due time. */
function run(arrivalsUs: number[], ts0 = 0): {dues: number[]; anchor: PacingAnchor} {
  const anchor: PacingAnchor = {t0Us: arrivalsUs[0], ts0, usPerTick: US_PER_TICK_8K};
  const dues = arrivalsUs.map((t, i) => anchorDueUs(anchor, (ts0 + 160 * i) >>> 0, t));
  return {dues, anchor};
}

describe('echo pacing anchor (earliest phase)', () => {
  it('a first packet delayed 30 ms by a stall does not hold the on-time packets after it', () => {
    // schedule: frame i at 1_000_000 + 20_000·i; frame 0 came 30 ms late, the rest on time
    const arrivals = [1_030_000, 1_020_000 + 1, 1_040_000, 1_060_000, 1_080_000];
    const {dues, anchor} = run(arrivals);
    // frame 1 moved the anchor to its phase; from then on every frame is due on arrival
    expect(anchor.t0Us).toBe(1_000_000);
    expect(dues.slice(2)).toEqual([1_040_000, 1_060_000, 1_080_000]);
    for (let i = 1; i < arrivals.length; i++) expect(dues[i]).toBeLessThanOrEqual(arrivals[i]);
    // a first-packet anchor would have held each of them 30 ms
    const firstPacket = arrivals.map((_, i) => arrivals[0] + 20_000 * i);
    expect(firstPacket.slice(2).map((d, k) => d - arrivals[k + 2])).toEqual([30_000, 30_000, 30_000]);
  });

  it('never moves later: a late packet is measured against the earliest phase', () => {
    const {dues, anchor} = run([0, 20_000, 65_000, 60_000]);
    expect(anchor.t0Us).toBe(0);
    expect(65_000 - dues[2]).toBe(25_000); // late by 25 ms
    expect(dues[3]).toBe(60_000);
  });

  it('is never due after the packet arrives, whatever the order or burst', () => {
    const arrivals = [500, 500, 500, 90_000, 90_001, 30_000 + 1e6];
    const {dues} = run(arrivals);
    dues.forEach((d, i) => expect(d).toBeLessThanOrEqual(arrivals[i]));
  });

  it('uses the signed 32-bit difference across a timestamp wrap', () => {
    const {dues, anchor} = run([0, 20_000, 40_000], 2 ** 32 - 160);
    expect(anchor.t0Us).toBe(0);
    expect(dues).toEqual([0, 20_000, 40_000]);
  });
});
