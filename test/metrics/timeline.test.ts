import {rebinSeries, SumTimeline, Timeline, TIMELINE_MAX_BUCKETS} from '../../src/metrics/timeline.js';
import {attachTimelines, StealSampler} from '../../src/load/run-timeline.js';
import {validateReport} from '../../src/protocol/report.js';
import {stringifyReport} from '../../src/metrics/report-file.js';
import {buildReport, prng} from '../helpers/report-builder.js';

/** A Timeline whose monotonic 0 is epoch 0 (bucket k = [k s, k+1 s)). */
const at0 = () => new Timeline(0);

describe('Timeline: per-bucket worst lateness, late frames and their leg on the epoch grid', () => {
  test('frames land in the 1 s bucket of their receive time; the worst, the late count and the dominant leg per bucket', () => {
    const t = at0();
    t.note(10_200_000, 3_000, null); // bucket 10
    t.note(10_900_000, 45_000, 'm');
    t.note(10_950_000, 25_000, 'a');
    t.note(10_960_000, 30_000, 'a');
    t.note(12_000_000, 1_234, null); // bucket 12; bucket 11 empty
    expect(t.series()).toEqual({first: 10, worstMs: [45, null, 1.2], late: [3, 0, 0], leg: 'a--'});
    expect(t.bucketMs).toBe(1000);
  });

  test('a tie between legs goes to the earlier leg on the path; an earlier frame opens buckets before the first', () => {
    const t = at0();
    t.note(5_500_000, 30_000, 'b');
    t.note(5_600_000, 30_000, 'r');
    t.note(3_100_000, 500, null);
    expect(t.series()).toEqual({first: 3, worstMs: [0.5, null, 30], late: [0, 0, 2], leg: '--r'});
  });

  test('a call longer than the bucket limit doubles the width: no series holds more than the limit, and worst/late merge exactly', () => {
    const t = new Timeline(0, 4);
    for (let s = 0; s < 9; s++) t.note(s * 1e6 + 1, s * 1000, s === 7 ? 'm' : null);
    const s = t.series()!;
    expect(t.bucketMs).toBe(4000);
    expect(s).toEqual({first: 0, worstMs: [3, 7, 8], late: [0, 1, 0], leg: '-m-'});
    expect(s.late.length).toBeLessThanOrEqual(4);
  });

  test('the 1800-bucket cap holds for an hour-long call', () => {
    const t = at0();
    for (let s = 0; s < 3600; s += 0.5) t.note(s * 1e6, 1000, null);
    expect(t.series()!.worstMs.length).toBeLessThanOrEqual(TIMELINE_MAX_BUCKETS);
    expect(t.bucketMs).toBe(2000);
  });

  test('no frame, no series', () => {
    expect(at0().series()).toBeNull();
  });

  test('rebinSeries merges to a wider grid: worst of worst, late summed, the leg of the bucket with most late frames', () => {
    const s = {first: 7, worstMs: [1, null, 30, 40, null], late: [0, 0, 2, 5, 0], leg: '--am-'};
    // buckets 7…11 → 3, 4, 4, 5, 5 at 2 s; 1, 2, 2, 2, 2 at 4 s
    expect(rebinSeries(s, 1000, 2000)).toEqual({first: 3, worstMs: [1, 30, 40], late: [0, 2, 5], leg: '-am'});
    expect(rebinSeries(s, 1000, 4000)).toEqual({first: 1, worstMs: [1, 40], late: [0, 7], leg: '-m'});
  });
});

describe('the run timeline', () => {
  test('steal is sampled per bucket and lands in the bucket of its interval; unreadable steal is null', () => {
    let now = 100_000.0;
    let steal: number | null = 0;
    const s = new StealSampler(() => steal, () => now);
    s.start();
    now = 101_000;
    steal = 7000; // 7 ms
    s.sample();
    now = 102_000;
    steal = null;
    s.sample();
    expect(s.steal.first).toBe(100);
    expect(s.steal.values()).toEqual([7, null]);
  });

  test('attachTimelines brings every call to the widest series width and joins the caller side in', () => {
    const report = buildReport({count: 2});
    const [a, b] = report.calls;
    a.timeline = {bucketMs: 1000, relay: {first: 10, worstMs: [1, 2, 3, 4], late: [0, 0, 1, 1], leg: '--rr'}};
    b.timeline = {bucketMs: 2000, relay: {first: 5, worstMs: [5, 6], late: [0, 3], leg: '-m'}};
    const callerOfA = at0();
    callerOfA.note(13_500_000, 50_000, 'b');
    const steal = new SumTimeline();
    steal.add(10_000, 1);
    steal.add(13_000, 2);
    const run = attachTimelines(report.calls, new Map([[0, callerOfA]]), steal);
    expect(run).toEqual({bucketMs: 2000, first: 5, stealMs: [1, 2]});
    expect(a.timeline).toEqual({
      bucketMs: 2000,
      relay: {first: 5, worstMs: [2, 4], late: [0, 2], leg: '-r'},
      caller: {first: 6, worstMs: [50], late: [1], leg: 'b'},
    });
    expect(b.timeline).toEqual({bucketMs: 2000, relay: {first: 5, worstMs: [5, 6], late: [0, 3], leg: '-m'}});
    expect(validateReport({...report, timeline: run}).ok).toBe(true);
  });

  test('a 150-call × 30 s report grows by less than 200 kB with both sides timed, and stays valid', () => {
    const report = buildReport({count: 150});
    const before = stringifyReport(report).length;
    const rand = prng(7);
    const first = Math.floor(Date.parse(report.startedAt) / 1000);
    const series = () => {
      const worstMs = Array.from({length: 31}, () => Math.round(rand() * 4000) / 10);
      const late = worstMs.map((w) => (w > 20 ? Math.floor(rand() * 50) : 0));
      return {first, worstMs, late, leg: late.map((n) => (n === 0 ? '-' : 'armb'[Math.floor(rand() * 4)])).join('')};
    };
    for (const c of report.calls) c.timeline = {bucketMs: 1000, relay: series(), caller: series()};
    const withTimeline = {...report, timeline: {bucketMs: 1000, first, stealMs: Array.from({length: 31}, () => Math.round(rand() * 100) / 10)}};
    expect(validateReport(withTimeline).ok).toBe(true);
    // the report file is written pretty-printed (src/metrics/report-file.ts)
    const growth = stringifyReport(withTimeline).length - before;
    expect(growth).toBeGreaterThan(0);
    expect(growth).toBeLessThan(200_000);
  });
});

test('the report file keeps each timeline array on one line, and reads back as the same report', () => {
  const report = buildReport({count: 1, runId: 'r'});
  report.calls[0].timeline = {bucketMs: 1000, relay: {first: 5, worstMs: [1.5, null, -0.2, 3e-7], late: [0, 1, 0, 0], leg: '-a--'}};
  report.notes = ['a note with [1, 2] in it'];
  const text = stringifyReport(report);
  expect(text).toContain('"worstMs": [1.5,null,-0.2,3e-7]');
  expect(text).toContain('"late": [0,1,0,0]');
  expect(text).toContain('a note with [1, 2] in it');
  expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(report)));
});

test('the relay\'s CallMeter notes every judged back packet into its timeline, a late one under its leg', async () => {
  const {CallMeter} = await import('../../src/metrics/call-stats.js');
  const meter = new CallMeter(8000, 20);
  const t = new Timeline(0);
  meter.timeline = t;
  for (let i = 0; i < 100; i++) {
    const tUs = 10_000_000 + i * 20_000;
    meter.upFields(1, i, i * 160, 0, false, 172, tUs, tUs + 100);
    // frame 60 (at 11.2 s) comes back from the media server 50 ms late
    const rttUs = i === 60 ? 50_000 : 1_000;
    meter.backFields(1, i, i * 160, 0, false, 172, tUs + 100 + rttUs, tUs + 200 + rttUs);
  }
  meter.finish();
  const s = t.series()!;
  expect(s.first).toBe(10);
  expect(s.late).toEqual([0, 1]);
  expect(s.leg).toBe('-m');
  expect(s.worstMs[1]).toBeGreaterThan(45);
  expect(s.worstMs[0]).toBeLessThan(5);
});
