/**
 * echo's pacing anchor (docs/measurement.md, the echo): per source `(t0', ts0)`. A packet with timestamp `ts` is due at
 * `t0' + (ts − ts0)/clock_rate` (playoutUs, src/rtp/clock.ts). `t0'` starts as the
 * arrival time of the source's first packet and only ever moves earlier: a packet whose phase
 * `t_recv − (ts − ts0)/clock_rate` is earlier than `t0'` becomes the new `t0'` (the earliest phase
 * seen), so a first packet delayed by a stall does not hold the whole stream back.
 *
 * Consequence: a packet is never due after its own arrival, so nothing waits for a slot; what the
 * anchor still decides is how late a packet is (its arrival minus its due time).
 */
import {playoutUs} from '../../rtp/clock.js';

export interface PacingAnchor {
  /** t0' (µs, same clock as the arrival times). */
  t0Us: number;
  /** RTP timestamp of the first packet. */
  ts0: number;
  /** µs per RTP timestamp tick (1e6 / clock rate). */
  usPerTick: number;
}

/** The due time (µs) of a packet with timestamp `ts` arriving at `tRecvUs`; moves `t0Us` earlier when its phase is. */
export function anchorDueUs(a: PacingAnchor, ts: number, tRecvUs: number): number {
  // the phase: the anchor time that would make this packet due exactly on arrival
  const phaseUs = tRecvUs - playoutUs(0, a.ts0, a.usPerTick, ts);
  if (phaseUs < a.t0Us) a.t0Us = phaseUs;
  return playoutUs(a.t0Us, a.ts0, a.usPerTick, ts);
}
