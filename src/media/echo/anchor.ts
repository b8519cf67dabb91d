/**
 * echo's pacing anchor (docs/measurement.md, the echo), the same rule as native/pace.c: per source
 * `(t0', ts0)`. A packet with timestamp `ts` is due at `t0' + (ts − ts0)/clock_rate` (playoutUs,
 * src/rtp/clock.ts). `t0'` starts as the phase of the source's first packet and moves earlier only
 * when two consecutive packets both have a phase `t_recv − (ts − ts0)/clock_rate` earlier than `t0'`
 * and within a quarter frame (5 ms) of each other: `t0'` becomes the later of those two phases. So
 * a burst (phases a frame apart: a sender faster than real time) is re-paced to its timestamps,
 * and a first packet delayed by a stall holds the stream back only until it settles. A packet that
 * would be due more than max-hold after it arrived (a timestamp jump) re-anchors the source on its
 * own phase instead of waiting.
 */
import {playoutUs} from '../../rtp/clock.js';

/** Two consecutive phases within this of each other (µs) settle the stream: a quarter of the 20 ms frame. */
export const SETTLE_TOLERANCE_US = 5000;

/** How the last packet changed the anchor. */
export const enum AnchorMove {
  Kept = 0,
  /** Two consecutive early packets moved t0' earlier. */
  Moved = 1,
  /** The packet would have been held beyond max-hold: t0' is now its phase. */
  Reanchored = 2,
}

export interface PacingAnchor {
  /** t0' (µs, same clock as the arrival times). */
  t0Us: number;
  /** RTP timestamp of the first packet. */
  ts0: number;
  /** µs per RTP timestamp tick (1e6 / clock rate). */
  usPerTick: number;
  /** Phase of the previous packet (µs). */
  prevPhaseUs: number;
  /** What the last anchorDueUs did. */
  move: AnchorMove;
}

/** The anchor of a source whose first packet (timestamp `ts`) arrived at `tRecvUs`. */
export function newAnchor(ts: number, tRecvUs: number, usPerTick: number): PacingAnchor {
  return {t0Us: tRecvUs, ts0: ts, usPerTick, prevPhaseUs: tRecvUs, move: AnchorMove.Kept};
}

/** The due time (µs) of a packet with timestamp `ts` arriving at `tRecvUs`; moves the anchor by the rule above. */
export function anchorDueUs(a: PacingAnchor, ts: number, tRecvUs: number, maxHoldUs: number): number {
  const offUs = playoutUs(0, a.ts0, a.usPerTick, ts);
  const phaseUs = tRecvUs - offUs;
  const prevUs = a.prevPhaseUs;
  a.prevPhaseUs = phaseUs;
  a.move = AnchorMove.Kept;
  if (phaseUs < a.t0Us && prevUs < a.t0Us && Math.abs(phaseUs - prevUs) <= SETTLE_TOLERANCE_US) {
    a.t0Us = Math.max(phaseUs, prevUs);
    a.move = AnchorMove.Moved;
  }
  if (a.t0Us + offUs - tRecvUs > maxHoldUs) {
    a.t0Us = phaseUs;
    a.move = AnchorMove.Reanchored;
  }
  return a.t0Us + offUs;
}

/** Due time (µs) of timestamp `ts` on the anchor as it stands. */
export function slotUs(a: PacingAnchor, ts: number): number {
  return playoutUs(a.t0Us, a.ts0, a.usPerTick, ts);
}
