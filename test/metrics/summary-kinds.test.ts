import {LatencyHistogram} from '../../src/metrics/histogram.js';
import {buildSummary} from '../../src/metrics/summary.js';
import {validateReport, type CallRecord} from '../../src/protocol/report.js';
import {buildReport} from '../helpers/report-builder.js';

const SINK = 'media server: sink (sends nothing back)';

function sinkCall(i: number, f: Partial<CallRecord>): CallRecord {
  return {
    index: i, channelId: `c${i}`, port: 5000 + i, startedAt: '2026-12-07T00:00:00.000Z', endedAt: '2026-12-07T00:00:30.000Z',
    setupMs: 1, firstMediaMs: 2, packetsUp: 1000, packetsBack: 0, lost: 0, late: 0, maxConsecutiveLate: 0,
    latenessMs: {p50: 1, p95: 2, p99: 3, p999: 4, max: 5}, rttMs: null, jitterMs: null, error: null,
    mediaServer: 'sink', nullReasons: {rttMs: SINK, jitterMs: SINK}, ...f,
  };
}

describe('the run summary by media server kind', () => {
  test('sink: ratios over the up packets delivered, rtt null with the calls\' reason, and the report validates', () => {
    const lateness = new LatencyHistogram();
    for (let v = 1; v <= 100; v++) lateness.recordUs(v * 100);
    const calls = [sinkCall(0, {late: 10, lost: 5}), sinkCall(1, {late: 0})];
    const s = buildSummary(calls, {lateness, rtt: new LatencyHistogram()}, {peakConcurrent: 2, leaked: {channels: 0, bridges: 0, ports: 0}});
    expect(s.packetsBack).toBe(0);
    expect(s.lateRatio).toBeCloseTo(10 / 2000, 9);
    expect(s.lossRatio).toBeCloseTo(5 / 2005, 9);
    expect(s.rttMs).toBeNull();
    expect(s.nullReasons).toEqual({rttMs: SINK});
    expect(s.latenessMs?.max).toBeCloseTo(10, 1);
    const report = {...buildReport({count: 2}), calls, summary: s};
    const v = validateReport(report);
    expect(v.ok ? 'valid' : v.reason).toBe('valid');
  });

  test('no call had a sample: lateness null, "no sample in any call" when the calls say nothing', () => {
    const calls = [sinkCall(0, {mediaServer: 'echo', nullReasons: undefined, latenessMs: null})];
    const s = buildSummary(calls, {lateness: new LatencyHistogram(), rtt: new LatencyHistogram()}, {peakConcurrent: 1, leaked: {channels: 0, bridges: 0, ports: 0}});
    expect(s.latenessMs).toBeNull();
    expect(s.nullReasons).toEqual({latenessMs: 'no sample in any call', rttMs: 'no sample in any call'});
  });
});
