/** The capacity runner on a fake load (reports built in memory) and a recorded pause: steps, verdicts, the file. */
import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {afterEach, describe, expect, it} from '@jest/globals';
import {runCapacity, type StepLoadOptions} from '../../src/capacity/run.js';
import {judgeStep, limitingText} from '../../src/capacity/verdict.js';
import type {LoadOptions, LoadResult} from '../../src/load/run.js';
import type {Report} from '../../src/protocol/report.js';
import {buildReport, modify, tempDir} from '../helpers/report-builder.js';

const LOAD: StepLoadOptions = {
  ariUrl: 'http://127.0.0.1:1', ariUser: 'u', ariPass: 'p', app: 'rtpsla', serveUrl: 'http://127.0.0.1:2', durationMs: 3000, delayBetweenMs: 10,
  endpoint: 'Local/s@rtpsla-source/n', caller: 'rtp', format: 'ulaw', lateThresholdMs: 20,
};

/** A clean report of n calls, or one whose frames came late from Asterisk (90 % of the late ones). */
function report(n: number, clean: boolean): Report {
  return clean ? buildReport({count: n}) : buildReport({count: n, maxLatenessUs: 40_000, legs: {lateBy: {asterisk: 9, relay: 1, mediaServer: 0}}});
}

function fakeLoad(make: (n: number) => Report | Error) {
  const runs: LoadOptions[] = [];
  const runLoad = async (o: LoadOptions): Promise<LoadResult> => {
    runs.push(o);
    const r = make(o.count);
    if (r instanceof Error) throw r;
    return {report: modify(r, (x) => void (x.runId = o.runId!)), path: path.join(o.outDir, `${o.runId}.json`), cutShort: null};
  };
  return {runs, runLoad};
}

const dirs: Array<() => void> = [];
afterEach(() => dirs.splice(0).forEach((c) => c()));
function out(): string {
  const t = tempDir('rtpsla-capacity-');
  dirs.push(t.cleanup);
  return t.dir;
}

describe('capacity runner', () => {
  it('each step is a load run of N calls judged by sla, a settle pause between steps, and the file lists them all', async () => {
    const dir = out();
    const {runs, runLoad} = fakeLoad((n) => report(n, n <= 40));
    const sleeps: number[] = [];
    const {file, path: p, error} = await runCapacity(
      {load: LOAD, max: 200, resolution: {calls: 5}, settleMs: 750, outDir: dir, embedded: false},
      {runLoad, sleep: async (ms) => void sleeps.push(ms), now: () => new Date('2026-12-07T04:00:00Z')},
    );
    expect(error).toBeUndefined();
    expect(file.largestSlaCleanCalls!).toBeGreaterThanOrEqual(35);
    expect(file.largestSlaCleanCalls!).toBeLessThanOrEqual(40);
    expect(file.firstFail).toMatchObject({limiting: 'lateRatio', limitingText: 'lateRatio, 90 % late from Asterisk up'});
    expect(file.line).toBe(`largest SLA-clean N = ${file.largestSlaCleanCalls} (FAIL at ${file.firstFail!.calls}: lateRatio, 90 % late from Asterisk up)`);
    expect(sleeps).toEqual(new Array(runs.length - 1).fill(750));
    expect(p).toBe(path.join(dir, '20261207-040000.json'));
    expect(JSON.parse(readFileSync(p, 'utf8'))).toEqual(JSON.parse(JSON.stringify(file)));
    // the step reports go in the folder beside the file, each run named by its step
    expect(runs.every((r) => r.outDir === path.join(dir, '20261207-040000'))).toBe(true);
    expect(file.steps.map((s) => path.basename(s.reportPath))).toEqual(runs.map((r, i) => `step${String(i + 1).padStart(2, '0')}-n${r.count}.json`));
    expect(file.steps.map((s) => s.calls)).toEqual(runs.map((r) => r.count));
    expect(runs.every((r) => r.durationMs === 3000 && r.caller === 'rtp')).toBe(true);
  });

  it('below the smallest level a step is judged at the default limits with N as its call count', () => {
    const j = judgeStep(buildReport({count: 12}), 12);
    expect(j.pass).toBe(true);
    expect(j.judgedAt).toMatch(/default limits at 12 calls/);
    const late = judgeStep(buildReport({count: 12, maxLatenessUs: 40_000}), 12);
    expect(late.pass).toBe(false);
    expect(late.failed).toContain('maxLatenessMs');
  });

  it('a step that did not reach N calls up at once fails on peakConcurrent, at any level', () => {
    const j = judgeStep(buildReport({count: 185, peakConcurrent: 170}), 185);
    expect(j.pass).toBe(false);
    expect(j.limiting).toBe('peakConcurrent');
    expect(limitingText(j, 185)).toBe('peakConcurrent (170 of 185 calls up at once)');
    // at an SLA level of its own (150) the same report passes sla's own peakConcurrent row
    expect(judgeStep(buildReport({count: 185, peakConcurrent: 185}), 185).pass).toBe(true);
  });

  it('a leaking step stops the search, and the file says so', async () => {
    const {runs, runLoad} = fakeLoad((n) => (n === 60 ? modify(report(n, true), (r) => void (r.summary.leaked.channels = 2)) : report(n, true)));
    const {file} = await runCapacity({load: LOAD, max: 1000, resolution: {calls: 5}, settleMs: 0, outDir: out(), embedded: true}, {runLoad, sleep: async () => undefined});
    expect(runs.map((r) => r.count)).toEqual([30, 60]);
    expect(file.stoppedBy).toBe('leak');
    expect(file.steps[1]).toMatchObject({leaked: true, pass: false, limiting: 'leakedChannels'});
    expect(file.largestSlaCleanCalls).toBe(30);
    expect(file.confirmed).toBe(false);
    expect(file.line).toMatch(/^largest SLA-clean N = 30 \(passed once, not confirmed\) \(stopped: FAIL at 60: leakedChannels, something was left behind\)$/);
  });

  it('a step that cannot run stops the search: the file is written with the error, which is handed back', async () => {
    const boom = new Error('serve is not reachable');
    const {runLoad} = fakeLoad((n) => (n === 60 ? boom : report(n, true)));
    const dir = out();
    const {file, path: p, error} = await runCapacity({load: LOAD, max: 1000, resolution: {calls: 5}, settleMs: 0, outDir: dir, embedded: false}, {runLoad, sleep: async () => undefined});
    expect(error).toBe(boom);
    expect(file).toMatchObject({stoppedBy: 'error', partial: true, error: 'serve is not reachable'});
    expect(file.steps).toHaveLength(1);
    expect(existsSync(p)).toBe(true);
  });

  it('Ctrl-C: the running step ends, the file is written marked partial', async () => {
    const ac = new AbortController();
    const {runs, runLoad} = fakeLoad((n) => {
      if (n === 60) ac.abort();
      return n === 60 ? modify(report(n, true), (r) => void (r.partial = true)) : report(n, true);
    });
    const {file} = await runCapacity({load: LOAD, max: 1000, resolution: {calls: 5}, settleMs: 0, outDir: out(), embedded: false, signal: ac.signal}, {runLoad, sleep: async () => undefined});
    expect(runs.map((r) => r.count)).toEqual([30, 60]);
    expect(runs[1].signal).toBe(ac.signal);
    expect(file).toMatchObject({stoppedBy: 'interrupted', partial: true, largestSlaCleanCalls: 30, firstFail: null});
    expect(file.steps[1].partial).toBe(true);
  });
});
