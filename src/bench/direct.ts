/**
 * The direct path (baseline, no relay): the benchmark is itself a minimal Stasis app on the sim.
 * With a `route` (the rtpengine path) the externalMedia target is a relay the bench sets up per call.
 * For each Local caller entering the app: answer, mixing bridge, add the caller, externalMedia
 * straight to the echo, wait for its own StasisStart, add it. After the hold: take the
 * externalMedia channel out of the bridge (the sim stops sending), let in-flight packets come back
 * for `drainMs`, then hang up both and destroy the bridge.
 */
import {AriConnection} from '../ari/connection.js';
import {addChannelWhenInStasis} from '../ari/retry.js';
import type {StasisStartEvent} from '../ari/types.js';
import {errorMessage} from '../errors.js';
import {abortWait} from '../runtime/abort.js';

export const BENCH_APP = 'rtpsla-bench';
export const BENCH_APP_ARG = 'rtpsla-bench';

export interface TrafficHooks {
  /** Every call has been originated (the steady window starts after a settle time). */
  onAllOriginated?: () => void;
  /** The first call is being hung up (the steady window ends). */
  onFirstHangup?: () => void;
}

/**
 * A relay between the sim's externalMedia and echo that is set up per call by the bench (the
 * rtpengine path). Without one, externalMedia sends straight to echo.
 */
export interface MediaRoute {
  /** Before externalMedia: where the sim sends this call's media. */
  open(callId: string): Promise<{host: string; port: number}>;
  /** After externalMedia: the sim's own address/port for this call (UNICASTRTP_LOCAL_*). */
  connect(callId: string, sim: {address: string; port: number}): Promise<void>;
  /** After hangup. */
  close(callId: string): Promise<void>;
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
  emId: string;
  bridgeId: string | null;
  originated: boolean;
  setUp: boolean;
  error: string | null;
  setupStartMs: number;
  setupMs: number | null;
  setup: Promise<void> | null;
  routeOpen: boolean;
}

export async function runDirect(o: DirectOptions): Promise<DirectResult> {
  const conn = new AriConnection({url: o.ariUrl, user: o.user, pass: o.pass, app: BENCH_APP, maxSockets: 64, pingIntervalMs: 0});
  await conn.connect();
  const rest = conn.rest;
  const calls = new Map<string, DirectCall>();
  const emWaiters = new Map<string, () => void>();
  const emStarted = new Set<string>();
  const aborted = () => o.signal?.aborted === true;
  // one listener on the signal for every call's hold (not one per call)
  const stop = abortWait(o.signal);

  const setUp = async (call: DirectCall): Promise<void> => {
    try {
      await rest.answer(call.callerId);
      const bridge = await rest.createBridge({type: 'mixing', name: `bench-${call.index}`});
      call.bridgeId = bridge.id;
      await rest.addChannel(bridge.id, [call.callerId]);
      const started = new Promise<void>((resolve) => {
        if (emStarted.has(call.emId)) return resolve();
        emWaiters.set(call.emId, resolve);
      });
      let externalHost = `${o.echoHost}:${o.echoPort}`;
      if (o.route) {
        const target = await o.route.open(call.callerId);
        call.routeOpen = true;
        externalHost = `${target.host}:${target.port}`;
      }
      const em = await rest.externalMedia({
        channelId: call.emId,
        app: BENCH_APP,
        externalHost,
        format: o.format,
        encapsulation: 'rtp',
        transport: 'udp',
        direction: 'both',
      });
      await o.route?.connect(call.callerId, {address: em.localAddress, port: em.localPort});
      await Promise.race([started, sleep(5000)]);
      emWaiters.delete(call.emId);
      await addChannelWhenInStasis(rest, bridge.id, [call.emId], {attempts: 12});
      call.setUp = true;
      call.setupMs = Date.now() - call.setupStartMs;
    } catch (err) {
      call.error = `setup failed: ${errorMessage(err)}`;
    }
  };

  conn.on('StasisStart', (ev: StasisStartEvent) => {
    const id = ev.channel.id;
    if (id.endsWith('-em') || ev.channel.name.startsWith('UnicastRTP/')) {
      emStarted.add(id);
      emWaiters.get(id)?.();
      return;
    }
    const call = calls.get(id);
    if (!call || call.setup) return;
    call.setup = setUp(call);
  });

  const closeRoute = async (call: DirectCall): Promise<void> => {
    if (!o.route || !call.routeOpen) return;
    call.routeOpen = false;
    await o.route.close(call.callerId).catch(() => undefined);
  };
  const teardown = async (call: DirectCall): Promise<void> => {
    if (call.bridgeId && call.setUp) {
      await rest.removeChannel(call.bridgeId, [call.emId]).catch(() => undefined);
      await sleep(o.drainMs ?? 200);
    }
    await Promise.allSettled([rest.hangup(call.callerId), rest.hangup(call.emId)]);
    if (call.bridgeId) await rest.destroyBridge(call.bridgeId).catch(() => undefined);
    await closeRoute(call);
  };

  const holds: Promise<void>[] = [];
  let firstHangup = false;
  try {
    const t0 = Date.now();
    for (let i = 0; i < o.count && !aborted(); i++) {
      const wait = t0 + i * o.delayBetweenMs - Date.now();
      if (wait > 0) await sleep(wait);
      const callerId = `${o.runId}-${i}`;
      const call: DirectCall = {
        index: i, callerId, emId: `${callerId}-em`, bridgeId: null, originated: false, setUp: false, error: null,
        setupStartMs: Date.now(), setupMs: null, setup: null, routeOpen: false,
      };
      calls.set(callerId, call);
      holds.push((async () => {
        try {
          await rest.originate({endpoint: o.endpoint, app: BENCH_APP, appArgs: [BENCH_APP_ARG, o.runId, String(i)], formats: o.format, channelId: callerId});
          call.originated = true;
        } catch (err) {
          call.error = `originate failed: ${errorMessage(err)}`;
          return;
        }
        await Promise.race([sleep(o.durationMs), stop.promise]);
        if (!firstHangup) {
          firstHangup = true;
          o.onFirstHangup?.();
        }
        await call.setup?.catch(() => undefined);
        await teardown(call);
      })());
    }
    o.onAllOriginated?.();
    await Promise.all(holds);
  } finally {
    stop.dispose();
    // nothing this phase created stays up
    await Promise.allSettled([...calls.values()].map((c) => Promise.allSettled([rest.hangup(c.callerId), rest.hangup(c.emId), closeRoute(c)])));
    await conn.close();
  }
  const all = [...calls.values()];
  const setupTimes = all.map((c) => c.setupMs).filter((v): v is number => v !== null).sort((a, b) => a - b);
  return {
    callsAttempted: all.length,
    callsSetUp: all.filter((c) => c.setUp).length,
    callsFailed: all.filter((c) => c.error !== null).length,
    errors: [...new Set(all.map((c) => c.error).filter((e): e is string => e !== null))].slice(0, 5),
    setupMs: {p50: setupTimes[Math.floor(setupTimes.length / 2)] ?? 0, max: setupTimes.at(-1) ?? 0},
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
