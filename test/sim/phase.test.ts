/**
 * The sim's per-stream start phase against Asterisk's recorded spread
 * (fixtures/rtp-phase-and-pacing.json): N streams started 20 ms apart, as recorded, each with the
 * offset the sim's model draws for it, scheduled by MediaStream (start + k × 20 ms), measured
 * with the recording's own method: share of all packets in the busiest 5 ms of the 20 ms frame,
 * and each stream's deviation from the streams' circular mean phase. Pure: no sockets, no clock.
 */
import {describe, expect, it} from '@jest/globals';
import {FRAME_US, MediaStream} from '../../src/media/source/node.js';
import {busiestWindowShare, PHASE_OUTER_MAX_US, StartPhaseModel} from '../../src/sim/phase.js';
import {SimRng} from '../../src/sim/rng.js';
import {readJson} from './helpers.js';

interface PhaseRun {
  phase: {streams: number; packetShareInBusiest: {'5ms': number}; phaseDeviationMs: {p05: number; p95: number}};
}
const recording = readJson<{method: string; runs: Record<string, PhaseRun>}>('rtp-phase-and-pacing.json');
const realRuns = (streams: number): PhaseRun[] =>
  Object.entries(recording.runs)
    .filter(([name, r]) => name.includes('real') && r.phase.streams === streams)
    .map(([, r]) => r);

/** Calls originated 20 ms apart and held 12 s (as recorded): every packet's send time, µs. */
function schedule(seed: number, streams: number, holdMs = 12_000): {times: Float64Array; phasesUs: number[]} {
  const model = new StartPhaseModel(new SimRng(seed));
  const perStream = holdMs / (FRAME_US / 1000);
  const times = new Float64Array(streams * perStream);
  const phasesUs: number[] = [];
  const t0 = 5_000_000 + 7_345; // any origin: the sim's natural phase is arbitrary
  for (let i = 0; i < streams; i++) {
    const s = new MediaStream({
      id: `s${i}`, name: `s${i}`, format: 'ulaw', localAddress: '127.0.0.1', port: 10_000 + 2 * i, remoteAddress: '127.0.0.1',
      remotePort: 30_000, externalHost: '127.0.0.1:30000', ssrc: i, firstSeq: 0, startOffsetUs: model.nextOffsetUs(i + 1),
    });
    s.start(t0 + i * FRAME_US);
    for (let k = 0; k < perStream; k++) times[i * perStream + k] = s.nextDeadlineUs + k * FRAME_US;
    phasesUs.push(s.nextDeadlineUs % FRAME_US);
  }
  return {times, phasesUs};
}

/** phaseDeviationMs of the recording: each stream's phase minus the circular mean of all. */
function deviationsMs(phasesUs: number[]): number[] {
  let x = 0;
  let y = 0;
  for (const p of phasesUs) {
    x += Math.cos((2 * Math.PI * p) / FRAME_US);
    y += Math.sin((2 * Math.PI * p) / FRAME_US);
  }
  const meanUs = ((Math.atan2(y, x) / (2 * Math.PI)) * FRAME_US + FRAME_US) % FRAME_US;
  return phasesUs
    .map((p) => {
      let d = p - meanUs;
      if (d > FRAME_US / 2) d -= FRAME_US;
      if (d < -FRAME_US / 2) d += FRAME_US;
      return d / 1000;
    })
    .sort((a, b) => a - b);
}

const quantile = (sorted: number[], q: number): number => sorted[Math.round(q * (sorted.length - 1))];
const SEEDS = Array.from({length: 40}, (_, i) => i * 7919 + 1);

describe('sim stream start phase (rtp-phase-and-pacing.json)', () => {
  it('measures shares the way the recording says it does', () => {
    expect(recording.method).toContain('packetShareInBusiest = share of all packets in the busiest 1 ms / 5 ms window of the 20 ms frame');
    // a uniform spread gives the recording's "uniform" reference, 25 % in 5 ms
    const uniform = Array.from({length: 2000}, (_, i) => i * 10 + 3);
    expect(busiestWindowShare(uniform, 5_000, FRAME_US)).toBeCloseTo(0.25, 2);
    // the window wraps around the frame end: 19.0 ms and 1.0 ms are 2 ms apart
    expect(busiestWindowShare([19_000, 21_000, 41_000, 10_000], 2_500, FRAME_US)).toBe(0.75);
  });

  it('at 30 calls keeps the streams in phase: the busiest 5 ms holds the recorded share (±1 stream of 30)', () => {
    const [real] = realRuns(30);
    const recorded = real.phase.packetShareInBusiest['5ms'];
    expect(recorded).toBeCloseTo(0.929, 3);
    for (const seed of SEEDS) {
      const share = busiestWindowShare(schedule(seed, 30).times, 5_000, FRAME_US);
      expect({seed, ok: Math.abs(share - recorded) <= 1 / 30}).toEqual({seed, ok: true});
    }
  });

  it('at 150 calls spreads them as recorded: busiest 5 ms within the three real runs, phases over about ±5 ms', () => {
    const runs = realRuns(150);
    expect(runs.length).toBe(3);
    const shares = runs.map((r) => r.phase.packetShareInBusiest['5ms']);
    const [low, high] = [Math.min(...shares), Math.max(...shares)];
    const p05s = runs.map((r) => r.phase.phaseDeviationMs.p05);
    const p95s = runs.map((r) => r.phase.phaseDeviationMs.p95);
    for (const seed of SEEDS) {
      const {times, phasesUs} = schedule(seed, 150);
      const share = busiestWindowShare(times, 5_000, FRAME_US);
      expect({seed, share, inBand: share >= low && share <= high}).toEqual({seed, share, inBand: true});
      const dev = deviationsMs(phasesUs);
      expect({seed, p05: quantile(dev, 0.05) >= Math.min(...p05s) && quantile(dev, 0.05) <= Math.max(...p05s)}).toEqual({seed, p05: true});
      expect({seed, p95: quantile(dev, 0.95) >= Math.min(...p95s) && quantile(dev, 0.95) <= Math.max(...p95s)}).toEqual({seed, p95: true});
      expect(Math.max(...dev.map(Math.abs))).toBeLessThanOrEqual(PHASE_OUTER_MAX_US / 1000 + 0.5);
    }
  });

  it('is deterministic under a seed and differs between seeds', () => {
    const draw = (seed: number): number[] => {
      const m = new StartPhaseModel(new SimRng(seed));
      return Array.from({length: 60}, (_, i) => m.nextOffsetUs(i + 1));
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    for (const v of draw(42)) expect(Math.abs(v)).toBeLessThanOrEqual(PHASE_OUTER_MAX_US);
  });
});
