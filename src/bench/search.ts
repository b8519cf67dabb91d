/**
 * `bench --search`: the largest SLA-clean N of each rtpsla path found by the capacity search
 * (src/capacity/search.ts) instead of taken from the N values given. Each step is a fresh phase
 * of that path (its own processes), judged as `rtpsla capacity` judges a step.
 */
import {searchCapacity, type Resolution} from '../capacity/search.js';
import {judgeStep, limitingText} from '../capacity/verdict.js';
import type {Report} from '../protocol/report.js';
import {runPhase, type PhaseCtx} from './phase.js';
import type {PhasePlacement} from './placement.js';
import type {BenchSearch, RtpslaPathName} from './types.js';

export async function searchPath(
  ctx: PhaseCtx,
  pathName: RtpslaPathName,
  o: {max: number; resolution: Resolution; placementAt: (n: number) => PhasePlacement; readReport: (file: string) => Report | null},
): Promise<BenchSearch> {
  const steps: BenchSearch['steps'] = [];
  const limits = new Map<number, string>();
  const r = await searchCapacity(
    async (n) => {
      const res = await runPhase(ctx, n, pathName, o.placementAt(n));
      const report = res.relay ? o.readReport(res.relay.reportPath) : null;
      if (!report) {
        steps.push({calls: n, phase: '', pass: false, limitingText: 'no report', reportPath: null});
        return {pass: false, limiting: 'no report'};
      }
      const j = judgeStep(report, n);
      const text = j.pass ? null : limitingText(j, n);
      if (text) limits.set(n, text);
      steps.push({calls: n, phase: '', pass: j.pass, limitingText: text, reportPath: res.relay!.reportPath});
      return j;
    },
    {max: o.max, resolution: o.resolution, signal: ctx.o.signal, onStep: (s) => (steps[steps.length - 1].phase = s.phase)},
  );
  ctx.log(`bench: ${pathName}: largest SLA-clean N = ${r.largest ?? 'none'}${r.firstFail ? ` (FAIL at ${r.firstFail.n}: ${limits.get(r.firstFail.n) ?? r.firstFail.limiting})` : ''}`);
  return {
    largest: r.largest,
    confirmed: r.confirmed,
    firstFail: r.firstFail ? {calls: r.firstFail.n, limitingText: limits.get(r.firstFail.n) ?? r.firstFail.limiting ?? 'FAIL'} : null,
    stoppedBy: r.stoppedBy,
    steps,
  };
}
