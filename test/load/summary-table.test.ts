import {renderSummaryTable} from '../../src/load/summary-table.js';
import {buildReport, modify} from '../helpers/report-builder.js';

describe('load summary table', () => {
  test('shows the steal of the machine that ran load and every note of the report', () => {
    const report = modify(buildReport(), (r) => {
      r.loadHost = {cpus: 2, stealMs: 1234};
      r.notes = ['peak concurrency was 3 of 6 calls', 'the machine that ran load lost 1234 ms of CPU time'];
    });
    const text = renderSummaryTable(report, 'reports/x.json');
    expect(text).toMatch(/CPU steal on this machine\s*│\s*1234 ms \(2 CPUs\)/);
    const lines = text.split('\n');
    expect(lines.at(-2)).toBe('note: peak concurrency was 3 of 6 calls');
    expect(lines.at(-1)).toBe('note: the machine that ran load lost 1234 ms of CPU time');
    expect(text).toMatch(/│ report\s*│ reports\/x\.json\s*│/);
  });

  test('notes: false leaves the notes out (the pipeline prints them under the SLA table)', () => {
    const report = modify(buildReport(), (r) => void (r.notes = ['peak concurrency was 3 of 6 calls']));
    const text = renderSummaryTable(report, 'reports/x.json', {notes: false});
    expect(text).not.toContain('peak concurrency');
    expect(text.split('\n').at(-1)).toMatch(/^└/);
    expect(renderSummaryTable(report, 'reports/x.json')).toContain('note: peak concurrency was 3 of 6 calls');
  });

  test('the legs: arrival from Asterisk, the relay hold with its engine, late packets by leg; unknown leaks with the reason', () => {
    const report = modify(buildReport({legs: {lateBy: {asterisk: 3, relay: 0, mediaServer: 1}, engine: 'native'}}), (r) => {
      r.summary.leaked = {channels: null, bridges: null, ports: null};
      r.summary.leakCheckError = 'leak check failed: connect ECONNREFUSED';
    });
    const text = renderSummaryTable(report, 'r.json');
    const s = report.summary;
    expect(text).toContain(`arrival from Asterisk ms p50 / p99 / max │ ${s.upLatenessMs!.p50.toFixed(2)} / ${s.upLatenessMs!.p99.toFixed(2)} / ${s.upLatenessMs!.max.toFixed(2)}`);
    expect(text).toMatch(/relay hold ms p50 \/ p99 \/ max \(native\)\s*│ 0\.0\d \/ 0\.0\d \/ 0\.0\d/);
    expect(text).toMatch(/late by asterisk \/ media server \/ relay\s*│ 90 \/ 30 \/ 0/);
    expect(text).toMatch(/leaked channels \/ bridges \/ ports\s*│ unknown \(leak check failed: connect ECONNREFUSED\)/);
    expect(renderSummaryTable(buildReport(), 'r.json')).not.toContain('relay hold');
  });

  test('a report without them has neither row', () => {
    const text = renderSummaryTable(buildReport(), 'reports/y.json');
    expect(text).not.toContain('CPU steal');
    expect(text).not.toMatch(/^note: /m);
    expect(text.split('\n').at(-1)).toMatch(/^└/);
  });

  test("load's own stalls: how many, the longest and the total, or never", () => {
    const stalls = {thresholdMs: 10, count: 3, totalMs: 71.2, maxMs: 38.5, events: []};
    const text = renderSummaryTable(modify(buildReport(), (r) => void (r.loadHost = {cpus: 2, stealMs: 0, stalls})), 'r.json');
    expect(text).toMatch(/load stalled ≥ 10 ms\s*│\s*3× \(longest 38\.5 ms, 71\.2 ms in all\)/);
    const none = {thresholdMs: 10, count: 0, totalMs: 0, maxMs: 0, events: []};
    expect(renderSummaryTable(modify(buildReport(), (r) => void (r.loadHost = {cpus: 2, stealMs: 0, stalls: none})), 'r.json')).toMatch(
      /load stalled ≥ 10 ms\s*│\s*never/,
    );
    expect(renderSummaryTable(modify(buildReport(), (r) => void (r.loadHost = {cpus: 2, stealMs: 0})), 'r.json')).not.toContain('load stalled');
  });

  test('steal that could not be read says so', () => {
    const text = renderSummaryTable(modify(buildReport(), (r) => void (r.loadHost = {cpus: 4, stealMs: null})), 'r.json');
    expect(text).toMatch(/CPU steal on this machine\s*│\s*not readable/);
  });
});
