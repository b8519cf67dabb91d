/**
 * The direct path (baseline, no relay): the benchmark runs the product's own call orchestrator
 * (src/serve/call-orchestrator.ts) as a Stasis app on the sim, with the direct media leg:
 * externalMedia straight to the echo, or, with a `route` (the rtpengine path), to a relay the
 * bench sets up per call. Answer, bridge + caller, externalMedia, its StasisStart (or 422 retried),
 * addChannel: as serve does. The calls are originated, held and hung up by load's own loop
 * (src/load/originate.ts); after each hold, before the hangup, the orchestrator takes the
 * externalMedia channel out of the bridge, lets in-flight packets come back for `drainMs`, then
 * hangs it up and destroys the bridge.
 */
import {AriConnection} from '../ari/connection.js';
import {OriginateLoop} from '../load/originate.js';
import {nullLogger} from '../log/logger.js';
import {newRunToken} from '../protocol/app-args.js';
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
  let firstHangup = false;
  const loop = new OriginateLoop({
    rest,
    app: BENCH_APP,
    endpoint: o.endpoint,
    format: o.format,
    runId: o.runId,
    token: newRunToken(),
    count: o.count,
    durationMs: o.durationMs,
    delayBetweenMs: o.delayBetweenMs,
    signal: o.signal,
    onAllOriginated: o.onAllOriginated,
    beforeHangup: async (call) => {
      if (!firstHangup) {
        firstHangup = true;
        o.onFirstHangup?.();
      }
      // the orchestrator's teardown: externalMedia out of the bridge, drain, then hang up both and destroy the bridge
      const live = calls.call(call.channelId);
      if (live) await calls.teardown(live, 'hold over');
    },
  });
  const originated = loop.calls;
  try {
    await loop.run();
  } finally {
    // nothing this phase created stays up
    await calls.shutdown();
    await loop.hangUpAll();
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
    const error = c.error ?? (r ? (r.setupMs === null ? `setup failed: ${r.error ?? 'unknown'}` : null) : c.originatedAtMs !== null ? 'the call never reached the Stasis app' : null);
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
