/**
 * The run summary and histograms of a report, built from the per-call records and the merged
 * run histograms.
 */
import {LatencyHistogram} from './histogram.js';
import type {CallRecord, LateBy, Leaked, ReportHistograms, ReportSummary} from '../protocol/report.js';

/** The run's merged histograms; the legs are optional (a producer that has none leaves them out). */
export interface MergedHistograms {
  lateness: LatencyHistogram;
  rtt: LatencyHistogram;
  upLateness?: LatencyHistogram;
  relayHold?: LatencyHistogram;
}

/** A fresh histogram holding all counts of `parts` (per-call histograms → run histogram). */
export function mergeHistograms(parts: Iterable<LatencyHistogram>): LatencyHistogram {
  const merged = new LatencyHistogram();
  for (const p of parts) merged.merge(p);
  return merged;
}

/** The `histograms` field of a report from the merged run histograms. */
export function encodeHistograms(merged: MergedHistograms): ReportHistograms {
  return {
    latenessUs: merged.lateness.toBase64(),
    rttUs: merged.rtt.toBase64(),
    ...(merged.upLateness ? {upLatenessUs: merged.upLateness.toBase64()} : {}),
    ...(merged.relayHold ? {relayHoldUs: merged.relayHold.toBase64()} : {}),
  };
}

/** `num / den`, 0 when `den` is 0. */
export function safeRatio(num: number, den: number): number {
  return den > 0 ? num / den : 0;
}

export interface SummaryRunFacts {
  /** Most calls up at the same time during the run. */
  peakConcurrent: number;
  /** Channels / bridges / relay ports of this run still present after it (null: could not be checked). */
  leaked: Leaked;
  /** Why the leak check could not be made (then leaked.* are null). */
  leakCheckError?: string;
  /** Calls that reached Up; defaults to the calls without error. */
  callsAnswered?: number;
}

/**
 * The run summary from the per-call records and the MERGED run histograms (percentiles of a
 * run are never averages of per-call percentiles — pass `mergeHistograms(perCall)`).
 * lossRatio = lost / (packetsBack + lost); lateRatio = late / packetsBack; 0 when the denominator is 0.
 * With a sink media server (calls' `mediaServer`) nothing comes back: the frames judged are the up
 * packets delivered to it, so the denominators are packetsUp (+ lost). A percentile figure no call
 * had a sample of is null, with the calls' reason in `nullReasons` (never 0).
 */
export function buildSummary(calls: readonly CallRecord[], merged: MergedHistograms, facts: SummaryRunFacts): ReportSummary {
  let packetsUp = 0;
  let packetsBack = 0;
  let lost = 0;
  let late = 0;
  let maxConsecutiveLate = 0;
  let callsFailed = 0;
  const lateBy: LateBy = {asterisk: 0, relay: 0, mediaServer: 0};
  let anyLateBy = false;
  for (const c of calls) {
    if (c.lateBy) {
      anyLateBy = true;
      lateBy.asterisk += c.lateBy.asterisk;
      lateBy.relay += c.lateBy.relay;
      lateBy.mediaServer += c.lateBy.mediaServer;
    }
    packetsUp += c.packetsUp;
    packetsBack += c.packetsBack;
    lost += c.lost;
    late += c.late;
    if (c.maxConsecutiveLate > maxConsecutiveLate) maxConsecutiveLate = c.maxConsecutiveLate;
    if (c.error !== null) callsFailed++;
  }
  const judged = calls.some((c) => c.mediaServer === 'sink') ? packetsUp : packetsBack;
  const nullReasons: Record<string, string> = {};
  const pct = (h: LatencyHistogram | undefined, key: string) => {
    if (h === undefined || h.count > 0) return h?.percentilesMs();
    nullReasons[key] = calls.find((c) => c.nullReasons?.[key] !== undefined)?.nullReasons?.[key] ?? 'no sample in any call';
    return null;
  };
  const latenessMs = pct(merged.lateness, 'latenessMs') ?? null;
  const rttMs = pct(merged.rtt, 'rttMs') ?? null;
  const upLatenessMs = pct(merged.upLateness, 'upLatenessMs');
  const relayHoldMs = pct(merged.relayHold, 'relayHoldMs');
  return {
    callsAttempted: calls.length,
    callsAnswered: facts.callsAnswered ?? calls.length - callsFailed,
    callsFailed,
    peakConcurrent: facts.peakConcurrent,
    packetsUp,
    packetsBack,
    lost,
    lossRatio: safeRatio(lost, judged + lost),
    late,
    lateRatio: safeRatio(late, judged),
    maxConsecutiveLate,
    latenessMs,
    rttMs,
    leaked: {channels: facts.leaked.channels, bridges: facts.leaked.bridges, ports: facts.leaked.ports},
    ...(facts.leakCheckError !== undefined ? {leakCheckError: facts.leakCheckError} : {}),
    ...(upLatenessMs !== undefined ? {upLatenessMs} : {}),
    ...(relayHoldMs !== undefined ? {relayHoldMs} : {}),
    ...(anyLateBy ? {lateBy} : {}),
    ...(Object.keys(nullReasons).length > 0 ? {nullReasons} : {}),
  };
}
