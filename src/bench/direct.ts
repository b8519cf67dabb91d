/**
 * The direct path (baseline, no relay): the benchmark runs the product's own call orchestrator
 * (src/serve/call-orchestrator.ts) as a Stasis app on the sim, with the direct media leg:
 * externalMedia straight to the echo, or, with a `route` (the rtpengine path), to a relay the
 * bench sets up per call. Answer, bridge + caller, externalMedia, its StasisStart (or 422 retried),
 * addChannel: as serve does. When the caller is hung up after the hold, the orchestrator takes the
 * externalMedia channel out of the bridge, lets in-flight packets come back for `drainMs`, then
 * hangs it up and destroys the bridge.
 */
import {AriConnection} from '../ari/connection.js';
import {errorMessage} from '../errors.js';
import {nullLogger} from '../log/logger.js';
import {loadAppArgs, newRunToken} from '../protocol/app-args.js';
import {abortWait, sleepUnlessAborted} from '../runtime/abort.js';
import {CallOrchestrator} from '../serve/call-orchestrator.js';
import {ServeLedger} from '../serve/ledger.js';
import {DirectLeg, type MediaRoute} from '../serve/media-leg.js';

export type {MediaRoute} from '../serve/media-leg.js';

export const BENCH_APP = 'rtpsla-bench';

export interface TrafficHooks {
  /** Every call has been originated (the steady window starts after a settle time). */
  onAllOriginated?: () => void;
  /** The first call is being hung up (the steady window ends). */
  onFirstHangup?: () => void;
}

export interface DirectOptions extends TrafficHooks {
  ariUrl: string;
  user: string;
  pass: string;
  echoHost: string;
  echoPort: number;
  count: number;
  durationMs: number;
  delayBetweenMs: number;
  format: string;
  endpoint: string;
  runId: string;
  drainMs?: number;
  signal?: AbortSignal;
  route?: MediaRoute;
}

export interface DirectResult {
  callsAttempted: number;
  callsSetUp: number;
  callsFailed: number;
  errors: string[];
  setupMs: {p50: number; max: number};
}

interface DirectCall {
  index: number;
  callerId: string;
  originateStartMs: number;
  originated: boolean;
  error: string | null;
}

export async function runDirect(o: DirectOptions): Promise<DirectResult> {
  const conn = new AriConnection({url: o.ariUrl, user: o.user, pass: o.pass, app: BENCH_APP, maxSockets: 64, pingIntervalMs: 0});
  await conn.connect();
  const rest = conn.rest;
  const ledger = new ServeLedger({engine: 'node', format: o.format});
  const calls = new CallOrchestrator(
    rest,
    ledger,
    new DirectLeg({host: o.echoHost, port: o.echoPort}, o.route),
    {app: BENCH_APP, format: o.format, drainMs: o.drainMs ?? 200, emStasisWaitMs: 5000, addChannelAttempts: 12},
    nullLogger,
  );
  calls.listen(conn);
  const token = newRunToken();
  const originated: DirectCall[] = [];
  const aborted = () => o.signal?.aborted === true;
  // one listener on the signal for every call's hold (not one per call)
  const stop = abortWait(o.signal);
  const holds: Promise<void>[] = [];
  let firstHangup = false;
  try {
    const t0 = Date.now();
    for (let i = 0; i < o.count && !aborted(); i++) {
      const wait = t0 + i * o.delayBetweenMs - Date.now();
      if (wait > 0) await sleepUnlessAborted(wait, stop);
      if (aborted()) break;
      const call: DirectCall = {index: i, callerId: `${o.runId}-${i}`, originateStartMs: Date.now(), originated: false, error: null};
      originated.push(call);
      holds.push((async () => {
        try {
          await rest.originate({endpoint: o.endpoint, app: BENCH_APP, appArgs: loadAppArgs(o.runId, i, token), formats: o.format, channelId: call.callerId});
          call.originated = true;
        } catch (err) {
          call.error = `originate failed: ${errorMessage(err)}`;
          return;
        }
        await sleepUnlessAborted(o.durationMs, stop);
        if (!firstHangup) {
          firstHangup = true;
          o.onFirstHangup?.();
        }
        // the orchestrator's teardown: externalMedia out of the bridge, drain, then hang up both and destroy the bridge
        const live = calls.call(call.callerId);
        if (live) await calls.teardown(live, 'hold over');
        else await rest.hangup(call.callerId).catch(() => undefined);
      })());
    }
    o.onAllOriginated?.();
    await Promise.all(holds);
  } finally {
    stop.dispose();
    // nothing this phase created stays up
    await calls.shutdown();
    await Promise.allSettled(originated.filter((c) => c.originated).map((c) => rest.hangup(c.callerId)));
    await conn.close();
  }
  const records = new Map((ledger.runRecords(o.runId, false)?.calls ?? []).map((r) => [r.index, r]));
  const setupTimes: number[] = [];
  const errors: string[] = [];
  let setUp = 0;
  let failed = 0;
  for (const c of originated) {
    const r = records.get(c.index);
    // setup as the bench always measured it: from the originate request to the call being up
    if (r && r.setupMs !== null) {
      setUp++;
      setupTimes.push(Math.max(0, Math.round(Date.parse(r.startedAt) + r.setupMs - c.originateStartMs)));
    }
    const error = c.error ?? (r ? (r.setupMs === null ? `setup failed: ${r.error ?? 'unknown'}` : null) : c.originated ? 'the call never reached the Stasis app' : null);
    if (error !== null) {
      failed++;
      errors.push(error);
    }
  }
  setupTimes.sort((a, b) => a - b);
  return {
    callsAttempted: originated.length,
    callsSetUp: setUp,
    callsFailed: failed,
    errors: [...new Set(errors)].slice(0, 5),
    setupMs: {p50: setupTimes[Math.floor(setupTimes.length / 2)] ?? 0, max: setupTimes.at(-1) ?? 0},
  };
}
