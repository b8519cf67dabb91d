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
    expect(text).toContain('peak concurrency was 3 of 6 calls');
    expect(text).toContain('lost 1234 ms of CPU time');
    expect(text).toContain('reports/x.json');
  });

  test('a report without them has neither row', () => {
    const text = renderSummaryTable(buildReport(), 'reports/y.json');
    expect(text).not.toContain('CPU steal');
    expect(text).not.toMatch(/│ note /);
  });

  test('steal that could not be read says so', () => {
    const text = renderSummaryTable(modify(buildReport(), (r) => void (r.loadHost = {cpus: 4, stealMs: null})), 'r.json');
    expect(text).toMatch(/CPU steal on this machine\s*│\s*not readable/);
  });
});
