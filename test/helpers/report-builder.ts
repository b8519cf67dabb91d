/**
 * Builds realistic `rtpsla.report/v1` reports for tests (real HDR histograms, summary from
 * the merged histograms via buildSummary), plus temp-dir helpers for writing them.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {LatencyHistogram} from '../../src/metrics/histogram.js';
import {REPORT_SCHEMA_ID, type CallRecord, type Report} from '../../src/protocol/report.js';
import {buildSummary, encodeHistograms, mergeHistograms} from '../../src/metrics/summary.js';

/** Deterministic PRNG (mulberry32) so generated reports are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BuildReportOptions {
  /** params.count and the number of call records (default 30). */
  count?: number;
  runId?: string;
  /** Defaults to `count`. */
  peakConcurrent?: number;
  packetsPerCall?: number;
  seed?: number;
  /** Largest lateness sample, µs (default 8000 = 8 ms, well inside 22 ms). */
  maxLatenessUs?: number;
  /**
   * legs (docs/measurement.md) (additive v1 fields): per call `lateBy` as given (each call the same), upLateness
   * and relayHold histograms, `tool.engine`. Absent: a report from before the legs.
   */
  legs?: {lateBy: {asterisk: number; relay: number; mediaServer: number}; engine?: 'native' | 'node'; maxRelayHoldUs?: number};
}

/** A complete, passing report at `count` calls. */
export function buildReport(opts: BuildReportOptions = {}): Report {
  const count = opts.count ?? 30;
  const packets = opts.packetsPerCall ?? 50;
  const rand = prng(opts.seed ?? 1);
  const maxLate = opts.maxLatenessUs ?? 8000;
  const start = Date.parse('2025-01-01T10:00:00.000Z');
  const calls: CallRecord[] = [];
  const latenessHists: LatencyHistogram[] = [];
  const rttHists: LatencyHistogram[] = [];
  const upHists: LatencyHistogram[] = [];
  const holdHists: LatencyHistogram[] = [];
  const legs = opts.legs;
  for (let i = 0; i < count; i++) {
    const lat = new LatencyHistogram();
    const rtt = new LatencyHistogram();
    const up = new LatencyHistogram();
    const hold = new LatencyHistogram();
    for (let k = 0; k < packets; k++) {
      lat.recordUs(Math.floor(rand() * maxLate));
      rtt.recordUs(200 + Math.floor(rand() * 1800));
      if (legs) {
        up.recordUs(Math.floor(rand() * maxLate * 0.5));
        hold.recordUs(5 + Math.floor(rand() * ((legs.maxRelayHoldUs ?? 40) - 5)));
      }
    }
    latenessHists.push(lat);
    rttHists.push(rtt);
    upHists.push(up);
    holdHists.push(hold);
    const late = legs ? legs.lateBy.asterisk + legs.lateBy.relay + legs.lateBy.mediaServer : 0;
    calls.push({
      index: i,
      channelId: `rtpsla-load-${i}`,
      port: 4500 + 2 * i,
      startedAt: new Date(start + i * 100).toISOString(),
      endedAt: new Date(start + i * 100 + 30_000).toISOString(),
      setupMs: 12.5,
      firstMediaMs: 40,
      packetsUp: packets,
      packetsBack: packets,
      lost: 0,
      late: 0,
      maxConsecutiveLate: 0,
      latenessMs: lat.percentilesMs(),
      rttMs: rtt.percentilesMs(),
      jitterMs: 0.4,
      error: null,
      ...(legs ? {late, upLatenessMs: up.percentilesMs(), relayHoldMs: hold.percentilesMs(), lateBy: {...legs.lateBy}, payloadType: 0, packetBytes: 172} : {}),
    });
  }
  const merged = {
    lateness: mergeHistograms(latenessHists),
    rtt: mergeHistograms(rttHists),
    ...(legs ? {upLateness: mergeHistograms(upHists), relayHold: mergeHistograms(holdHists)} : {}),
  };
  return {
    schema: REPORT_SCHEMA_ID,
    runId: opts.runId ?? `run-${count}`,
    tool: {name: 'rtpsla', version: '0.1.0', ...(legs?.engine ? {engine: legs.engine} : {})},
    startedAt: new Date(start).toISOString(),
    endedAt: new Date(start + 40_000).toISOString(),
    target: {ariUrl: 'http://127.0.0.1:8088', app: 'rtpsla', asterisk: 'sim'},
    params: {count, durationMs: 30_000, delayBetweenMs: 100, format: 'ulaw', lateThresholdMs: 20},
    summary: buildSummary(calls, merged, {peakConcurrent: opts.peakConcurrent ?? count, leaked: {channels: 0, bridges: 0, ports: 0}}),
    calls,
    histograms: encodeHistograms(merged),
  };
}

/** A deep copy of `report` changed by `mutate`. */
export function modify(report: Report, mutate: (r: Report) => void): Report {
  const copy = structuredClone(report);
  mutate(copy);
  return copy;
}

/** A fresh temp directory and a cleanup function. */
export function tempDir(prefix = 'rtpsla-sla-'): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})};
}

/** Writes `content` (JSON-serialised unless a string) to `dir/name`; returns the path. */
export function writeJson(dir: string, name: string, content: unknown): string {
  const p = path.join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return p;
}
