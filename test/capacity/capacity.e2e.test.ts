/**
 * `rtpsla capacity --embedded` against a known edge: the sim makes every frame late while more
 * than 50 calls are up, so the search must land within its resolution of 50 (real processes).
 */
import {existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/cli.js';
import type {CapacityFile} from '../../src/capacity/run.js';

describe('capacity --embedded on the sim with lateAboveCalls 50', () => {
  test('finds 50 within the resolution, names the limiting invariant and its leg, and writes every step\'s report beside the capacity file', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-capacity-'));
    try {
      const r = await runCli(
        ['capacity', '--embedded', '--max', '120', '--duration-ms', '3000', '--resolution', '5', '--settle-ms', '500', '--late-above-calls', '50:30',
          '--out', out, '--relay-port-range', '38000-38999', '--sim-rtp-range', '28000-28999', '--caller-port-range', '58000-58999', '--json'],
        {timeoutMs: 280_000},
      );
      expect(r.code).toBe(0);
      const file = JSON.parse(r.stdout) as CapacityFile;
      expect(file.schema).toBe('rtpsla.capacity/v1');
      expect(file.partial).toBe(false);
      expect(file.target.embedded).toBe(true);
      expect(file.target.asterisk).toBe('sim');
      expect(file.stoppedBy).toBe('resolution');
      // 50 ± the resolution; above 50 every frame is late, so no N above it can pass
      expect(file.largestSlaCleanCalls).not.toBeNull();
      expect(file.largestSlaCleanCalls!).toBeLessThanOrEqual(50);
      expect(file.largestSlaCleanCalls!).toBeGreaterThanOrEqual(45);
      expect(file.confirmed).toBe(true);
      expect(file.firstFail!.calls).toBeGreaterThan(50);
      expect(file.firstFail!.calls - file.largestSlaCleanCalls!).toBeLessThanOrEqual(5);
      expect(file.firstFail!.limiting).toMatch(/^(lateRatio|maxLatenessMs|maxConsecutiveLate)/);
      expect(file.line).toBe(`largest SLA-clean N = ${file.largestSlaCleanCalls} (FAIL at ${file.firstFail!.calls}: ${file.firstFail!.limitingText})`);
      // the sim's frames were late before the relay saw them: the leg is Asterisk's way up
      expect(file.firstFail!.limitingText).toMatch(/% late from Asterisk up$/);
      // the step-up sequence, capped at max
      expect(file.steps.slice(0, 2).map((s) => [s.calls, s.pass])).toEqual([[30, true], [60, false]]);
      for (const s of file.steps) {
        expect(existsSync(s.reportPath)).toBe(true);
        expect(path.dirname(s.reportPath)).toBe(file.stepsDir);
        expect(s.failedCalls).toBe(0);
        expect(s.leaked).toBe(false);
        expect(s.peakConcurrent).toBeGreaterThanOrEqual(s.calls);
      }
      // the result passed twice in a row
      const i = file.steps.map((s) => s.calls).lastIndexOf(file.largestSlaCleanCalls!);
      expect(file.steps[i].pass && file.steps[i - 1].calls === file.largestSlaCleanCalls && file.steps[i - 1].pass).toBe(true);
      // only the capacity file and the steps' folder at the top, so `sla <out>/*.json` never sees a step report
      expect(readdirSync(out).sort()).toEqual([path.basename(file.stepsDir), `${path.basename(file.stepsDir)}.json`].sort());
      expect(r.stderr).toMatch(/capacity: step 1: N = 30 \(stepping up\) PASS/);
    } finally {
      rmSync(out, {recursive: true, force: true});
    }
  }, 300_000);
});
