import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/cli.js';
import type {BenchResult, PathResult} from '../../src/bench/types.js';

describe('bench: smoke run of the harness (real processes, N = 5 for 2 s, both paths)', () => {
  test('writes a result JSON with both paths measured, the ratios and an SVG chart, and leaves no child behind', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-bench-'));
    try {
      const r = await runCli(
        ['bench', '--calls', '5', '--duration-ms', '2000', '--settle-ms', '600', '--out', out,
          '--sim-rtp-range', '27000-27999', '--relay-port-range', '37000-37999'],
        {timeoutMs: 90_000},
      );
      expect(r.stderr).toMatch(/bench: N=5 direct/);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/RT p99/); // the console table

      const files = readdirSync(out);
      const json = files.find((f) => /^\d{8}-\d{6}\.json$/.test(f));
      const svg = files.find((f) => /^\d{8}-\d{6}\.svg$/.test(f));
      expect(json).toBeDefined();
      expect(svg).toBeDefined();
      expect(readFileSync(path.join(out, svg!), 'utf8')).toMatch(/^<svg[\s\S]*<path[\s\S]*<\/svg>\s*$/);

      const res = JSON.parse(readFileSync(path.join(out, json!), 'utf8')) as BenchResult;
      expect(res.schema).toBe('rtpsla.bench/v1');
      expect(res.machine.cpus).toBeGreaterThan(0);
      expect(res.machine.node).toBe(process.version);
      expect(res.params).toMatchObject({calls: [5], durationMs: 2000});
      expect(res.results).toHaveLength(1);
      const n = res.results[0];
      expect(n.calls).toBe(5);
      for (const p of [n.direct, n.relay] as PathResult[]) {
        expect(p).not.toBeNull();
        expect(p.callsFailed).toBe(0);
        expect(p.sim.packetsSent).toBeGreaterThan(0);
        expect(p.sim.packetsReceived).toBeGreaterThan(0);
        expect(p.roundTripMs.count).toBeGreaterThan(0);
        expect(p.roundTripMs.p50).toBeGreaterThan(0);
        expect(p.roundTripMs.p99).toBeGreaterThanOrEqual(p.roundTripMs.p50);
        expect(p.window.cpuPercent.sim).toBeGreaterThan(0);
        expect(p.window.cpuPercent.echo).toBeGreaterThanOrEqual(0);
        // steal is read from /proc/stat: a finite, non-negative amount (0 on bare metal)
        expect(Number.isFinite(p.window.hostSteal.phaseMs) && p.window.hostSteal.phaseMs >= 0).toBe(true);
        expect(Number.isFinite(p.window.hostSteal.windowPercent) && p.window.hostSteal.windowPercent >= 0).toBe(true);
      }
      expect(n.direct!.path).toBe('direct');
      expect(n.direct!.relay).toBeNull();
      expect(n.relay!.path).toBe('relay');
      expect(n.relay!.relay!.packetsBack).toBeGreaterThan(0);
      expect(n.relay!.window.cpuPercent.serve).toBeGreaterThan(0);
      expect(n.relay!.window.rssPeakBytes.serve).toBeGreaterThan(0);
      expect(n.relay!.relayCpuUsPerPacket).toBeGreaterThan(0);
      expect(typeof n.relay!.relay!.sla.pass).toBe('boolean');
      // ratios relay/direct and the added time are computed from the two round-trip distributions
      expect(n.ratios).not.toBeNull();
      expect(n.ratios!.p99).toBeCloseTo(n.relay!.roundTripMs.p99 / n.direct!.roundTripMs.p99, 2);
      expect(n.relayAddsMs!.p50).toBeCloseTo(n.relay!.roundTripMs.p50 - n.direct!.roundTripMs.p50, 2);
      expect(Object.keys(res.targets)).toEqual(['slaCleanAt600', 'relayAddsP99At150', 'serveRssAt1000']);
      // the harness ran with the flags every child gets (runCli starts it with them)
      expect(res.machine.nodeFlags).toEqual(['--no-memory-reducer']);
      expect(res.machine.harnessHasNodeFlags).toBe(true);

      const procs = execFileSync('ps', ['-eo', 'args='], {encoding: 'utf8'});
      expect(procs).not.toMatch(/--rtp-range 27000-27999/);
      expect(procs).not.toMatch(/--port-range 37000-37999/);
    } finally {
      rmSync(out, {recursive: true, force: true});
    }
  }, 100_000);
});
