import {summarizeCallers} from '../../src/load/caller-report.js';
import {LatencyHistogram} from '../../src/metrics/histogram.js';
import type {CallerSide, Report} from '../../src/protocol/report.js';
import {callerNote} from '../../src/sla/caller-note.js';
import {evaluateReport} from '../../src/sla/evaluate.js';
import {buildReport, modify} from '../helpers/report-builder.js';

/**
 * `report` with a caller side: every call sent `sent` frames and heard them back with a round trip
 * of 1-3 ms (the relay's is 0.2-2 ms) and lateness up to `maxHearsUs`; `late` frames late per call.
 */
function withCaller(report: Report, o: {maxHearsUs?: number; late?: number; lost?: number; lateBy?: Partial<CallerSide['lateBy']>} = {}): Report {
  return modify(report, (r) => {
    const hearsAll = new LatencyHistogram();
    const rttAll = new LatencyHistogram();
    const sides: CallerSide[] = [];
    for (const c of r.calls) {
      const hears = new LatencyHistogram();
      const rtt = new LatencyHistogram();
      for (let k = 0; k < 50; k++) {
        hears.recordUs(k === 0 ? (o.maxHearsUs ?? 6000) : (k * 97) % 5000);
        rtt.recordUs(2500 + ((k * 37) % 1000));
      }
      hearsAll.merge(hears);
      rttAll.merge(rtt);
      const lost = o.lost ?? 0;
      const side: CallerSide = {
        sent: 52, expected: 50, received: 50 - lost, lost, lossRatio: lost / 50, late: o.late ?? 0, lateRatio: (o.late ?? 0) / (50 - lost),
        maxConsecutiveLate: Math.min(o.late ?? 0, 1), callerRttMs: rtt.percentilesMs(), hearsLatenessMs: hears.percentilesMs(), jitterMs: 0.3,
        lateBy: {asterisk: 0, relay: 0, mediaServer: 0, asteriskBack: o.late ?? 0, ...o.lateBy}, oneWayLegs: false,
      };
      c.caller = side;
      sides.push(side);
    }
    r.params.caller = 'rtp';
    r.summary.caller = summarizeCallers(sides, hearsAll, rttAll, {echoes: true});
    r.histograms.hearsLatenessUs = hearsAll.toBase64();
    r.histograms.callerRttUs = rttAll.toBase64();
  });
}

const base = buildReport({count: 30, runId: 'c30'});

describe('the SLA at the caller', () => {
  test('a report with the caller side is judged twice: the four timing invariants get @caller rows, all pass', () => {
    const v = evaluateReport(withCaller(base));
    const ids = v.rows.map((r) => r.invariant);
    expect(ids).toEqual(expect.arrayContaining(['maxLatenessMs', 'maxLatenessMs@caller', 'maxConsecutiveLate@caller', 'lateRatio@caller', 'lossRatio@caller']));
    expect(v.pass).toBe(true);
    expect(v.rows.find((r) => r.invariant === 'maxLatenessMs@caller')!.measured).toBe(6);
  });

  test('a report without the caller side (--caller endpoint) has no @caller rows', () => {
    expect(evaluateReport(base).rows.some((r) => r.invariant.endsWith('@caller'))).toBe(false);
  });

  test('late at the caller only: the caller row fails, the relay rows pass', () => {
    const v = evaluateReport(withCaller(base, {maxHearsUs: 70_000, late: 1}));
    expect(v.failed).toEqual(['maxLatenessMs@caller', 'lateRatio@caller']);
  });

  test('loss at the caller fails lossRatio@caller', () => {
    const v = evaluateReport(withCaller(base, {lost: 1}));
    expect(v.failed).toEqual(['lossRatio@caller']);
  });

  test('a caller figure that could not be measured fails its row with the reason', () => {
    const r = modify(withCaller(base), (x) => {
      x.summary.caller!.hearsLatenessMs = null;
      x.summary.caller!.received = 0;
      x.summary.caller!.nullReasons = {hearsLatenessMs: 'no frame came back to any caller'};
      for (const c of x.calls) c.caller = {...c.caller!, received: 0, hearsLatenessMs: null};
      delete x.histograms.hearsLatenessUs;
    });
    const v = evaluateReport(r);
    const row = v.rows.find((x) => x.invariant === 'maxLatenessMs@caller')!;
    expect(row.pass).toBe(false);
    expect(row.measuredText).toBe('unknown: no frame came back to any caller');
    expect(v.failed).toContain('lateRatio@caller');
  });
});

describe('consistency covers the caller', () => {
  const failedConsistent = (r: Report) => evaluateReport(r).rows.find((x) => x.invariant === 'consistent')!;

  test('a report load could write is consistent', () => {
    expect(failedConsistent(withCaller(base)).pass).toBe(true);
  });

  test('caller figures copied from the relay\'s fail it: the caller round trip contains the relay\'s', () => {
    const copied = modify(withCaller(base), (r) => {
      for (const c of r.calls) c.caller = {...c.caller!, callerRttMs: c.rttMs, hearsLatenessMs: c.latenessMs, received: c.packetsBack, sent: c.packetsUp};
      r.summary.caller = {...r.summary.caller!, callerRttMs: r.summary.rttMs, hearsLatenessMs: r.summary.latenessMs};
      r.histograms.callerRttUs = r.histograms.rttUs;
      r.histograms.hearsLatenessUs = r.histograms.latenessUs;
    });
    const row = failedConsistent(copied);
    expect(row.pass).toBe(false);
    expect(row.measuredText).toContain("the caller's round trip p50");
  });

  test('a call that received more than it sent, or a summary that hides a call\'s late frames, fails it', () => {
    const more = modify(withCaller(base), (r) => (r.calls[3].caller!.received = 60));
    expect(failedConsistent(more).measuredText).toContain('calls[3].caller received 60 frames but sent 52');
    const hidden = modify(withCaller(base, {late: 1}), (r) => (r.summary.caller!.late = 0));
    expect(failedConsistent(hidden).measuredText).toContain('summary.caller.late is 0, calls[].caller say 30');
  });
});

describe('the caller note', () => {
  test('says how many frames late at the caller were already late at the relay, and on which leg', () => {
    const r = modify(withCaller(base, {late: 1}), (x) => {
      x.summary.caller!.late = 212;
      x.summary.caller!.lateBy = {asterisk: 180, relay: 0, mediaServer: 0, asteriskBack: 32};
    });
    const note = callerNote(r);
    expect(note).toBe('of 212 frames late at the caller, 180 were already late at the relay (Asterisk up), 32 became late on relay → Asterisk → caller');
    expect(callerNote(base)).toBeNull();
  });
});
