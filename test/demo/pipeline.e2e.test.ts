import {execFileSync} from 'node:child_process';
import {mkdtempSync, readdirSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/cli.js';


describe('demo: the one-command pipeline (real processes)', () => {
  test('10 calls × 2 s run to a PASS table and leave no child process behind', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-demo-'));
    try {
      const r = await runCli(['demo', '--count', '10', '--duration-ms', '2000', '--delay-between-ms', '20', '--out', out,
        '--sim-rtp-range', '26000-26999', '--relay-port-range', '36000-36999'], {timeoutMs: 120_000});
      expect(r.stdout).toMatch(/SLA PASS/);
      expect(r.code).toBe(0);
      expect(readdirSync(out).filter((f) => f.endsWith('.json'))).toHaveLength(1);
      // the children were started with this test's unique port ranges: none may be left running
      const procs = execFileSync('ps', ['-eo', 'args='], {encoding: 'utf8'});
      expect(procs).not.toMatch(/--rtp-range 26000-26999/);
      expect(procs).not.toMatch(/--port-range 36000-36999/);
    } finally {
      rmSync(out, {recursive: true, force: true});
    }
  });
});
