import {readFileSync, readdirSync} from 'node:fs';
import path from 'node:path';
import {Chalk} from 'chalk';
import {evaluateFiles} from '../../src/sla/run.js';
import {renderJson, renderJunit, renderTable, stdoutColorLevel, writeFileAtomic, xmlEscape} from '../../src/sla/render.js';
import {buildReport, modify, tempDir, writeJson} from '../helpers/report-builder.js';
import {findAll, parseXml} from './xml.js';

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[`); // ESC [

describe('sla rendering', () => {
  const t = tempDir('rtpsla-render-');
  let good: string;
  let failing: string;
  let bad: string;
  beforeAll(() => {
    good = writeJson(t.dir, 'good.json', buildReport({count: 30, runId: 'good'}));
    failing = writeJson(
      t.dir,
      'failing.json',
      modify(buildReport({count: 100, runId: 'fail<&>"x"', packetsPerCall: 10}), (r) => {
        r.summary.latenessMs!.max = 30;
        r.summary.leaked.ports = 2;
      }),
    );
    bad = writeJson(t.dir, 'bad.json', '{"schema": "rtpsla.report/v1"');
  });
  afterAll(() => t.cleanup());

  test("a report's notes follow the table (and are in --json); the verdict does not change", () => {
    const noted = writeJson(
      t.dir,
      'noted.json',
      modify(buildReport({count: 30, runId: 'noted'}), (r) => {
        r.notes = ['the machine that ran load lost 860 ms of CPU time to its hypervisor during the run'];
      }),
    );
    const o = evaluateFiles([noted, good]);
    expect(o.exitCode).toBe(0);
    const text = renderTable(o);
    const lines = text.trimEnd().split('\n');
    expect(lines.at(-2)).toBe('note (noted): the machine that ran load lost 860 ms of CPU time to its hypervisor during the run');
    expect(lines.at(-1)).toMatch(/^SLA PASS/);
    expect(text.match(/^note /gm)).toHaveLength(1); // "good" has none
    const json = renderJson(o) as {reports: Array<{runId: string; notes: string[]}>};
    expect(json.reports.map((r) => [r.runId, r.notes.length])).toEqual([
      ['noted', 1],
      ['good', 0],
    ]);
  });

  test('outcome totals and exit codes: invalid input (2) wins over failed checks (1)', () => {
    expect(evaluateFiles([good]).exitCode).toBe(0);
    expect(evaluateFiles([good, failing]).exitCode).toBe(1);
    const o = evaluateFiles([good, failing, bad]);
    expect(o.exitCode).toBe(2);
    expect(o.reports.map((r) => r.runId)).toEqual(['good', 'fail<&>"x"']);
    expect(o.errors).toHaveLength(1);
    expect(o.errors[0].file).toBe(bad);
    expect(o.checks).toBe(26);
    expect(o.failedChecks).toBe(2);
    expect(o.verdictLine).toBe(`SLA FAIL: 1 input unusable (${bad}); 2 of 26 checks failed (fail<&>"x": maxLatenessMs, leakedPorts)`);
  });

  test('verdict line for a clean pass', () => {
    expect(evaluateFiles([good]).verdictLine).toBe('SLA PASS: 1 report, 13 checks');
  });

  test('duplicate run ids are told apart by file name', () => {
    const copy = writeJson(t.dir, 'good-copy.json', readFileSync(good, 'utf8'));
    const o = evaluateFiles([good, copy]);
    expect(o.reports.map((r) => r.label)).toEqual(['good (good.json)', 'good (good-copy.json)']);
  });

  test('the table has one row per report × invariant and colours only when asked', () => {
    const o = evaluateFiles([good, failing]);
    const plain = renderTable(o);
    expect(plain).not.toMatch(ANSI);
    expect(plain.split('\n').filter((l) => / (PASS|FAIL) /.test(l))).toHaveLength(26);
    expect(plain).toMatch(/│ fail<&>"x" .*│ maxLatenessMs .*│ 30 ms .*│ ≤ 22 ms .*│ FAIL/);
    expect(plain.trimEnd().split('\n').at(-1)).toBe(o.verdictLine);
    expect(renderTable(o, new Chalk({level: 1}))).toMatch(ANSI);
  });

  test('colour detection: NO_COLOR or no TTY means plain', () => {
    expect(stdoutColorLevel({}, false)).toBe(0);
    expect(stdoutColorLevel({NO_COLOR: '1'}, true)).toBe(0);
    expect(stdoutColorLevel({}, true)).toBeGreaterThan(0);
  });

  test('JSON has verdict, reports with rows, and errors', () => {
    const j = JSON.parse(JSON.stringify(renderJson(evaluateFiles([good, failing, bad])))) as {
      verdict: {pass: boolean; exitCode: number; checks: number; failedChecks: number};
      reports: Array<{file: string; runId: string; level: string; pass: boolean; rows: Array<{invariant: string; pass: boolean}>}>;
      errors: Array<{file: string; reason: string}>;
    };
    expect(j.verdict).toMatchObject({pass: false, exitCode: 2, checks: 26, failedChecks: 2});
    expect(j.reports[1]).toMatchObject({file: failing, level: 'high', pass: false});
    expect(j.reports[1].rows.filter((r) => !r.pass).map((r) => r.invariant)).toEqual(['maxLatenessMs', 'leakedPorts']);
    expect(j.errors[0].reason).toMatch(/^not valid JSON/);
  });

  test('JUnit XML parses, escapes, and has suites, cases, failures and errors', () => {
    const xml = renderJunit(evaluateFiles([good, failing, bad]));
    const root = parseXml(xml);
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({tests: '27', failures: '2', errors: '1'});
    const suites = findAll(root, 'testsuite');
    expect(suites.map((s) => s.attrs.name)).toEqual(['good', 'fail<&>"x"', bad]);
    expect(findAll(suites[0], 'testcase')).toHaveLength(13);
    const failures = findAll(suites[1], 'failure');
    expect(failures.map((f) => f.attrs.message)).toEqual([
      'maxLatenessMs: measured 30 ms, limit ≤ 22 ms',
      'leakedPorts: measured 2, limit ≤ 0',
    ]);
    expect(suites[1].attrs).toMatchObject({tests: '13', failures: '2'});
    const errors = findAll(suites[2], 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].attrs.message).toMatch(/bad\.json: not valid JSON/);
  });

  test('xmlEscape handles markup characters and strips control characters', () => {
    expect(xmlEscape(`a<b>&"c"'d'\u0001`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
  });

  test('writeFileAtomic creates parents and leaves no temp file', () => {
    const target = path.join(t.dir, 'out', 'ci', 'sla.xml');
    writeFileAtomic(target, '<x/>\n');
    expect(readFileSync(target, 'utf8')).toBe('<x/>\n');
    expect(readdirSync(path.dirname(target))).toEqual(['sla.xml']);
    expect(() => writeFileAtomic(path.join(good, 'cannot', 'be.xml'), 'x')).toThrow(/^--junit .*: cannot write: /);
  });
});
