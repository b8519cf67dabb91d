import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {readReportFile} from '../../src/metrics/report-file.js';
import {CliProcess, runCli, sleep} from '../helpers/cli.js';
import {ARI_PASS, ARI_USER, simFault, startStack, until, type SlaJson, type Stack} from '../helpers/stack.js';

/**
 * Issue 12: Asterisk restarted (`core stop now`) mid-hold. The sim's restart fault hangs every
 * channel up with the recorded events, closes the events WebSocket with 1006 and keeps ARI down
 * for a while. The calls it cut short must be failed calls with the reason, and sla must fail
 * the run naming callsFailed. Its own stack: serve has to reconnect after the restart.
 */
describe('ARI restarted mid-hold (real processes)', () => {
  let stack: Stack;
  let out: string;
  beforeAll(async () => {
    stack = await startStack();
    out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-restart-'));
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(out, {recursive: true, force: true});
  });

  test('calls cut short are failed with "ended by Asterisk after …", and sla exits 1 naming callsFailed', async () => {
    const env = {ARI_URL: stack.simUrl, ARI_USER, ARI_PASS};
    const p = new CliProcess(['load', '--caller', 'endpoint', '--serve-url', stack.serveUrl, '--out', out, '--count', '3', '--duration-ms', '6000', '--delay-between-ms', '50', '--run-id', 'restart'], env);
    await until(async () => (await stack.ari.listChannels()).filter((c) => c.id.startsWith('restart-')).length >= 3, 10_000);
    await sleep(1500);
    await simFault(stack.simUrl, {restart: {downtimeMs: 1000}});
    const exit = await p.exited();
    expect(exit.code).toBe(0);

    const report = readReportFile(path.join(out, 'restart.json'));
    expect(report.summary.callsAttempted).toBe(3);
    expect(report.summary.callsFailed).toBe(3);
    for (const c of report.calls) expect(c.error).toMatch(/^ended by Asterisk after \d+\.\d s of 6 s$/);

    const sla = await runCli(['sla', '--level', 'nominal', '--json', path.join(out, 'restart.json')]);
    expect(sla.code).toBe(1);
    expect((JSON.parse(sla.stdout) as SlaJson).reports[0].failed).toContain('callsFailed');
  });
});
