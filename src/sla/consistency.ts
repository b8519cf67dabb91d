/**
 * `sla` does not take a report's summary on trust (the bad-report-files fault scenario checks it): what can be recomputed from
 * its `calls[]` and its histograms is recomputed, and every disagreement is named. A report that
 * load wrote agrees with itself exactly (its summary is built from the same records and
 * histograms); one edited or damaged after the run does not.
 */
import {LatencyHistogram} from '../metrics/histogram.js';
import type {Report} from '../protocol/report.js';

/** HDR histograms keep 3 significant digits: a value read back may be up to 0.1 % off. */
const HDR_RELATIVE = 0.001;
const EPS_MS = 0.002;

/**
 * Each way the summary claims a better run than its calls[] and histograms show, in words:
 * fewer failed calls, lost or late packets, more packets back, a smaller max or p99 lateness.
 * (A summary worse than its records cannot make a run pass; the rows judge it as it stands.)
 */
export function reportDisagreements(report: Report): string[] {
  const s = report.summary;
  const calls = report.calls;
  const out: string[] = [];
  const sum = (f: (c: Report['calls'][number]) => number) => calls.reduce((n, c) => n + f(c), 0);
  const say = (what: string, summary: number, recomputed: number, unit = '') =>
    out.push(`summary.${what} is ${summary}${unit}, calls[] say ${recomputed}${unit}`);
  if (s.callsAttempted !== calls.length) say('callsAttempted', s.callsAttempted, calls.length);
  const failed = calls.filter((c) => c.error !== null).length;
  if (s.callsFailed < failed) say('callsFailed', s.callsFailed, failed);
  const back = sum((c) => c.packetsBack);
  if (s.packetsBack > back) say('packetsBack', s.packetsBack, back);
  const lost = sum((c) => c.lost);
  if (s.lost < lost) say('lost', s.lost, lost);
  const late = sum((c) => c.late);
  if (s.late < late) say('late', s.late, late);
  const consecutive = calls.reduce((m, c) => Math.max(m, c.maxConsecutiveLate), 0);
  if (s.maxConsecutiveLate < consecutive) say('maxConsecutiveLate', s.maxConsecutiveLate, consecutive);
  const callsMax = calls.filter((c) => c.packetsBack > 0).reduce((m, c) => Math.max(m, c.latenessMs?.max ?? 0), 0);
  if (s.latenessMs && callsMax > s.latenessMs.max + EPS_MS) say('latenessMs.max', s.latenessMs.max, callsMax, ' ms');

  let lateness: LatencyHistogram | null = null;
  try {
    lateness = LatencyHistogram.fromBase64(report.histograms.latenessUs);
  } catch {
    out.push('histograms.latenessUs cannot be decoded');
  }
  if (lateness && s.latenessMs) {
    const hist = lateness.percentilesMs();
    const tolerance = (v: number) => v * HDR_RELATIVE + EPS_MS;
    if (hist.max > s.latenessMs.max + tolerance(hist.max))
      out.push(`summary.latenessMs.max is ${s.latenessMs.max} ms, histograms.latenessUs say ${hist.max} ms`);
    if (hist.p99 > s.latenessMs.p99 + tolerance(hist.p99))
      out.push(`summary.latenessMs.p99 is ${s.latenessMs.p99} ms, histograms.latenessUs say ${hist.p99} ms`);
  }
  return out;
}
