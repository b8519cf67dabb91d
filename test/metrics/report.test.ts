import {existsSync, readFileSync, readdirSync} from 'node:fs';
import path from 'node:path';
import {InputError, RtpslaError} from '../../src/errors.js';
import {LatencyHistogram} from '../../src/metrics/histogram.js';
import {REPORT_SCHEMA_ID, formatPath, validateReport, type CallRecord} from '../../src/protocol/report.js';
import {buildSummary, encodeHistograms, safeRatio} from '../../src/metrics/summary.js';
import {readReportFile, writeReportAtomic} from '../../src/metrics/report-file.js';
import {ROOT} from '../helpers/cli.js';
import {buildReport, modify, tempDir, writeJson} from '../helpers/report-builder.js';

const SPEC_EXAMPLE = path.join(ROOT, 'test', 'fixtures', 'reports', 'spec-example.json');

function reasonOf(json: unknown): string {
  const r = validateReport(json);
  if (r.ok) throw new Error('expected the report to be rejected');
  return r.reason;
}

describe('validateReport', () => {
  const good = buildReport({count: 30});

  test('a complete report passes and keeps its data', () => {
    const r = validateReport(JSON.parse(JSON.stringify(good)));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.report.schema).toBe(REPORT_SCHEMA_ID);
      expect(r.report.calls).toHaveLength(30);
      expect(r.report.summary.peakConcurrent).toBe(30);
    }
  });

  test('a missing required field is named by its JSON path', () => {
    expect(reasonOf(modify(good, (r) => delete (r.summary as Record<string, unknown>).lossRatio))).toBe('summary.lossRatio: required');
    expect(reasonOf(modify(good, (r) => delete (r.target as Record<string, unknown>).asterisk))).toBe('target.asterisk: required');
  });

  test('a required-but-nullable field (calls[].error) must be present', () => {
    const reason = reasonOf(modify(good, (r) => delete (r.calls[3] as Record<string, unknown>).error));
    expect(reason).toBe('calls[3].error: required');
  });

  test('a wrong type says what was expected and what was found', () => {
    const reason = reasonOf(modify(good, (r) => ((r.summary as Record<string, unknown>).lossRatio = '0.1')));
    expect(reason).toBe('summary.lossRatio: expected number, got string');
  });

  test('several problems are listed in one line, first ones first', () => {
    const reason = reasonOf(
      modify(good, (r) => {
        (r.summary as Record<string, unknown>).lossRatio = 'x';
        delete (r.calls[3] as Record<string, unknown>).error;
      }),
    );
    expect(reason).toBe('summary.lossRatio: expected number, got string; calls[3].error: required');
    expect(reason).not.toContain('\n');
  });

  test('many problems are capped with a count of the rest', () => {
    const reason = reasonOf({schema: REPORT_SCHEMA_ID});
    expect(reason).toMatch(/^runId: required; tool: required; startedAt: required; … and \d+ more$/);
  });

  test('the schema id must be rtpsla.report/v1', () => {
    expect(reasonOf(modify(good, (r) => ((r as Record<string, unknown>).schema = 'rtpsla.report/v2')))).toBe(
      'schema: expected "rtpsla.report/v1", got "rtpsla.report/v2"',
    );
  });

  test('values out of range and bad timestamps are rejected', () => {
    expect(reasonOf(modify(good, (r) => (r.summary.lossRatio = 1.5)))).toBe('summary.lossRatio: 1.5 is above the maximum 1');
    expect(reasonOf(modify(good, (r) => (r.summary.lost = -1)))).toBe('summary.lost: -1 is below the minimum 0');
    expect(reasonOf(modify(good, (r) => (r.startedAt = 'yesterday')))).toBe('startedAt: expected an ISO-8601 date-time, got "yesterday"');
    expect(reasonOf(modify(good, (r) => (r.histograms.rttUs = 'not base64!')))).toMatch(/^histograms\.rttUs: /);
  });

  test('non-objects are rejected at the top level', () => {
    expect(reasonOf([])).toBe('(top level): expected object, got array');
    expect(reasonOf(null)).toBe('(top level): expected object, got null');
    expect(reasonOf('{}')).toBe('(top level): expected object, got string');
  });

  test('unknown extra fields are allowed at every level and kept', () => {
    const extra = modify(good, (r) => {
      Object.assign(r, {futureField: {a: 1}});
      Object.assign(r.summary, {uplinkGaps: 3});
      Object.assign(r.summary.latenessMs!, {p90: 1.2});
      Object.assign(r.calls[0], {codec: 'ulaw'});
      Object.assign(r.target, {host: 'pbx1'});
    });
    const r = validateReport(extra);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect((r.report as Record<string, unknown>).futureField).toEqual({a: 1});
      expect((r.report.calls[0] as Record<string, unknown>).codec).toBe('ulaw');
    }
  });

  test('partial is optional but must be a boolean', () => {
    expect(validateReport(modify(good, (r) => (r.partial = true))).ok).toBe(true);
    expect(reasonOf(modify(good, (r) => ((r as Record<string, unknown>).partial = 'yes')))).toBe('partial: expected boolean, got string');
  });

  test('loadHost is optional; its stalls, when present, are checked like the rest', () => {
    const stalls = {thresholdMs: 10, count: 2, totalMs: 41.5, maxMs: 30.1, events: [{atMs: 1200.5, stallMs: 11.4}, {atMs: 9000, stallMs: 30.1}]};
    expect(validateReport(modify(good, (r) => void delete r.loadHost)).ok).toBe(true);
    expect(validateReport(modify(good, (r) => void (r.loadHost = {cpus: 2, stealMs: 12}))).ok).toBe(true);
    expect(validateReport(modify(good, (r) => void (r.loadHost = {cpus: 2, stealMs: 12, stalls}))).ok).toBe(true);
    expect(reasonOf(modify(good, (r) => void (r.loadHost = {cpus: 2, stealMs: 12, stalls: {...stalls, count: -1}})))).toMatch(/^loadHost\.stalls\.count: /);
    expect(reasonOf(modify(good, (r) => void (r.loadHost = {cpus: 2, stealMs: 12, stalls: {...stalls, events: [{atMs: 5} as {atMs: number; stallMs: number}]}})))).toMatch(
      /^loadHost\.stalls\.events\[0\]\.stallMs: /,
    );
  });

  test('a failed call may carry nulls for what it never reached', () => {
    const failed = modify(good, (r) => {
      Object.assign(r.calls[0], {channelId: null, port: null, setupMs: null, firstMediaMs: null, error: 'originate: 500'});
    });
    expect(validateReport(failed).ok).toBe(true);
  });

  test('formatPath renders array indexes with brackets', () => {
    expect(formatPath(['calls', 3, 'latenessMs', 'p99'])).toBe('calls[3].latenessMs.p99');
    expect(formatPath([])).toBe('');
  });
});

describe('readReportFile', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  test('the report-schema-shaped fixture validates and its histograms decode to its summary percentiles', () => {
    const r = readReportFile(SPEC_EXAMPLE);
    expect(r.target.asterisk).toBe('22.10.1');
    const lateness = LatencyHistogram.fromBase64(r.histograms.latenessUs);
    expect(lateness.count).toBe(r.summary.packetsBack);
    const {max: _max, ...p} = lateness.percentilesMs();
    const {max: _smax, ...sp} = r.summary.latenessMs!;
    expect(p).toEqual(sp);
  });

  test('reads a valid file', () => {
    const file = writeJson(t.dir, 'ok.json', buildReport({count: 30, runId: 'ok'}));
    expect(readReportFile(file).runId).toBe('ok');
  });

  test('invalid JSON, missing files and schema failures are InputErrors naming the path', () => {
    const bad = writeJson(t.dir, 'bad.json', '{"schema": ');
    expect(() => readReportFile(bad)).toThrow(InputError);
    expect(() => readReportFile(bad)).toThrow(new RegExp(`^${bad.replace(/[.\\/]/g, '\\$&')}: not valid JSON: `));
    const missing = path.join(t.dir, 'nope.json');
    expect(() => readReportFile(missing)).toThrow(`${missing}: no such file`);
    const invalid = writeJson(t.dir, 'invalid.json', modify(buildReport(), (r) => delete (r as Record<string, unknown>).calls));
    expect(() => readReportFile(invalid)).toThrow(`${invalid}: not a valid rtpsla.report/v1 report: calls: required`);
  });
});

describe('writeReportAtomic', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  test('creates the directory, writes <runId>.json and leaves no temp file', () => {
    const dir = path.join(t.dir, 'nested', 'reports');
    const report = buildReport({count: 30, runId: 'run-a'});
    const written = writeReportAtomic(dir, 'run-a', report);
    expect(written).toBe(path.join(dir, 'run-a.json'));
    expect(readdirSync(dir)).toEqual(['run-a.json']);
    expect(JSON.parse(readFileSync(written, 'utf8'))).toEqual(report);
    expect(readReportFile(written).runId).toBe('run-a');
  });

  test('overwrites an existing report atomically', () => {
    const dir = path.join(t.dir, 'over');
    writeReportAtomic(dir, 'r', buildReport({count: 30, runId: 'r'}));
    writeReportAtomic(dir, 'r', buildReport({count: 100, runId: 'r'}));
    expect(readdirSync(dir)).toEqual(['r.json']);
    expect(readReportFile(path.join(dir, 'r.json')).params.count).toBe(100);
  });

  test('refuses an invalid report and writes nothing', () => {
    const dir = path.join(t.dir, 'refused');
    const invalid = modify(buildReport(), (r) => ((r.summary as Record<string, unknown>).callsFailed = 'none'));
    expect(() => writeReportAtomic(dir, 'x', invalid)).toThrow(RtpslaError);
    expect(() => writeReportAtomic(dir, 'x', invalid)).toThrow(/summary\.callsFailed: expected number, got string/);
    expect(existsSync(path.join(dir, 'x.json'))).toBe(false);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  test('refuses a run id that is not a plain file name', () => {
    expect(() => writeReportAtomic(t.dir, '../escape', buildReport())).toThrow(/not usable as a file name/);
  });
});

describe('buildSummary', () => {
  function call(i: number, f: Partial<CallRecord>): CallRecord {
    const zero = {p50: 0, p95: 0, p99: 0, p999: 0, max: 0};
    return {
      index: i,
      channelId: `c${i}`,
      port: 5000 + i,
      startedAt: '2025-01-01T00:00:00.000Z',
      endedAt: '2025-01-01T00:00:30.000Z',
      setupMs: 1,
      firstMediaMs: 2,
      packetsUp: 0,
      packetsBack: 0,
      lost: 0,
      late: 0,
      maxConsecutiveLate: 0,
      latenessMs: zero,
      rttMs: zero,
      jitterMs: 0,
      error: null,
      ...f,
    };
  }

  test('sums counters, takes the max streak, derives ratios and uses the merged histograms', () => {
    const lat = new LatencyHistogram();
    const rtt = new LatencyHistogram();
    for (let v = 1; v <= 1000; v++) lat.recordUs(v * 10);
    rtt.recordUs(1500);
    const calls = [
      call(0, {packetsUp: 1000, packetsBack: 990, lost: 10, late: 5, maxConsecutiveLate: 2}),
      call(1, {packetsUp: 1000, packetsBack: 1000, lost: 0, late: 0, maxConsecutiveLate: 1}),
      call(2, {error: 'addChannel: 422'}),
    ];
    const s = buildSummary(calls, {lateness: lat, rtt}, {peakConcurrent: 2, leaked: {channels: 1, bridges: 0, ports: 0}});
    expect(s).toMatchObject({
      callsAttempted: 3,
      callsAnswered: 2,
      callsFailed: 1,
      peakConcurrent: 2,
      packetsUp: 2000,
      packetsBack: 1990,
      lost: 10,
      late: 5,
      maxConsecutiveLate: 2,
      leaked: {channels: 1, bridges: 0, ports: 0},
    });
    expect(s.lossRatio).toBeCloseTo(10 / 2000, 12);
    expect(s.lateRatio).toBeCloseTo(5 / 1990, 12);
    expect(s.latenessMs).toEqual(lat.percentilesMs());
    expect(s.latenessMs?.max).toBeCloseTo(10, 1);
    expect(s.rttMs?.p50).toBeCloseTo(1.5, 2);
  });

  test('ratios are 0 when nothing came back', () => {
    const s = buildSummary([call(0, {})], {lateness: new LatencyHistogram(), rtt: new LatencyHistogram()}, {peakConcurrent: 1, leaked: {channels: 0, bridges: 0, ports: 0}});
    expect(s.lossRatio).toBe(0);
    expect(s.lateRatio).toBe(0);
    expect(safeRatio(3, 0)).toBe(0);
  });

  test('a report built from buildSummary validates', () => {
    expect(validateReport(buildReport({count: 100})).ok).toBe(true);
  });

  test('legs (docs/measurement.md): lateBy summed over calls, run percentiles from the merged leg histograms, histograms encoded', () => {
    const lat = new LatencyHistogram();
    const rtt = new LatencyHistogram();
    const up = new LatencyHistogram();
    const hold = new LatencyHistogram();
    for (let v = 1; v <= 1000; v++) up.recordUs(v * 30);
    for (let v = 1; v <= 1000; v++) hold.recordUs(v % 50);
    const calls = [
      call(0, {late: 7, lateBy: {asterisk: 5, relay: 0, mediaServer: 2}}),
      call(1, {late: 4, lateBy: {asterisk: 1, relay: 1, mediaServer: 2}}),
      call(2, {error: 'addChannel: 422'}),
    ];
    const merged = {lateness: lat, rtt, upLateness: up, relayHold: hold};
    const s = buildSummary(calls, merged, {peakConcurrent: 2, leaked: {channels: 0, bridges: 0, ports: 0}});
    expect(s.lateBy).toEqual({asterisk: 6, relay: 1, mediaServer: 4});
    expect(s.upLatenessMs).toEqual(up.percentilesMs());
    expect(s.upLatenessMs!.max).toBe(30);
    expect(s.relayHoldMs).toEqual(hold.percentilesMs());
    const h = encodeHistograms(merged);
    expect(LatencyHistogram.fromBase64(h.upLatenessUs!).count).toBe(1000);
    expect(LatencyHistogram.fromBase64(h.relayHoldUs!).count).toBe(1000);
  });

  test('without legs (older producers) the summary and histograms carry none', () => {
    const s = buildSummary([call(0, {})], {lateness: new LatencyHistogram(), rtt: new LatencyHistogram()}, {peakConcurrent: 1, leaked: {channels: 0, bridges: 0, ports: 0}});
    expect(s).not.toHaveProperty('lateBy');
    expect(s).not.toHaveProperty('upLatenessMs');
    expect(encodeHistograms({lateness: new LatencyHistogram(), rtt: new LatencyHistogram()})).not.toHaveProperty('upLatenessUs');
  });

  test('a leak check that could not be made: null figures and the reason, and the report validates', () => {
    const s = buildSummary([call(0, {})], {lateness: new LatencyHistogram(), rtt: new LatencyHistogram()}, {
      peakConcurrent: 1,
      leaked: {channels: null, bridges: null, ports: null},
      leakCheckError: 'leak check failed: connect ECONNREFUSED',
    });
    expect(s.leaked).toEqual({channels: null, bridges: null, ports: null});
    expect(s.leakCheckError).toBe('leak check failed: connect ECONNREFUSED');
    expect(validateReport(modify(buildReport({count: 30}), (r) => (r.summary = {...s, peakConcurrent: 30}))).ok).toBe(true);
  });

  test('additive v1 fields validate, old reports without them stay valid, and wrong values are still rejected', () => {
    const withLegs = buildReport({count: 30, legs: {lateBy: {asterisk: 1, relay: 0, mediaServer: 0}, engine: 'native'}});
    expect(validateReport(JSON.parse(JSON.stringify(withLegs))).ok).toBe(true);
    expect(withLegs.calls[0]).toMatchObject({payloadType: 0, packetBytes: 172, lateBy: {asterisk: 1, relay: 0, mediaServer: 0}});
    expect(validateReport(JSON.parse(readFileSync(SPEC_EXAMPLE, 'utf8'))).ok).toBe(true);
    expect(reasonOf(modify(withLegs, (r) => ((r.tool as Record<string, unknown>).engine = 'rust')))).toBe('tool.engine: expected "native" or "node", got "rust"');
    expect(reasonOf(modify(withLegs, (r) => (r.summary.lateBy!.relay = -1)))).toBe('summary.lateBy.relay: -1 is below the minimum 0');
    expect(reasonOf(modify(withLegs, (r) => ((r.summary.leaked as Record<string, unknown>).ports = 'unknown')))).toBe('summary.leaked.ports: expected number, got string');
  });
});
