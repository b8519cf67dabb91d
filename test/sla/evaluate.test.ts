import {InputError} from '../../src/errors.js';
import type {Report} from '../../src/protocol/report.js';
import {INVARIANTS, detectLevel, evaluateReport, type InvariantId} from '../../src/sla/evaluate.js';
import {LEVELS, SLA_DEFAULTS, defaultProfile, loadProfile, parseProfile} from '../../src/sla/profile.js';
import {buildReport, modify, tempDir, writeJson} from '../helpers/report-builder.js';

const r30 = buildReport({count: 30, runId: 'r30'});
const r100 = buildReport({count: 100, runId: 'r100', packetsPerCall: 20});

function failedOf(report: Report, ...rest: Parameters<typeof evaluateReport> extends [Report, ...infer R] ? R : never): InvariantId[] {
  return evaluateReport(report, ...rest).failed;
}

describe('SLA defaults and levels', () => {
  test('match the documented SLA defaults', () => {
    expect(SLA_DEFAULTS).toMatchObject({
      maxLatenessMs: 22,
      maxConsecutiveLate: 2,
      maxLateRatio: 0.001,
      maxLossRatio: 0.002,
      maxCallsFailed: 0,
      maxLeakedChannels: 0,
      maxLeakedBridges: 0,
      maxLeakedPorts: 0,
    });
    expect(LEVELS).toEqual({nominal: 30, high: 100, stress: 150});
    expect(Object.isFrozen(SLA_DEFAULTS)).toBe(true);
  });
});

describe('detectLevel', () => {
  test.each([
    [29, null],
    [30, 'nominal'],
    [99, 'nominal'],
    [100, 'high'],
    [149, 'high'],
    [150, 'stress'],
    [1000, 'stress'],
  ])('count %i → %s', (count, level) => {
    expect(detectLevel(modify(r30, (r) => (r.params.count = count)))).toBe(level);
  });

  test('a forced level wins', () => {
    expect(detectLevel(r30, 'stress')).toBe('stress');
  });

  test('profile call counts move the boundaries', () => {
    const p = parseProfile({levels: {high: {calls: 120}}}, 'inline');
    expect(detectLevel(modify(r30, (r) => (r.params.count = 110)), undefined, p)).toBe('nominal');
    expect(detectLevel(modify(r30, (r) => (r.params.count = 120)), undefined, p)).toBe('high');
  });
});

describe('evaluateReport', () => {
  test('a clean report passes every invariant, one row each, in a fixed order', () => {
    const v = evaluateReport(r100);
    expect(v.pass).toBe(true);
    expect(v.level).toBe('high');
    expect(v.levelCalls).toBe(100);
    expect(v.rows.map((r) => r.invariant)).toEqual([...INVARIANTS]);
    expect(v.failed).toEqual([]);
  });

  const breakers: Array<[InvariantId, (r: Report) => void]> = [
    ['complete', (r) => (r.partial = true)],
    ['peakConcurrent', (r) => (r.summary.peakConcurrent = 80)],
    ['maxLatenessMs', (r) => (r.summary.latenessMs!.max = 22.5)],
    // each breaker keeps the summary in agreement with its calls[] (else "consistent" fails too)
    ['maxConsecutiveLate', (r) => (r.calls[7].maxConsecutiveLate = r.summary.maxConsecutiveLate = 3)],
    ['lateRatio', (r) => Object.assign(r.summary, {late: 3, lateRatio: 3 / r.summary.packetsBack})],
    ['lossRatio', (r) => Object.assign(r.summary, {lost: 10, lossRatio: 10 / (r.summary.packetsBack + 10)})],
    ['callsFailed', (r) => {
      r.calls[2].error = 'addChannel: 422 Channel not in Stasis application';
      r.summary.callsFailed = 1;
    }],
    ['silentCalls', (r) => {
      r.summary.packetsBack -= r.calls[5].packetsBack;
      r.calls[5].packetsBack = 0;
    }],
    ['leakedChannels', (r) => (r.summary.leaked.channels = 1)],
    ['leakedBridges', (r) => (r.summary.leaked.bridges = 2)],
    ['leakedPorts', (r) => (r.summary.leaked.ports = 1)],
  ];
  test.each(breakers)('%s fails on its own', (id, breakIt) => {
    expect(failedOf(modify(r100, breakIt))).toEqual([id]);
  });

  test('limits are inclusive: exactly at the limit passes', () => {
    const atLimit = modify(r100, (r) => {
      r.summary.latenessMs!.max = 22;
      r.calls[0].maxConsecutiveLate = r.summary.maxConsecutiveLate = 2;
      r.calls[0].packetsBack += 499_000 - r.summary.packetsBack;
      // 499 / 499000 = 0.1 % late; 1000 / (499000 + 1000) = 0.2 % lost
      Object.assign(r.summary, {packetsBack: 499_000, late: 499, lateRatio: 0.001, lost: 1000, lossRatio: 0.002});
    });
    expect(evaluateReport(atLimit).failed).toEqual([]);
    const justOver = modify(atLimit, (r) => Object.assign(r.summary, {late: 500, lost: 1001}));
    expect(evaluateReport(justOver).failed).toEqual(['lateRatio', 'lossRatio']);
  });

  test('a summary cleaner than its calls[] or histograms fails "consistent", naming each disagreement', () => {
    const v = evaluateReport(modify(r100, (r) => {
      r.calls[3].lost = 40;
      r.calls[4].late = 7;
      r.calls[9].error = 'hangup failed';
      r.calls[11].latenessMs!.max = 48.5;
    }));
    expect(v.failed).toContain('consistent');
    const row = v.rows.find((x) => x.invariant === 'consistent')!;
    expect(row.measured).toBe('inconsistent');
    expect(row.measuredText).toBe(
      'inconsistent: summary.callsFailed is 0, calls[] say 1; summary.lost is 0, calls[] say 40; summary.late is 0, calls[] say 7; ' +
        `summary.latenessMs.max is ${r100.summary.latenessMs?.max} ms, calls[] say 48.5 ms`,
    );
    const hist = evaluateReport(modify(r100, (r) => (r.summary.latenessMs = {p50: 0, p95: 0, p99: 0, p999: 0, max: 0})));
    expect(hist.rows.find((x) => x.invariant === 'consistent')!.measuredText).toMatch(/summary\.latenessMs\.max is 0 ms, calls\[\] say [\d.]+ ms; .*histograms\.latenessUs say/);
    expect(evaluateReport(r100).rows.find((x) => x.invariant === 'consistent')!.pass).toBe(true);
  });

  test('a ratio recorded lower than its counts say is judged by the counts', () => {
    const v = evaluateReport(modify(r100, (r) => Object.assign(r.summary, {lost: 50, lossRatio: 0})));
    expect(v.failed).toEqual(['lossRatio']);
    const row = v.rows.find((x) => x.invariant === 'lossRatio')!;
    expect(row.measured).toBeCloseTo(50 / (r100.summary.packetsBack + 50), 12);
    expect(row.measuredText).toContain(`50 of ${r100.summary.packetsBack + 50}`);
  });

  test('the consecutive-miss row names the worst call; the summary streak counts too', () => {
    const v = evaluateReport(modify(r100, (r) => (r.calls[42].maxConsecutiveLate = 5)));
    expect(v.rows.find((x) => x.invariant === 'maxConsecutiveLate')!.measuredText).toBe('5 (call 42)');
    expect(failedOf(modify(r100, (r) => (r.summary.maxConsecutiveLate = 4)))).toEqual(['maxConsecutiveLate']);
  });

  test('failed calls are counted from the records even if the summary says 0', () => {
    const v = evaluateReport(modify(r100, (r) => (r.calls[1].error = 'boom')));
    const row = v.rows.find((x) => x.invariant === 'callsFailed')!;
    expect(row.measured).toBe(1);
    expect(row.measuredText).toBe('1 of 100 (call 1: boom)');
  });

  test('a report below the smallest level fails "level" with an explanation', () => {
    const small = buildReport({count: 12, runId: 'small'});
    const v = evaluateReport(small);
    expect(v.level).toBeNull();
    expect(v.failed).toContain('level');
    expect(v.rows.find((x) => x.invariant === 'level')!.measuredText).toBe('count 12 is below the smallest level (nominal 30)');
  });

  test('forcing a level judges the report against that level', () => {
    const small = buildReport({count: 12});
    expect(evaluateReport(small, defaultProfile(), 'nominal').failed).toEqual(['level', 'peakConcurrent']);
    const v = evaluateReport(r100, defaultProfile(), 'stress');
    expect(v.level).toBe('stress');
    expect(v.levelForced).toBe(true);
    expect(v.failed).toEqual(['level', 'peakConcurrent']);
    expect(evaluateReport(r100, defaultProfile(), 'nominal').pass).toBe(true);
  });

  test('profile overrides change the verdict, per level too', () => {
    const late = modify(r100, (r) => (r.summary.latenessMs!.max = 24));
    expect(evaluateReport(late).failed).toEqual(['maxLatenessMs']);
    expect(evaluateReport(late, parseProfile({maxLatenessMs: 25}, 'p')).pass).toBe(true);
    const perLevel = parseProfile({levels: {stress: {maxLatenessMs: 30}}}, 'p');
    expect(evaluateReport(late, perLevel).failed).toEqual(['maxLatenessMs']);
    expect(evaluateReport(modify(late, (r) => (r.params.count = r.summary.peakConcurrent = 150)), perLevel).pass).toBe(true);
    const row = evaluateReport(late, parseProfile({maxLatenessMs: 23.5}, 'p')).rows.find((x) => x.invariant === 'maxLatenessMs')!;
    expect(row).toMatchObject({measured: 24, limit: 23.5, op: '<=', pass: false, measuredText: '24 ms', limitText: '≤ 23.5 ms'});
  });
});

describe('profiles', () => {
  const t = tempDir('rtpsla-profile-');
  afterAll(() => t.cleanup());

  test('defaults apply where the file is silent', () => {
    const p = loadProfile(writeJson(t.dir, 'p.json', {description: 'lab', maxLossRatio: 0.01}));
    expect(p.description).toBe('lab');
    expect(p.levels.high.limits).toEqual({...SLA_DEFAULTS, maxLossRatio: 0.01});
    expect(p.levels.stress.calls).toBe(150);
  });

  test('an unknown key is an error naming the key and where it is', () => {
    expect(() => parseProfile({maxLatnessMs: 25}, 'p.json')).toThrow(InputError);
    expect(() => parseProfile({maxLatnessMs: 25}, 'p.json')).toThrow(/^profile p\.json: unknown key "maxLatnessMs" \(known: /);
    expect(() => parseProfile({levels: {stres: {}}}, 'p.json')).toThrow('profile p.json: levels: unknown key "stres" (known: nominal, high, stress)');
    expect(() => parseProfile({levels: {stress: {maxLateness: 3}}}, 'p.json')).toThrow(/^profile p\.json: levels\.stress: unknown key "maxLateness"/);
  });

  test('wrong types and out-of-range values are errors naming the key', () => {
    expect(() => parseProfile({maxLossRatio: '0.1'}, 'p')).toThrow(/^profile p: maxLossRatio: expected number, got string/);
    expect(() => parseProfile({maxLossRatio: 2}, 'p')).toThrow(/^profile p: maxLossRatio: /);
    expect(() => parseProfile({maxCallsFailed: 1.5}, 'p')).toThrow(/^profile p: maxCallsFailed: /);
    expect(() => parseProfile([], 'p')).toThrow(/^profile p: /);
  });

  test('level call counts must ascend', () => {
    expect(() => parseProfile({levels: {high: {calls: 200}}}, 'p')).toThrow('p: levels must ascend: stress (150 calls) must be above high (200 calls)');
  });

  test('unreadable and non-JSON profile files are InputErrors naming the file', () => {
    expect(() => loadProfile(`${t.dir}/missing.json`)).toThrow(`profile ${t.dir}/missing.json: no such file`);
    const bad = writeJson(t.dir, 'bad.json', '{nope');
    expect(() => loadProfile(bad)).toThrow(new RegExp(`^profile .*bad\\.json: not valid JSON`));
  });
});
