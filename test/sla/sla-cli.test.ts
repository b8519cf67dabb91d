/**
 * `rtpsla sla` end to end through the built binary (npm test builds first).
 */
import {execFileSync} from 'node:child_process';
import {readFileSync, readdirSync, truncateSync} from 'node:fs';
import path from 'node:path';
import type {Report} from '../../src/protocol/report.js';
import {runCli} from '../helpers/cli.js';
import {buildReport, modify, tempDir, writeJson} from '../helpers/report-builder.js';
import {findAll, parseXml} from './xml.js';

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[`); // ESC [

const t = tempDir('rtpsla-sla-cli-');
afterAll(() => t.cleanup());

const base: Record<number, Report> = {
  30: buildReport({count: 30, runId: 'nominal-run', packetsPerCall: 20}),
  100: buildReport({count: 100, runId: 'high-run', packetsPerCall: 10}),
  150: buildReport({count: 150, runId: 'stress-run', packetsPerCall: 10}),
};

let seq = 0;
function file(report: unknown, name = `r${++seq}.json`): string {
  return writeJson(t.dir, name, report);
}

describe('rtpsla sla: passing reports', () => {
  test.each([
    [30, 'nominal'],
    [100, 'high'],
    [150, 'stress'],
  ])('a clean %i-call report passes at %s (exit 0)', async (count, level) => {
    const r = await runCli(['sla', file(base[count])]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${level} (${count})`);
    expect(r.stdout).not.toContain('FAIL');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('SLA PASS: 1 report, 13 checks');
  });
});

describe('rtpsla sla: each invariant fails on its own', () => {
  const cases: Array<[string, (r: Report) => void]> = [
    ['complete', (r) => (r.partial = true)],
    ['maxLatenessMs', (r) => (r.summary.latenessMs!.max = 23.1)],
    // each case keeps the summary in agreement with its calls[] (else "consistent" fails too)
    ['maxConsecutiveLate', (r) => (r.calls[3].maxConsecutiveLate = r.summary.maxConsecutiveLate = 3)],
    ['lateRatio', (r) => Object.assign(r.summary, {late: 5, lateRatio: 5 / r.summary.packetsBack})],
    ['lossRatio', (r) => Object.assign(r.summary, {lost: 9, lossRatio: 9 / (r.summary.packetsBack + 9)})],
    ['callsFailed', (r) => {
      r.calls[0].error = 'externalMedia: 500';
      r.summary.callsFailed = 1;
    }],
    ['silentCalls', (r) => {
      r.summary.packetsBack -= r.calls[9].packetsBack;
      r.calls[9].packetsBack = 0;
    }],
    ['leakedChannels', (r) => (r.summary.leaked.channels = 1)],
    ['leakedBridges', (r) => (r.summary.leaked.bridges = 1)],
    ['leakedPorts', (r) => (r.summary.leaked.ports = 3)],
  ];
  test.each(cases)('%s → exit 1 naming it', async (invariant, breakIt) => {
    const r = await runCli(['sla', file(modify(base[30], breakIt))]);
    expect(r.code).toBe(1);
    const failRows = r.stdout.split('\n').filter((l) => / FAIL /.test(l));
    expect(failRows).toHaveLength(1);
    expect(failRows[0]).toContain(` ${invariant} `);
    expect(r.stdout).toContain(`SLA FAIL: 1 of 13 checks failed (nominal-run: ${invariant})`);
  });

  test('a 100-call report that peaked at 80 concurrent calls fails peakConcurrent', async () => {
    const r = await runCli(['sla', file(modify(base[100], (x) => (x.summary.peakConcurrent = 80)))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/│ peakConcurrent\s+│ 80 calls\s+│ ≥ 100 calls\s+│ FAIL/);
    expect(r.stdout).toContain('(high-run: peakConcurrent)');
  });

  test('a report below 30 calls fails "level" and says why', async () => {
    const r = await runCli(['sla', file(buildReport({count: 10, runId: 'tiny'}))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('count 10 is below the smallest level (nominal 30)');
  });
});

describe('rtpsla sla: bad input', () => {
  test('a FIFO is refused at once (exit 2 naming it) instead of blocking on its read', async () => {
    const fifo = path.join(t.dir, 'pipe.json');
    execFileSync('mkfifo', [fifo]);
    const r = await runCli(['sla', fifo], {timeoutMs: 20_000});
    expect(r.signal).toBeNull();
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`rtpsla sla: ${fifo}: is a FIFO, not a regular file: refused`);
  });

  test('a file over 256 MB is refused by size, unread (exit 2 naming it)', async () => {
    const huge = path.join(t.dir, 'huge.json');
    truncateSync(file('', 'huge.json'), 300 * 2 ** 20); // sparse: no disk used
    const r = await runCli(['sla', huge], {timeoutMs: 20_000});
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`rtpsla sla: ${huge}: is 300 MB, over the 256 MB limit for a report file`);
  });

  test('a report whose summary is clean but whose calls[] are not fails (exit 1, consistent)', async () => {
    const r = await runCli(['sla', file(modify(base[30], (x) => (x.calls[4].lost = 500)))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('summary.lost is 0, calls[] say 500');
    expect(r.stdout).toContain('SLA FAIL: 1 of 13 checks failed (nominal-run: consistent)');
  });

  test('invalid JSON → exit 2 naming the file', async () => {
    const f = file('{"schema": "rtpsla.report/v1", ', 'broken.json');
    const r = await runCli(['sla', f]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(new RegExp(`^rtpsla sla: ${f.replace(/[.\\/]/g, '\\$&')}: not valid JSON: `));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('a missing required field → exit 2 naming the field', async () => {
    const f = file(modify(base[30], (x) => delete (x.summary as Record<string, unknown>).peakConcurrent));
    const r = await runCli(['sla', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}: not a valid rtpsla.report/v1 report: summary.peakConcurrent: required`);
  });

  test('a quoted glob matching nothing → exit 2 naming the pattern', async () => {
    const pattern = path.join(t.dir, 'nothing-*.json');
    const r = await runCli(['sla', pattern]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${pattern}: no file matches this pattern`);
    expect(r.stdout).toContain('SLA FAIL');
    expect(r.stdout).not.toContain('SLA PASS');
  });

  test('a quoted glob is expanded by rtpsla itself', async () => {
    writeJson(t.dir, 'globbed-a.json', base[30]);
    writeJson(t.dir, 'globbed-b.json', modify(base[30], (x) => (x.runId = 'second')));
    const r = await runCli(['sla', path.join(t.dir, 'globbed-?.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('SLA PASS: 2 reports, 26 checks');
  });

  test('mixed good and bad files: the bad one is named, the good one still evaluated', async () => {
    const good = file(base[30], 'mixed-good.json');
    const bad = file(modify(base[30], (x) => ((x.summary as Record<string, unknown>).lossRatio = 'low')), 'mixed-bad.json');
    const r = await runCli(['sla', bad, good]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}: not a valid rtpsla.report/v1 report: summary.lossRatio: expected number, got string`);
    expect(r.stderr).not.toContain(good);
    expect(r.stdout.split('\n').filter((l) => l.includes('nominal-run'))).toHaveLength(13);
    expect(r.stdout).toContain('SLA FAIL: 1 input unusable');
  });

  test('an invalid profile → exit 2 naming the unknown key', async () => {
    const profile = file({maxLatenessMS: 30}, 'typo-profile.json');
    const r = await runCli(['sla', '--profile', profile, file(base[30])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`profile ${profile}: unknown key "maxLatenessMS"`);
    expect(r.stdout).toBe('');
  });

  test('no file at all is a usage error (exit 2)', async () => {
    const r = await runCli(['sla']);
    expect(r.code).toBe(2);
  });
});

describe('rtpsla sla: options and output formats', () => {
  test('--json prints only JSON with verdict, rows and errors', async () => {
    const failing = file(modify(base[100], (x) => (x.summary.latenessMs!.max = 40)));
    const bad = file('nope', 'json-bad.json');
    const r = await runCli(['sla', '--json', file(base[30]), failing, bad]);
    expect(r.code).toBe(2);
    const j = JSON.parse(r.stdout) as {
      verdict: {pass: boolean; exitCode: number; checks: number; failedChecks: number};
      reports: Array<{file: string; runId: string; level: string; pass: boolean; rows: Array<{invariant: string; measured: unknown; limit: unknown; pass: boolean}>}>;
      errors: Array<{file: string; reason: string}>;
    };
    expect(j.verdict).toMatchObject({pass: false, exitCode: 2, checks: 26, failedChecks: 1});
    expect(j.reports.map((x) => [x.runId, x.level, x.pass])).toEqual([
      ['nominal-run', 'nominal', true],
      ['high-run', 'high', false],
    ]);
    expect(j.reports[1].rows).toHaveLength(13);
    expect(j.reports[1].rows.find((x) => x.invariant === 'maxLatenessMs')).toMatchObject({measured: 40, limit: 22, pass: false});
    expect(j.errors).toEqual([{file: bad, reason: expect.stringMatching(/^not valid JSON/)}]);
  });

  test('--junit writes parseable XML with failures and errored inputs', async () => {
    const out = path.join(t.dir, 'ci', 'junit.xml');
    const failing = file(modify(base[30], (x) => (x.summary.leaked.bridges = 1)));
    const bad = file('{', 'junit-bad.json');
    const r = await runCli(['sla', '--junit', out, failing, bad]);
    expect(r.code).toBe(2);
    const root = parseXml(readFileSync(out, 'utf8'));
    expect(root.attrs).toMatchObject({tests: '14', failures: '1', errors: '1'});
    const suites = findAll(root, 'testsuite');
    expect(suites).toHaveLength(2);
    expect(findAll(suites[0], 'testcase').map((c) => c.attrs.name)).toContain('leakedBridges');
    expect(findAll(suites[0], 'failure')[0].attrs.message).toBe('leakedBridges: measured 1, limit ≤ 0');
    expect(findAll(suites[1], 'error')[0].attrs.message).toContain(bad);
    expect(readdirSync(path.dirname(out))).toEqual(['junit.xml']);
  });

  test('--profile relaxing a limit turns a failure into a pass', async () => {
    const late = file(modify(base[100], (x) => (x.summary.latenessMs!.max = 24.5)));
    expect((await runCli(['sla', late])).code).toBe(1);
    const profile = file({levels: {high: {maxLatenessMs: 25}}}, 'relaxed-high.json');
    const r = await runCli(['sla', '--profile', profile, late]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/maxLatenessMs\s+│ 24\.5 ms\s+│ ≤ 25 ms\s+│ PASS/);
  });

  test('--profile tightening a limit turns a pass into a failure', async () => {
    const profile = file({maxLatenessMs: 1}, 'strict.json');
    const r = await runCli(['sla', '--profile', profile, file(base[30])]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('(nominal-run: maxLatenessMs)');
  });

  test('--level forces the level: a 100-call run judged at stress fails, at nominal passes', async () => {
    const f = file(base[100]);
    const stress = await runCli(['sla', '--level', 'stress', f]);
    expect(stress.code).toBe(1);
    expect(stress.stdout).toContain('stress (150)');
    expect(stress.stdout).toContain('(high-run: level, peakConcurrent)');
    const nominal = await runCli(['sla', '--level', 'nominal', f]);
    expect(nominal.code).toBe(0);
    expect(nominal.stdout).toContain('nominal (30)');
  });

  test('an unknown --level is rejected with exit 2', async () => {
    const r = await runCli(['sla', '--level', 'extreme', file(base[30])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nominal, high, stress/);
  });

  test('piped output has no ANSI escapes even when NO_COLOR is unset', async () => {
    // runCli sets NO_COLOR=1 by default; undefined removes it from the child's environment.
    const r = await runCli(['sla', file(modify(base[30], (x) => (x.summary.leaked.ports = 1))), file(base[30])], {
      env: {NO_COLOR: undefined, FORCE_COLOR: undefined},
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL');
    expect(r.stdout).not.toMatch(ANSI);
    expect(r.stderr).not.toMatch(ANSI);
  });

  test('--help documents exit codes, levels and examples', async () => {
    const r = await runCli(['sla', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit codes: 2 if any input was unreadable or invalid');
    expect(r.stdout).toContain('nominal (30 calls), high (100), stress (150)');
    expect(r.stdout).toContain('--junit');
    expect(r.stdout).toContain('EXAMPLES');
  });
});
