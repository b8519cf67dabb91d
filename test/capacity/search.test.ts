/** The capacity search on a fake judge: no load, no clock, only the order of verdicts. */
import {describe, expect, it} from '@jest/globals';
import {parseResolution, resolutionCalls, searchCapacity, type StepVerdict} from '../../src/capacity/search.js';

/** A judge that passes up to `capacity` and records every N it was asked. */
function monotone(capacity: number, extra: (n: number) => Partial<StepVerdict> = () => ({})) {
  const asked: number[] = [];
  const judge = async (n: number): Promise<StepVerdict> => {
    asked.push(n);
    return n <= capacity ? {pass: true, ...extra(n)} : {pass: false, limiting: 'lateRatio', ...extra(n)};
  };
  return {asked, judge};
}

describe('capacity search', () => {
  it('monotone: steps up by doubling, bisects to the resolution, and every PASS near the edge is judged twice', async () => {
    const {asked, judge} = monotone(185);
    const r = await searchCapacity(judge, {max: 1000, resolution: {calls: 5}});
    expect(r.stoppedBy).toBe('resolution');
    expect(r.largest).not.toBeNull();
    expect(r.largest!).toBeLessThanOrEqual(185);
    expect(r.largest!).toBeGreaterThanOrEqual(180);
    expect(r.firstFail!.n - r.largest!).toBeLessThanOrEqual(5);
    expect(r.firstFail!.limiting).toBe('lateRatio');
    expect(r.confirmed).toBe(true);
    // the step-up sequence, the first FAIL at 240, then 120 judged again before the bisection
    expect(asked.slice(0, 5)).toEqual([30, 60, 120, 240, 120]);
    // the result passed twice in a row
    const i = asked.lastIndexOf(r.largest!);
    expect(asked[i - 1]).toBe(r.largest);
    expect(r.steps.map((s) => s.n)).toEqual(asked);
    expect(r.steps[4].phase).toBe('confirm');
  });

  it('a percentage resolution is taken of the last PASS', async () => {
    const {judge} = monotone(500);
    const r = await searchCapacity(judge, {max: 2000, resolution: {percent: 2}});
    expect(r.largest!).toBeLessThanOrEqual(500);
    expect(r.firstFail!.n - r.largest!).toBeLessThanOrEqual(Math.floor(r.largest! * 0.02));
  });

  it('noisy near the edge (PASS, FAIL, PASS at one N): the result is the largest N that passed twice in a row', async () => {
    // clean up to 150; between 151 and 200 each N alternates PASS, FAIL, PASS …; above 200 FAIL
    const seen = new Map<number, number>();
    const history: Array<{n: number; pass: boolean}> = [];
    const judge = async (n: number): Promise<StepVerdict> => {
      const k = seen.get(n) ?? 0;
      seen.set(n, k + 1);
      const pass = n <= 150 || (n <= 200 && k % 2 === 0);
      history.push({n, pass});
      return pass ? {pass} : {pass, limiting: 'maxLatenessMs'};
    };
    const r = await searchCapacity(judge, {max: 400, resolution: {calls: 5}});
    expect(r.largest).not.toBeNull();
    // no N above 150 ever passed twice in a row, so the noise cannot raise the result
    expect(r.largest!).toBeLessThanOrEqual(150);
    expect(r.largest!).toBeGreaterThanOrEqual(145);
    const twice = history.some((h, i) => i > 0 && h.n === r.largest && h.pass && history[i - 1].n === r.largest && history[i - 1].pass);
    expect(twice).toBe(true);
    // every N above the result that passed once was judged again and failed
    for (const h of history.filter((x) => x.n > r.largest! && x.pass)) expect(history.filter((x) => x.n === h.n && !x.pass).length).toBeGreaterThan(0);
  });

  it('all fail: bisects below the smallest level and reports no SLA-clean N', async () => {
    const {asked, judge} = monotone(0);
    const r = await searchCapacity(judge, {max: 400, resolution: {calls: 5}});
    expect(r.largest).toBeNull();
    expect(r.stoppedBy).toBe('resolution');
    expect(asked[0]).toBe(30);
    expect(Math.max(...asked)).toBe(30);
    expect(r.firstFail!.n).toBeLessThanOrEqual(5);
  });

  it('finds a capacity below the smallest level', async () => {
    const {judge} = monotone(12);
    const r = await searchCapacity(judge, {max: 400, resolution: {calls: 2}});
    expect(r.largest!).toBeLessThanOrEqual(12);
    expect(r.largest!).toBeGreaterThanOrEqual(10);
  });

  it('--max reached: max is tried itself, judged twice, and nothing above it', async () => {
    const {asked, judge} = monotone(10_000);
    const r = await searchCapacity(judge, {max: 100, resolution: {calls: 5}});
    expect(r.stoppedBy).toBe('max');
    expect(r.largest).toBe(100);
    expect(r.firstFail).toBeNull();
    expect(asked).toEqual([30, 60, 100, 100]);
    expect(Math.max(...asked)).toBe(100);
  });

  it('a PASS at max that fails its second run is a FAIL, and the search bisects below it', async () => {
    let atMax = 0;
    const judge = async (n: number): Promise<StepVerdict> => (n === 100 ? {pass: atMax++ === 0} : {pass: true});
    const r = await searchCapacity(judge, {max: 100, resolution: {calls: 5}});
    expect(r.stoppedBy).toBe('resolution');
    expect(r.firstFail!.n).toBe(100);
    expect(r.largest!).toBeGreaterThanOrEqual(95);
    expect(r.largest!).toBeLessThan(100);
  });

  it('a leak stops it at once: the leaking step counts as a FAIL and nothing is judged after it', async () => {
    const {asked, judge} = monotone(1000, (n) => (n === 120 ? {pass: false, leaked: true, limiting: 'leakedChannels'} : {}));
    const r = await searchCapacity(judge, {max: 1000, resolution: {calls: 5}});
    expect(r.stoppedBy).toBe('leak');
    expect(asked).toEqual([30, 60, 120]);
    expect(r.largest).toBe(60);
    // 60 was never judged a second time
    expect(r.confirmed).toBe(false);
    expect(r.firstFail).toEqual({n: 120, limiting: 'leakedChannels'});
  });

  it('failed calls stop it too', async () => {
    const {asked, judge} = monotone(1000, (n) => (n === 60 ? {pass: false, failedCalls: 3, limiting: 'callsFailed'} : {}));
    const r = await searchCapacity(judge, {max: 1000, resolution: {calls: 5}});
    expect(r.stoppedBy).toBe('failed-calls');
    expect(asked).toEqual([30, 60]);
    expect(r.largest).toBe(30);
  });

  it('an abort stops before the next step; the interrupted step is listed but is not a FAIL', async () => {
    const ac = new AbortController();
    const asked: number[] = [];
    const judge = async (n: number): Promise<StepVerdict> => {
      asked.push(n);
      if (n === 120) {
        ac.abort();
        return {pass: false, limiting: 'complete'};
      }
      return {pass: true};
    };
    const r = await searchCapacity(judge, {max: 1000, resolution: {calls: 5}, signal: ac.signal});
    expect(r.stoppedBy).toBe('interrupted');
    expect(asked).toEqual([30, 60, 120]);
    expect(r.steps).toHaveLength(3);
    expect(r.firstFail).toBeNull();
    expect(r.largest).toBe(60);
  });

  it('beforeStep runs before every step (the settle time), with its phase', async () => {
    const {judge} = monotone(1000);
    const before: string[] = [];
    await searchCapacity(judge, {max: 60, resolution: {calls: 5}, beforeStep: (n, phase) => void before.push(`${phase}:${n}`)});
    expect(before).toEqual(['step-up:30', 'step-up:60', 'confirm:60']);
  });
});

describe('resolution', () => {
  it('parses calls and percentages and rejects the rest', () => {
    expect(parseResolution('5')).toEqual({calls: 5});
    expect(parseResolution('2.5%')).toEqual({percent: 2.5});
    expect(parseResolution('0')).toBeNull();
    expect(parseResolution('1.5')).toBeNull();
    expect(parseResolution('100%')).toBeNull();
    expect(parseResolution('five')).toBeNull();
  });

  it('a percentage is of the lower bound (of the upper one while there is none), at least 1 call', () => {
    expect(resolutionCalls({percent: 5}, 200, 240)).toBe(10);
    expect(resolutionCalls({percent: 5}, 0, 30)).toBe(1);
    expect(resolutionCalls({calls: 5}, 0, 30)).toBe(5);
  });
});
