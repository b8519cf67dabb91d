/** `rtpsla bench soak`: serve's RSS and open handles over a long run of calls, and the SLA. */
import {randomBytes} from 'node:crypto';
import path from 'node:path';
import {writeFileAtomic} from '../sla/render.js';
import {runLoad} from '../load/run.js';
import {evaluateReport} from '../sla/evaluate.js';
import type {Report} from '../protocol/report.js';
import {pidOf, startPhaseProcesses, type BenchCredentials, type ChildRegistry, type PhaseProcesses} from './children.js';
import {fdCount, rssBytes} from './proc.js';
import {round} from './window.js';
import type {BenchResult} from './types.js';
import {machineInfo, timestamp} from './machine.js';
import {profileFor} from './judge.js';

export interface SoakOptions {
  calls: number;
  minutes: number;
  warmUpMs: number;
  sampleEveryMs: number;
  delayBetweenMs: number;
  format: string;
  endpoint: string;
  outDir: string;
  simRtpRange: string;
  relayPortRange: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface SoakSample {
  atMs: number;
  rssBytes: number;
  fds: number;
}

export interface SoakResult {
  schema: 'rtpsla.bench-soak/v1';
  startedAt: string;
  endedAt: string;
  partial?: boolean;
  machine: BenchResult['machine'];
  params: {calls: number; minutes: number; warmUpMs: number; sampleEveryMs: number};
  samples: SoakSample[];
  first: SoakSample | null;
  last: SoakSample | null;
  rssGrowthRatio: number | null;
  fdGrowthRatio: number | null;
  /** Last sample at most 10 % above the first for both RSS and handles (a shrinking RSS is not a leak). */
  stable: boolean | null;
  relay: {reportPath: string; sla: {pass: boolean; failed: string[]}; lossRatio: number; lateRatio: number; latenessMs: Report['summary']['latenessMs']} | null;
}

/** The soak's one-line verdict: serve's RSS and open handles, first sample → last, and the SLA. */
export function soakSummaryLine(result: SoakResult, jsonPath: string): string {
  const mb = (b: number) => (b / 1048576).toFixed(1);
  const f = result.first;
  const l = result.last;
  if (!f || !l) return `soak: too few samples (${result.samples.length}); ${jsonPath}`;
  return (
    `soak: serve RSS ${mb(f.rssBytes)} → ${mb(l.rssBytes)} MB (${((result.rssGrowthRatio ?? 0) * 100).toFixed(1)} %), handles ${f.fds} → ${l.fds}; ` +
    `${result.stable ? 'at most' : 'MORE than'} 10 % above the first sample; SLA ${result.relay?.sla.pass ? 'PASS' : 'FAIL'}; ${jsonPath}`
  );
}

export async function runSoak(o: SoakOptions, reg: ChildRegistry): Promise<{result: SoakResult; jsonPath: string}> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const started = new Date();
  const stamp = timestamp(started);
  const creds: BenchCredentials = {user: 'rtpsla', pass: randomBytes(12).toString('hex')};
  const samples: SoakSample[] = [];
  let procs: PhaseProcesses | null = null;
  let timer: NodeJS.Timeout | undefined;
  let relay: SoakResult['relay'] = null;
  try {
    procs = await startPhaseProcesses(reg, {withServe: true, creds, simRtpRange: o.simRtpRange, relayPortRange: o.relayPortRange, format: o.format});
    const servePid = pidOf(procs.serve)!;
    const durationMs = o.warmUpMs + o.minutes * o.sampleEveryMs + 2000;
    log(`bench soak: ${o.calls} calls for ${(durationMs / 60000).toFixed(1)} min (warm-up ${o.warmUpMs / 1000} s, then a sample every ${o.sampleEveryMs / 1000} s)`);
    let t0 = 0;
    const sample = () => {
      const s = {atMs: Date.now() - t0, rssBytes: rssBytes(servePid), fds: fdCount(servePid)};
      samples.push(s);
      log(`bench soak: t=${(s.atMs / 1000).toFixed(0)} s serve RSS ${(s.rssBytes / 1048576).toFixed(1)} MB, ${s.fds} handles`);
      if (samples.length <= o.minutes) timer = setTimeout(sample, o.sampleEveryMs);
    };
    let holding = false;
    const res = await runLoad({
      ariUrl: procs.simUrl, ariUser: creds.user, ariPass: creds.pass, app: 'rtpsla', count: o.calls, durationMs,
      delayBetweenMs: o.delayBetweenMs, endpoint: o.endpoint, format: o.format, serveUrl: procs.serveUrl!,
      outDir: path.join(o.outDir, `${stamp}-soak-reports`), runId: `soak-${stamp}`, lateThresholdMs: 20, signal: o.signal,
      collectTimeoutMs: 30_000,
      onProgress: (pr) => {
        if (!holding && pr.phase === 'holding') {
          holding = true;
          t0 = Date.now();
          timer = setTimeout(sample, o.warmUpMs);
        }
      },
    });
    clearTimeout(timer);
    const v = evaluateReport(res.report, profileFor(o.calls).profile, profileFor(o.calls).level);
    const s = res.report.summary;
    relay = {reportPath: res.path, sla: {pass: v.pass, failed: v.failed}, lossRatio: s.lossRatio, lateRatio: s.lateRatio, latenessMs: s.latenessMs};
  } finally {
    clearTimeout(timer);
    if (procs) await reg.stop([procs.serve]);
    if (procs) await reg.stop([procs.sim, procs.echo]);
  }
  const first = samples[0] ?? null;
  const last = samples.length > 1 ? samples[samples.length - 1] : null;
  const growth = (a: number | undefined, b: number | undefined) => (a && b !== undefined ? round((b - a) / a, 4) : null);
  const rssGrowthRatio = growth(first?.rssBytes, last?.rssBytes);
  const fdGrowthRatio = growth(first?.fds, last?.fds);
  const result: SoakResult = {
    schema: 'rtpsla.bench-soak/v1',
    startedAt: started.toISOString(),
    endedAt: new Date().toISOString(),
    ...(o.signal?.aborted ? {partial: true} : {}),
    machine: machineInfo(),
    params: {calls: o.calls, minutes: o.minutes, warmUpMs: o.warmUpMs, sampleEveryMs: o.sampleEveryMs},
    samples,
    first,
    last,
    rssGrowthRatio,
    fdGrowthRatio,
    stable: rssGrowthRatio === null || fdGrowthRatio === null ? null : rssGrowthRatio <= 0.1 && fdGrowthRatio <= 0.1,
    relay,
  };
  const jsonPath = path.join(o.outDir, `${stamp}-soak.json`);
  writeFileAtomic(jsonPath, JSON.stringify(result, null, 2) + '\n', '--out');
  log(`bench soak: wrote ${jsonPath}`);
  return {result, jsonPath};
}
