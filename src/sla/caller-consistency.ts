/**
 * The caller's side is not taken on trust either: each call received no more frames than it sent
 * (where the media server echoes them: a streaming bot sends what it likes);
 * the summary's counts agree with the calls' and its percentiles with the caller histograms; and
 * the caller's round trip (caller → Asterisk → relay → media server → relay → Asterisk → caller)
 * contains the relay's (relay → media server → relay), so its median is above the relay's — caller
 * figures copied from the relay's fail here.
 */
import {LatencyHistogram} from '../metrics/histogram.js';
import type {Report} from '../protocol/report.js';
import {mediaServerOf} from './media-server.js';

const HDR_RELATIVE = 0.001;
const EPS_MS = 0.002;

export function callerDisagreements(report: Report): string[] {
  const c = report.summary.caller;
  if (!c) return [];
  const out: string[] = [];
  const sides = report.calls.flatMap((call) => (call.caller ? [{index: call.index, side: call.caller}] : []));
  const echoes = mediaServerOf(report) === 'echo';
  for (const {index, side} of sides)
    if (echoes && side.received > side.sent) out.push(`calls[${index}].caller received ${side.received} frames but sent ${side.sent}`);
  const sum = (f: (s: (typeof sides)[number]['side']) => number) => sides.reduce((n, x) => n + f(x.side), 0);
  const say = (what: string, summary: number, recomputed: number) => out.push(`summary.caller.${what} is ${summary}, calls[].caller say ${recomputed}`);
  if (c.received > sum((s) => s.received)) say('received', c.received, sum((s) => s.received));
  if (c.lost < sum((s) => s.lost)) say('lost', c.lost, sum((s) => s.lost));
  if (c.late < sum((s) => s.late)) say('late', c.late, sum((s) => s.late));
  const consecutive = sides.reduce((m, x) => Math.max(m, x.side.maxConsecutiveLate), 0);
  if (c.maxConsecutiveLate < consecutive) say('maxConsecutiveLate', c.maxConsecutiveLate, consecutive);
  const callsMax = sides.reduce((m, x) => Math.max(m, x.side.hearsLatenessMs?.max ?? 0), 0);
  if (callsMax > (c.hearsLatenessMs?.max ?? 0) + EPS_MS) out.push(`summary.caller.hearsLatenessMs.max is ${c.hearsLatenessMs?.max ?? null} ms, calls[].caller say ${callsMax} ms`);
  out.push(...histogramDisagreements(report));
  const relayRtt = report.summary.rttMs?.p50 ?? null;
  if (c.callerRttMs !== null && relayRtt !== null && report.summary.packetsBack > 0 && c.callerRttMs.p50 <= relayRtt)
    out.push(`the caller's round trip p50 ${c.callerRttMs.p50} ms is not above the relay's ${relayRtt} ms, which it contains`);
  return out;
}

/** The summary's caller percentiles against the caller histograms of the report. */
function histogramDisagreements(report: Report): string[] {
  const c = report.summary.caller!;
  const out: string[] = [];
  const check = (name: 'hearsLatenessUs' | 'callerRttUs', field: 'hearsLatenessMs' | 'callerRttMs') => {
    const b64 = report.histograms[name];
    if (b64 === undefined) return;
    let h: LatencyHistogram;
    try {
      h = LatencyHistogram.fromBase64(b64);
    } catch {
      out.push(`histograms.${name} cannot be decoded`);
      return;
    }
    const summary = c[field];
    const hist = h.count > 0 ? h.percentilesMs() : null;
    if (hist === null || summary === null) {
      if (hist !== summary) out.push(`summary.caller.${field} is ${summary === null ? 'null' : 'set'} but histograms.${name} ${hist === null ? 'is empty' : 'is not'}`);
      return;
    }
    const tolerance = (v: number) => v * HDR_RELATIVE + EPS_MS;
    for (const k of ['p99', 'max'] as const)
      if (hist[k] > summary[k] + tolerance(hist[k])) out.push(`summary.caller.${field}.${k} is ${summary[k]} ms, histograms.${name} say ${hist[k]} ms`);
  };
  check('hearsLatenessUs', 'hearsLatenessMs');
  check('callerRttUs', 'callerRttMs');
  return out;
}
