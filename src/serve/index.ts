import type {Server} from 'node:http';
import {monitorEventLoopDelay} from 'node:perf_hooks';
import {AriConnection} from '../ari/connection.js';
import type {PortRange} from '../config/parse.js';
import {ConfigError, errorMessage} from '../errors.js';
import type {Logger} from '../log/logger.js';
import {PortPool} from '../relay/port-pool.js';
import {numericHost, selectEngine} from '../engine/engine-select.js';
import type {EngineChoice} from '../engine/engine-types.js';
import {relayOpener} from '../relay/relay-factory.js';
import {clockRateFor} from '../rtp/packet.js';
import {CallLifecycle} from './call-lifecycle.js';
import {createServeHttp} from './http.js';
import {snapshotMetrics} from './metrics.js';

export interface ServeOptions {
  ariUrl: string;
  ariUser: string;
  ariPass: string;
  app: string;
  bindIp: string;
  portRange: PortRange;
  echoHost: string;
  echoPort: number;
  metricsHost: string;
  metricsPort: number;
  metricsIntervalSec: number;
  format: string;
  lateThresholdMs: number;
  drainMs: number;
  reconcileIntervalSec: number;
  /** auto (default): the native engine when built and starting, else node; native: required; node. */
  engine?: EngineChoice;
  logger: Logger;
}

export interface RunningServe {
  readonly httpPort: number;
  readonly calls: CallLifecycle;
  readonly connection: AriConnection;
  /** Graceful stop (SIGINT/SIGTERM): no new calls, every call torn down, ports released. */
  close(): Promise<void>;
}

/**
 * Start serve: connect to ARI (credentials checked first, exit 2 on failure), reconcile leftovers
 * of earlier runs, listen for Stasis events, serve HTTP, log one stats line per interval,
 * reconcile periodically and after every reconnect.
 */
export async function startServe(o: ServeOptions): Promise<RunningServe> {
  clockRateFor(o.format); // unsupported format → RangeError before anything starts
  const log = o.logger;
  const pool = new PortPool(o.portRange);
  const connection = new AriConnection({url: o.ariUrl, user: o.ariUser, pass: o.ariPass, app: o.app, logger: log});
  const engine = await selectEngine(o.engine ?? 'auto');
  if (engine.fallbackReason !== null) log.info('engine.fallback', {engine: 'node', reason: engine.fallbackReason});
  engine.native?.on('error', (err: Error) => log.error('engine.exited', {error: err.message}));
  // the native engine compares numeric addresses: a host name is resolved once, here
  const echoAddress = engine.native ? await numericHost(o.echoHost).catch(async (err: unknown) => {
    await engine.native?.close();
    throw err;
  }) : o.echoHost;
  const calls = new CallLifecycle(
    connection.rest,
    pool,
    {
      app: o.app,
      bindIp: o.bindIp,
      echo: {address: echoAddress, port: o.echoPort},
      format: o.format,
      openRelay: relayOpener(engine.native),
      engine: engine.kind,
      lateThresholdMs: o.lateThresholdMs,
      drainMs: o.drainMs,
      emStasisWaitMs: 2000,
    },
    log,
  );

  connection.on('StasisStart', (ev) => calls.onStasisStart(ev));
  connection.on('StasisEnd', (ev) => calls.onChannelGone(ev.channel.id, 'left Stasis'));
  connection.on('ChannelDestroyed', (ev) => calls.onChannelGone(ev.channel.id, 'destroyed'));
  // AriConnection logs connected / disconnected / reconnected itself; serve reconciles after a reconnect.
  connection.on('reconnected', () => void reconcile('reconnect'));

  async function reconcile(reason: string): Promise<void> {
    try {
      await calls.reconcile(reason);
    } catch (err) {
      log.warn('reconcile.failed', {reason, error: errorMessage(err)});
    }
  }

  try {
    await connection.connect();
  } catch (err) {
    await engine.native?.close();
    throw err;
  }
  await reconcile('start-up');

  const eventLoop = monitorEventLoopDelay({resolution: 10});
  eventLoop.enable();
  const http: Server = createServeHttp({calls, ariConnected: () => connection.connected, eventLoop});
  await new Promise<void>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ConfigError(`--metrics-port: cannot listen on ${o.metricsHost}:${o.metricsPort}: ${err.code ?? err.message}`)),
    );
    http.listen(o.metricsPort, o.metricsHost, () => resolve());
  }).catch(async (err) => {
    await calls.shutdown();
    await connection.close();
    await engine.native?.close();
    throw err;
  });
  const httpPort = (http.address() as {port: number}).port;

  const timers: NodeJS.Timeout[] = [];
  if (o.metricsIntervalSec > 0) {
    timers.push(
      setInterval(() => {
        const s = snapshotMetrics(calls, connection.connected);
        log.info('stats', {
          ari: s.ariConnected ? 'up' : 'down',
          callsActive: s.callsActive,
          callsFinished: s.callsFinished,
          callsFailed: s.callsFailed,
          portsHeld: s.portsHeld,
          packetsUp: s.packetsUp,
          packetsBack: s.packetsBack,
          lost: s.lost,
          late: s.late,
          foreign: s.foreign,
          malformed: s.malformed,
          rttP99Ms: s.rtt.percentilesMs().p99,
          latenessMaxMs: s.lateness.percentilesMs().max,
        });
      }, o.metricsIntervalSec * 1000).unref(),
    );
  }
  if (o.reconcileIntervalSec > 0) {
    timers.push(setInterval(() => void (connection.connected && reconcile('periodic')), o.reconcileIntervalSec * 1000).unref());
  }

  let closing: Promise<void> | null = null;
  return {
    httpPort,
    calls,
    connection,
    close() {
      closing ??= (async () => {
        for (const t of timers) clearInterval(t);
        eventLoop.disable();
        await calls.shutdown();
        if (connection.connected) await reconcile('shutdown');
        await connection.close();
        await new Promise<void>((r) => {
          http.close(() => r());
          http.closeAllConnections();
        });
        await engine.native?.close();
      })();
      return closing;
    },
  };
}
