/**
 * The fault scenarios, each against its own real processes on 127.0.0.1 (one file a family under
 * scenarios/). A scenario returns what it measured and the checks its expectation is made of; it
 * passes only when every check holds and no process crashed. Timing rows of `sla`
 * (maxLatenessMs, maxConsecutiveLate, lateRatio) depend on how busy this machine is, not on the
 * fault: they are shown, and only the HTTP flood judges lateness (against a starvation bound, not
 * the SLA).
 */
import {errorMessage} from '../errors.js';
import type {Scenario} from './scenarios/kit.js';
import {ariRestart, echoRestart, engineKilled, websocketDrops} from './scenarios/restarts.js';
import {garbage, httpFlood, portExhaustion} from './scenarios/network.js';
import {failedHangup, hangupNeverWorks, secondServe, sigintLoad, sigtermServe} from './scenarios/lifecycle.js';
import {badConfig, badReports, echoHostName, userinfo} from './scenarios/inputs.js';

export {TIMING_INVARIANTS, type Check, type Figures, type Outcome, type Scenario} from './scenarios/kit.js';

export const SCENARIOS: readonly Scenario[] = [
  badConfig,
  badReports,
  userinfo,
  echoHostName,
  secondServe,
  failedHangup,
  sigintLoad,
  websocketDrops,
  ariRestart,
  echoRestart,
  engineKilled,
  portExhaustion,
  garbage,
  httpFlood,
  sigtermServe,
  hangupNeverWorks,
];

export const CI_SCENARIOS: readonly string[] = SCENARIOS.filter((s) => s.ci).map((s) => s.name);

/** First and last line of an error (a child's "exited before it was ready:" is followed by its output). */
export function describeError(err: unknown): string {
  const lines = errorMessage(err).split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length > 1 ? `${lines[0]} ${lines.at(-1)}` : (lines[0] ?? '');
}
