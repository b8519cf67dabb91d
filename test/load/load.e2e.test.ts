import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {readReportFile} from '../../src/metrics/report-file.js';
import {validateReport} from '../../src/protocol/report.js';
import {CliProcess, freeTcpPort, runCli, sleep} from '../helpers/cli.js';
import {ARI_PASS, ARI_USER, expectFunctionalSlaPass, simFault, startStack, until, type SlaJson, type Stack} from '../helpers/stack.js';

describe('load against sim + serve + echo (real processes)', () => {
  let stack: Stack;
  let out: string;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });
  beforeEach(() => {
    out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-load-'));
  });
  afterEach(() => rmSync(out, {recursive: true, force: true}));

  const env = () => ({ARI_URL: stack.simUrl, ARI_USER, ARI_PASS});
  const loadArgs = (extra: string[]) => ['load', '--caller', 'endpoint', '--serve-url', stack.serveUrl, '--out', out, ...extra];

  test('30 calls × 4 s with spacing → a valid report of 30 measured calls; sla judges it (every non-timing invariant passes)', async () => {
    // 100 ms apart (2.9 s of originates), held 4 s: all 30 overlap for ≈ 1 s
    const r = await runCli(loadArgs(['--count', '30', '--duration-ms', '4000', '--delay-between-ms', '100', '--run-id', 'l30', '--json']), {env: env(), timeoutMs: 90_000});
    expect(r.stderr).not.toContain(ARI_PASS);
    expect(r.code).toBe(0);
    const summaryLine = JSON.parse(r.stdout);
    expect(summaryLine.report).toBe(path.join(out, 'l30.json'));
    const report = JSON.parse(readFileSync(path.join(out, 'l30.json'), 'utf8'));
    const v = validateReport(report);
    expect(v.ok).toBe(true);
    expect(report.target.asterisk).toBe('sim');
    expect(report.calls).toHaveLength(30);
    for (const c of report.calls) {
      expect(c.error).toBeNull();
      expect(c.packetsBack).toBeGreaterThan(0);
      // the worst packet came back while the call was up (after its start, before its hold ended + drain)
      expect(c.worstLateAtMs).toBeGreaterThan(0);
      expect(c.worstLateAtMs).toBeLessThan(4000 + 1000);
    }
    // the machine that ran load: its CPUs and the hypervisor's steal over the run (Linux: a number)
    expect(report.loadHost.cpus).toBe(os.availableParallelism());
    expect(report.loadHost.stealMs).toBeGreaterThanOrEqual(0);
    // and load's own stalls while it held the calls: counted, each with its time inside the run
    const stalls = report.loadHost.stalls;
    expect(stalls.thresholdMs).toBe(10);
    expect(stalls.events).toHaveLength(stalls.count);
    const runMs = Date.parse(report.endedAt) - Date.parse(report.startedAt);
    for (const e of stalls.events) {
      expect(e.stallMs).toBeGreaterThanOrEqual(10);
      expect(e.stallMs).toBeLessThanOrEqual(stalls.maxMs);
      expect(e.atMs).toBeLessThanOrEqual(runMs);
    }
    expect(report.summary.peakConcurrent).toBe(30);
    expect(report.summary.leaked).toEqual({channels: 0, bridges: 0, ports: 0});
    // the format actually measured, and the legs (docs/measurement.md) per call and per run
    expect(report.params.format).toBe('ulaw');
    expect(['native', 'node']).toContain(report.tool.engine);
    for (const c of report.calls) {
      expect(c).toMatchObject({payloadType: 0, packetBytes: 172});
      expect(c.lateBy.asterisk + c.lateBy.relay + c.lateBy.mediaServer).toBe(c.late);
      expect(c.relayHoldMs.max).toBeGreaterThan(0);
    }
    const lateBy = report.summary.lateBy;
    expect(lateBy.asterisk + lateBy.relay + lateBy.mediaServer).toBe(report.summary.late);
    expect(report.summary.upLatenessMs.max).toBeGreaterThanOrEqual(report.summary.upLatenessMs.p50);
    expect(report.histograms.relayHoldUs).toEqual(expect.any(String));
    const sla = await runCli(['sla', '--json', path.join(out, 'l30.json')]);
    expectFunctionalSlaPass(JSON.parse(sla.stdout) as SlaJson, sla.code);
  });

  test('spacing longer than the hold: peak concurrency is measured, not assumed', async () => {
    const r = await runCli(loadArgs(['--count', '6', '--duration-ms', '600', '--delay-between-ms', '400', '--run-id', 'spaced', '--json']), {env: env(), timeoutMs: 60_000});
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, 'spaced.json'), 'utf8'));
    expect(report.summary.peakConcurrent).toBeGreaterThanOrEqual(1);
    expect(report.summary.peakConcurrent).toBeLessThanOrEqual(3);
    expect(report.notes.join(' ')).toMatch(/peak concurrency was \d of 6/);
  });

  test('an originate that fails is recorded with its error, the others measured, sla fails on callsFailed', async () => {
    await simFault(stack.simUrl, {fail: {operation: 'originate', status: 500, count: 1}});
    const r = await runCli(loadArgs(['--count', '3', '--duration-ms', '1500', '--delay-between-ms', '50', '--run-id', 'origfail', '--json']), {env: env(), timeoutMs: 60_000});
    expect(r.code).toBe(0);
    const file = path.join(out, 'origfail.json');
    const report = readReportFile(file);
    const failed = report.calls.filter((c) => c.error !== null);
    expect(failed).toHaveLength(1);
    expect(failed[0].error).toMatch(/originate failed.*500/);
    expect(report.calls.filter((c) => c.error === null && c.packetsBack > 0)).toHaveLength(2);
    expect(report.summary.callsFailed).toBe(1);
    const sla = await runCli(['sla', '--level', 'nominal', file]);
    expect(sla.code).toBe(1);
    expect(sla.stdout).toMatch(/callsFailed/);
  });

  test('--format slin16 against serve at ulaw → one clear line, exit 2, no report, nothing originated', async () => {
    const r = await runCli(loadArgs(['--count', '2', '--duration-ms', '1000', '--format', 'slin16', '--run-id', 'fmt']), {env: env(), timeoutMs: 30_000});
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toBe("rtpsla load: --format slin16 does not match serve's format ulaw: run load with --format ulaw or start serve with --format slin16");
    expect(readdirSync(out)).toEqual([]);
    expect((await stack.ari.listChannels()).filter((c) => c.id.startsWith('fmt-'))).toEqual([]);
  });

  test('media that stops mid-hold fails the calls with the reason; sla exits 1 naming callsFailed', async () => {
    const p = new CliProcess(loadArgs(['--count', '2', '--duration-ms', '4000', '--delay-between-ms', '50', '--run-id', 'mstop']), env());
    try {
      await until(async () => (await stack.ari.listChannels()).filter((c) => c.id.startsWith('mstop-')).length >= 2, 10_000);
      await sleep(800);
      await simFault(stack.simUrl, {stopMedia: true});
      expect((await p.exited()).code).toBe(0);
    } finally {
      await simFault(stack.simUrl, {stopMedia: false});
    }
    const file = path.join(out, 'mstop.json');
    const report = readReportFile(file);
    expect(report.summary.callsFailed).toBe(2);
    for (const c of report.calls) expect(c.error).toMatch(/^media stopped after \d+\.\d s of 4 s \(no packet from Asterisk for \d+\.\d s\)$/);
    const sla = await runCli(['sla', '--level', 'nominal', '--json', file]);
    expect(sla.code).toBe(1);
    expect((JSON.parse(sla.stdout) as SlaJson).reports[0].failed).toContain('callsFailed');
  });

  test('the leak check cannot list bridges at the end → leaks unknown with the reason, sla fails them', async () => {
    await simFault(stack.simUrl, {fail: {operation: 'listBridges', status: 500}});
    try {
      const r = await runCli(loadArgs(['--count', '2', '--duration-ms', '1000', '--delay-between-ms', '50', '--run-id', 'noleak']), {env: env(), timeoutMs: 60_000});
      expect(r.code).toBe(0);
    } finally {
      await simFault(stack.simUrl, {clear: true});
    }
    const file = path.join(out, 'noleak.json');
    const report = readReportFile(file);
    expect(report.summary.leaked).toEqual({channels: null, bridges: null, ports: null});
    expect(report.summary.leakCheckError).toMatch(/^leak check failed: could not list channels, bridges or serve's calls \(.*500/);
    const sla = await runCli(['sla', '--level', 'nominal', '--json', file]);
    expect(sla.code).toBe(1);
    const rows = (JSON.parse(sla.stdout) as {reports: Array<{rows: Array<{invariant: string; pass: boolean; measuredText: string}>}>}).reports[0].rows;
    for (const id of ['leakedChannels', 'leakedBridges', 'leakedPorts']) {
      const row = rows.find((x) => x.invariant === id)!;
      expect(row.pass).toBe(false);
      expect(row.measuredText).toBe(`unknown: ${report.summary.leakCheckError}`);
    }
  });

  test('Ctrl-C halfway → partial report written and marked, no channel left in the sim', async () => {
    const p = new CliProcess(loadArgs(['--count', '10', '--duration-ms', '20000', '--delay-between-ms', '50', '--run-id', 'intr']), env());
    await p.waitFor(/originating/, 20_000);
    await until(async () => (await stack.ari.listChannels()).length >= 10, 10_000);
    await sleep(500);
    p.child.kill('SIGINT');
    const exit = await p.exited();
    expect(exit.code).toBe(130);
    const report = JSON.parse(readFileSync(path.join(out, 'intr.json'), 'utf8'));
    expect(report.partial).toBe(true);
    expect(validateReport(report).ok).toBe(true);
    expect(await until(async () => (await stack.ari.listChannels()).length === 0, 5000)).toBe(true);
    const sla = await runCli(['sla', path.join(out, 'intr.json'), '--level', 'nominal']);
    expect(sla.code).toBe(1);
  });
});

describe('load preconditions: one clear line, exit 2, no report', () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-load-'));
  });
  afterEach(() => rmSync(out, {recursive: true, force: true}));

  test('unreachable ARI', async () => {
    const closed = await freeTcpPort();
    const r = await runCli(['load', '--out', out, '--ari-url', `http://127.0.0.1:${closed}`, '--count', '1'], {env: {ARI_USER: 'u', ARI_PASS: 'p'}});
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`cannot reach ARI at http://127.0.0.1:${closed}`);
    expect(readdirSync(out)).toEqual([]);
  });

  test('wrong credentials and unreachable serve', async () => {
    const stack = await startStack({withServe: false});
    try {
      const bad = await runCli(['load', '--out', out, '--count', '1'], {env: {ARI_URL: stack.simUrl, ARI_USER, ARI_PASS: 'nope-wrong'}});
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/rejected the credentials for user 'rtpsla'/);
      expect(bad.stderr).not.toContain('nope-wrong');
      const closed = await freeTcpPort();
      const noServe = await runCli(['load', '--out', out, '--count', '1', '--serve-url', `http://127.0.0.1:${closed}`], {env: {ARI_URL: stack.simUrl, ARI_USER, ARI_PASS}});
      expect(noServe.code).toBe(2);
      expect(noServe.stderr).toContain(`cannot reach serve at http://127.0.0.1:${closed}: ECONNREFUSED`);
      expect(noServe.stderr.trim().split('\n')).toHaveLength(1);
      expect(readdirSync(out)).toEqual([]);
      expect(existsSync(path.join(out, 'x'))).toBe(false);
    } finally {
      await stack.stop();
    }
  });

  test('bad flag values', async () => {
    const r = await runCli(['load', '--out', out, '--count', 'many'], {env: {ARI_USER: 'u', ARI_PASS: 'p'}});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--count\/COUNT: "many" is not a whole number/);
  });
});
