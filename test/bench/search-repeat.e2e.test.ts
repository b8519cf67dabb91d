/** bench --repeat and --search on one path (real processes, small N): the JSON's spreads and the search's steps. */
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/cli.js';
import type {BenchResult} from '../../src/bench/types.js';

describe('bench --repeat 2 --search on the rtpcaller path', () => {
  test('each figure is the median of two runs with its spread, and the largest SLA-clean N comes from the capacity search', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-bench-search-'));
    try {
      const r = await runCli(
        ['bench', '--calls', '6', '--paths', 'rtpcaller', '--repeat', '2', '--search', '--search-resolution', '2', '--duration-ms', '1500', '--settle-ms', '400',
          '--out', out, '--no-chart', '--sim-rtp-range', '26000-26999', '--relay-port-range', '36000-36999'],
        {timeoutMs: 200_000},
      );
      expect(r.code).toBe(0);
      const json = readdirSync(out).find((f) => /^\d{8}-\d{6}\.json$/.test(f))!;
      const res = JSON.parse(readFileSync(path.join(out, json), 'utf8')) as BenchResult;
      if (res.skipped.some((s) => s.path === 'rtpcaller')) return expect(res.skipped[0].reason).toMatch(/native engine/);
      expect(res.params).toMatchObject({repeat: 2, search: {max: 6, resolution: {calls: 2}}});
      const p = res.results[0].rtpcaller!;
      expect(p.repeat!.runs).toBe(2);
      const us = p.repeat!.figures['callerCpuUsPerPacket'];
      expect(us.min).toBeLessThanOrEqual(us.median);
      expect(us.median).toBeLessThanOrEqual(us.max);
      expect(p.callerCpuUsPerPacket).toBe(us.median);
      expect(p.relay!.reportPath.split(', ')).toHaveLength(2);
      expect(r.stdout).toMatch(/median of 2 runs/);
      // the search: N = max (6) first, and a PASS there is judged twice
      expect(res.largestSlaCleanBy).toBe('search');
      const s = res.search!.rtpcaller!;
      expect(s.steps[0]).toMatchObject({calls: 6, phase: 'step-up'});
      expect(res.largestSlaCleanCalls.rtpcaller).toBe(s.largest);
      if (s.largest === 6) expect(s.steps.map((x) => [x.calls, x.phase, x.pass])).toEqual([[6, 'step-up', true], [6, 'confirm', true]]);
      for (const x of s.steps) expect(x.reportPath).toMatch(/\.json$/);
      expect(r.stdout).toMatch(/Largest SLA-clean N \(searched\): rtpcaller/);
    } finally {
      rmSync(out, {recursive: true, force: true});
    }
  }, 220_000);
});
