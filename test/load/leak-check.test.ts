import {leakCheck} from '../../src/load/run.js';
import {validateReport} from '../../src/protocol/report.js';
import {evaluateReport} from '../../src/sla/evaluate.js';
import {buildReport, modify} from '../helpers/report-builder.js';

const calls = [{channelId: 'run-0'}, {channelId: 'run-1'}];
const records = [{externalMediaChannelId: 'em-0', bridgeId: 'b-0'}, {externalMediaChannelId: 'em-1', bridgeId: 'b-1'}];
const refused = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8088'));
const serveOk = {liveCalls: () => Promise.resolve([])};

describe('leak check', () => {
  test('ARI unreachable at the end: every figure unknown (null) with the reason, never 0', async () => {
    const r = await leakCheck({listChannels: refused, listBridges: refused}, serveOk, 'run', calls, records, 50);
    expect(r.leaked).toEqual({channels: null, bridges: null, ports: null});
    expect(r.error).toBe("leak check failed: could not list channels, bridges or serve's calls (connect ECONNREFUSED 127.0.0.1:8088)");
  });

  test('a listing that succeeds counts only this run\'s channels, bridges and ports', async () => {
    const r = await leakCheck(
      {
        listChannels: () => Promise.resolve([{id: 'run-1'}, {id: 'em-0'}, {id: 'someone-else'}] as never),
        listBridges: () => Promise.resolve([{id: 'b-1'}, {id: 'other'}] as never),
      },
      {liveCalls: () => Promise.resolve([{runId: 'run', port: 4500}, {runId: 'other', port: 4502}] as never)},
      'run',
      calls,
      records,
      50,
    );
    expect(r).toEqual({leaked: {channels: 2, bridges: 1, ports: 1}, error: null});
  });

  test('a failure after a successful listing keeps the measured answer', async () => {
    let n = 0;
    const flaky = () => (n++ === 0 ? Promise.resolve([{id: 'run-0'}] as never) : refused());
    const r = await leakCheck({listChannels: flaky, listBridges: () => Promise.resolve([])}, serveOk, 'run', calls, records, 300);
    expect(r).toEqual({leaked: {channels: 1, bridges: 0, ports: 0}, error: null});
  });

  test('a report with unknown leaks is valid, and sla fails the three leak checks with the reason', () => {
    const reason = "leak check failed: could not list channels, bridges or serve's calls (connect ECONNREFUSED 127.0.0.1:8088)";
    const report = modify(buildReport({count: 30}), (r) => {
      r.summary.leaked = {channels: null, bridges: null, ports: null};
      r.summary.leakCheckError = reason;
    });
    expect(validateReport(JSON.parse(JSON.stringify(report))).ok).toBe(true);
    const v = evaluateReport(report);
    expect(v.pass).toBe(false);
    expect(v.failed).toEqual(['leakedChannels', 'leakedBridges', 'leakedPorts']);
    for (const row of v.rows.filter((x) => x.invariant.startsWith('leaked'))) {
      expect(row.measured).toBe('unknown');
      expect(row.measuredText).toBe(`unknown: ${reason}`);
    }
  });

  test('one unknown figure fails only its own check; without a recorded reason sla still says why', () => {
    const report = modify(buildReport({count: 30}), (r) => {
      r.summary.leaked.ports = null;
    });
    const v = evaluateReport(report);
    expect(v.failed).toEqual(['leakedPorts']);
    expect(v.rows.find((x) => x.invariant === 'leakedPorts')?.measuredText).toBe('unknown: the leak check could not be made');
  });
});
