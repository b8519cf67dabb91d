/**
 * Where in the 20 ms frame each sim stream sends, as recorded from Asterisk 22.10.1
 * (fixtures/asterisk/rtp-phase-and-pacing.json, calls originated 20 ms apart):
 *  - 30 calls: the streams are in phase, 92.9 % of packets in the busiest 5 ms of the frame;
 *  - 150 calls: they spread over about ±5 ms (p05/p95 of the stream phases −4.3…−5.6 / +4.5…+5.5),
 *    47.5–53.9 % of packets in the busiest 5 ms (three runs).
 * Asterisk's spread grows with its load, so the model depends on how many streams are live when a
 * stream starts (n, this one included). A stream is put in the core window (±2.5 ms around the
 * sim's natural phase) with probability 0.93 while n ≤ 30 and 0.40 beyond, else in a band
 * 3–5.8 ms either side. These two numbers are a fit to the two recorded levels (step at 30 calls);
 * between and beyond them the model is an assumption.
 *
 * Draws are quasi-random so that any N streams reproduce the recorded shares, not just their
 * average: in or out of the core window by error diffusion (an accumulator of the probabilities
 * whose start comes from the seeded RNG), and the offset within each region from a golden-ratio
 * sequence whose start is drawn from the RNG. Same seed, same sequence of streams → same offsets.
 */
import type {SimRng} from './rng.js';

/** Half-width of the core window (the busiest 5 ms of the recording). */
export const PHASE_CORE_HALF_US = 2_500;
/** Streams outside the core window start this far from its edge at least… */
export const PHASE_OUTER_GAP_US = 500;
/** …and at most this far from the sim's natural phase. */
export const PHASE_OUTER_MAX_US = 5_800;
/** Up to this many live streams Asterisk kept them in phase (recorded at 30 calls). */
export const PHASE_IN_STEP_STREAMS = 30;
/** Share of new streams in the core window up to / beyond PHASE_IN_STEP_STREAMS live streams. */
export const PHASE_IN_SHARE_LOW_LOAD = 0.93;
export const PHASE_IN_SHARE_HIGH_LOAD = 0.4;

const GOLDEN = (Math.sqrt(5) - 1) / 2;

export class StartPhaseModel {
  private seeded = false;
  private acc = 0;
  private inner = 0;
  private outer = 0;

  constructor(private readonly rng: SimRng) {}

  /**
   * Offset (µs, −5800…+5800) added to the start of a stream that begins while `liveStreams`
   * streams (itself included) exist.
   */
  nextOffsetUs(liveStreams: number): number {
    if (!this.seeded) {
      // drawn lazily, so a sim that never streams consumes nothing from the RNG here
      this.acc = this.rng.float();
      this.inner = this.rng.float();
      this.outer = this.rng.float();
      this.seeded = true;
    }
    this.acc += liveStreams <= PHASE_IN_STEP_STREAMS ? PHASE_IN_SHARE_LOW_LOAD : PHASE_IN_SHARE_HIGH_LOAD;
    if (this.acc >= 1) {
      this.acc -= 1;
      this.inner = (this.inner + GOLDEN) % 1;
      return Math.round((2 * this.inner - 1) * PHASE_CORE_HALF_US);
    }
    this.outer = (this.outer + GOLDEN) % 1;
    const v = 2 * this.outer - 1;
    const from = PHASE_CORE_HALF_US + PHASE_OUTER_GAP_US;
    const magnitude = from + Math.abs(v) * (PHASE_OUTER_MAX_US - from);
    return Math.round(v < 0 ? -magnitude : magnitude);
  }
}

/**
 * The recording's `packetShareInBusiest`: the share of all packets whose arrival time modulo the
 * frame falls in the busiest window of `windowUs` (circular over the frame).
 */
export function busiestWindowShare(timesUs: ArrayLike<number>, windowUs: number, frameUs: number): number {
  const n = timesUs.length;
  if (n === 0) return 0;
  const phases = new Float64Array(n);
  for (let i = 0; i < n; i++) phases[i] = ((timesUs[i] % frameUs) + frameUs) % frameUs;
  phases.sort();
  let best = 0;
  let j = 0;
  // window [phases[i], phases[i] + windowUs), wrapping past the frame end
  for (let i = 0; i < n; i++) {
    const end = phases[i] + windowUs;
    while (j < i + n && (j < n ? phases[j] : phases[j - n] + frameUs) < end) j++;
    if (j - i > best) best = j - i;
  }
  return best / n;
}
