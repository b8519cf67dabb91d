import type {Server} from 'node:http';
import {monitorEventLoopDelay} from 'node:perf_hooks';
import type {MediaServerKind} from '../protocol/media-server.js';
import {AriConnection} from '../ari/connection.js';
import type {PortRange} from '../config/parse.js';
import {checkAri} from '../ari/check.js';
import {checkLocalAddress} from '../config/checks.js';
import {ConfigError, errorMessage} from '../errors.js';
import type {Logger} from '../log/logger.js';
import {PortPool} from '../media/relay/port-pool.js';
import {numericHost, selectEngine} from '../engine/engine-select.js';
import type {EngineChoice, EngineKind} from '../engine/engine-types.js';
import {EngineSupervisor} from '../engine/engine-supervisor.js';
import {engineRoleInfo} from '../engine/engine-probe.js';
import type {NativeEngine} from '../engine/native-engine.js';
import {relayOpener, type EngineSource} from '../media/relay/index.js';
import {clockRateFor} from '../rtp/formats.js';
import {AppInUseError, AppLock} from './app-lock.js';
import {CallOrchestrator} from './call-orchestrator.js';
import {ServeLedger} from './ledger.js';
import {RelayLeg} from './media-leg.js';
import {createServeHttp} from './http.js';
import type {EngineCounters} from '../protocol/serve-api.js';
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
  /** What the media server behind the relay is (default echo): how each call's back stream is judged. */
  mediaServer?: MediaServerKind;
  drainMs: number;
  reconcileIntervalSec: number;
  /** auto (default): the native engine when built and starting, else node; native: required; node. */
  engine?: EngineChoice;
  logger: Logger;
  /** The native engine died for good (3 deaths within 60 s, or restarting is off): serve must exit 1 with this line. */
  onFatal?: (line: string) => void;
}

export interface RunningServe {
  readonly httpPort: number;
  /** The call state machine (Stasis events in). */
  readonly calls: CallOrchestrator;
  /** The books: live calls, totals, run records (what /health, /calls, /runs and /metrics read). */
  readonly ledger: ServeLedger;
  readonly connection: AriConnection;
  /** Graceful stop (SIGINT/SIGTERM): no new calls, every call torn down, ports released. */
  close(): Promise<void>;
}

/**
 * Start serve: check BIND_IP and resolve ECHO_HOST, listen on HTTP, take the app's lease (refuse
 * while another serve holds the app), connect to ARI (credentials checked first, exit 2 on
 * failure), reconcile leftovers of earlier runs, listen for Stasis events, log one stats line per
 * interval, reconcile periodically and after every reconnect.
 */
export async function startServe(o: ServeOptions): Promise<RunningServe> {
  clockRateFor(o.format); // unsupported format → RangeError before anything starts
  const log = o.logger;
  const {bindIp, echoAddress} = await checkHostSettings(o);
  const pool = new PortPool(o.portRange);
  const connection = new AriConnection({url: o.ariUrl, user: o.ariUser, pass: o.ariPass, app: o.app, logger: log});
  const engine = await startEngine(o);
  const ledger = new ServeLedger({engine: engine.kind, format: o.format, pool});
  const leg = new RelayLeg(pool, {
    bindIp,
    echo: {address: echoAddress, port: o.echoPort},
    clockRateHz: clockRateFor(o.format),
    lateThresholdMs: o.lateThresholdMs,
    mediaServer: o.mediaServer ?? 'echo',
    openRelay: relayOpener(engine.supervisor ? engineSource(engine.supervisor) : null),
  });
  const calls = new CallOrchestrator(connection.rest, ledger, leg, {app: o.app, format: o.format, drainMs: o.drainMs, emStasisWaitMs: 2000}, log);
  if (engine.supervisor) superviseEngine(engine.supervisor, calls, ledger, o);

  calls.listen(connection);
  const reconcile = reconciler(calls, log);
  const appReason = watchApp(connection, o.app, reconcile, log);
  const unhealthyReason = () => appReason() ?? engineDownReason(engine.supervisor);

  // HTTP first: a serve whose port is taken exits here, before it touches ARI (the port is checked before ARI)
  const eventLoop = monitorEventLoopDelay({resolution: 10});
  const engineDeps = await engineHttpDeps(engine.supervisor, ledger);
  const http: Server = createServeHttp({ledger, ariConnected: () => connection.connected, unhealthyReason, eventLoop, ...engineDeps, app: o.app, mediaServer: o.mediaServer ?? 'echo',
    echo: `${echoAddress.includes(':') ? `[${echoAddress}]` : echoAddress}:${o.echoPort}`});
  const closeHttp = () => closeServer(http);
  await listenHttp(http, o.metricsHost, o.metricsPort).catch(async (err) => {
    await engine.supervisor?.stop();
    throw err;
  });
  const httpPort = (http.address() as {port: number}).port;
  eventLoop.enable();

  // then the app's lease: refuse to start while another serve holds the app, before connecting
  // (registering the app would take its events) or reconciling (which would delete its calls)
  const lock = new AppLock(connection.rest, o.app, `http://${o.metricsHost.includes(':') ? `[${o.metricsHost}]` : o.metricsHost}:${httpPort}`, log);
  try {
    await checkAri(o.ariUrl, o.ariUser, o.ariPass, {timeoutMs: 10_000}); // credentials first: one clear line
    await lock.acquire();
    await connection.connect();
  } catch (err) {
    eventLoop.disable();
    if (!(err instanceof AppInUseError)) await lock.release();
    await connection.close();
    await closeHttp();
    await engine.supervisor?.stop();
    throw err;
  }
  await reconcile('start-up');

  const timers = startTimers(o, ledger, connection, reconcile, log);

  let closing: Promise<void> | null = null;
  return {
    httpPort,
    calls,
    ledger,
    connection,
    close() {
      closing ??= (async () => {
        for (const t of timers) clearInterval(t);
        eventLoop.disable();
        await calls.shutdown();
        if (connection.connected) await reconcile('shutdown');
        await lock.release();
        await connection.close();
        await closeHttp();
        await engine.supervisor?.stop();
      })();
      return closing;
    },
  };
}

/** Reconcile leftovers with ARI; a failure is logged (the next reconcile tries again). */
function reconciler(calls: CallOrchestrator, log: Logger): (reason: string) => Promise<void> {
  return async (reason: string) => {
    try {
      await calls.reconcile(reason);
    } catch (err) {
      log.warn('reconcile.failed', {reason, error: errorMessage(err)});
    }
  };
}

/**
 * AriConnection logs connected / disconnected / reconnected itself; serve reconciles after a
 * reconnect. Another client registered our app: Asterisk now sends its events there, so this
 * serve can no longer set up or end calls. Unhealthy (/health 503 with the reason, returned
 * here) until it takes it back.
 */
function watchApp(connection: AriConnection, app: string, reconcile: (reason: string) => Promise<void>, log: Logger): () => string | null {
  let replaced: string | null = null;
  connection.on('reconnected', () => {
    replaced = null; // registering the app again took it back
    void reconcile('reconnect');
  });
  connection.on('event', (ev) => {
    if (ev.type !== 'ApplicationReplaced') return;
    replaced = `ApplicationReplaced: another client registered app "${app}"; this serve no longer receives its events`;
    log.error('serve.app_replaced', {app});
  });
  return () => replaced;
}

function closeServer(http: Server): Promise<void> {
  return new Promise<void>((r) => {
    http.close(() => r());
    http.closeAllConnections();
  });
}

/**
 * Settings checked against this host before anything starts (one line, exit 2): the relay binds
 * to BIND_IP and compares senders with the echo's numeric address, resolved once here.
 */
async function checkHostSettings(o: ServeOptions): Promise<{bindIp: string; echoAddress: string}> {
  const bindIp = await numericHost(o.bindIp, '--bind-ip/BIND_IP');
  await checkLocalAddress(bindIp, '--bind-ip/BIND_IP');
  const echoAddress = await numericHost(o.echoHost, '--echo-host/ECHO_HOST');
  return {bindIp, echoAddress};
}

type RelaySupervisor = EngineSupervisor<NativeEngine>;

/**
 * The media engine serve forwards with (native when asked for or when auto finds it starts),
 * logged; the native engine runs under its supervisor (restarted when it dies, never replaced by
 * the Node engine mid-run: a report must not mix instruments).
 */
async function startEngine(o: ServeOptions): Promise<{kind: EngineKind; supervisor: RelaySupervisor | null}> {
  const log = o.logger;
  const first = await selectEngine(o.engine ?? 'auto', 'relay');
  if (first.fallbackReason !== null) log.info('engine.fallback', {engine: 'node', reason: first.fallbackReason});
  if (first.native === null) return {kind: first.kind, supervisor: null};
  log.info('engine.started', {engine: 'native', pid: first.native.pid, scheduling: first.native.scheduling, cpus: first.native.cpus});
  let initial: NativeEngine | null = first.native;
  const supervisor = new EngineSupervisor<NativeEngine>({
    role: 'relay',
    start: async () => {
      if (initial !== null) {
        const e = initial;
        initial = null;
        return e;
      }
      const again = await selectEngine('native', 'relay');
      return again.native as NativeEngine;
    },
  });
  await supervisor.start();
  return {kind: 'native', supervisor};
}

/** The engine in use now for new relays, or why there is none. */
function engineSource(supervisor: RelaySupervisor): EngineSource {
  return {current: () => supervisor.engine, downReason: () => engineDownReason(supervisor) ?? 'media engine not ready'};
}

/** Why serve cannot measure now because of its engine (dead or restarting), or null. */
function engineDownReason(supervisor: RelaySupervisor | null): string | null {
  if (supervisor === null) return null;
  const st = supervisor.state;
  if (st.status === 'dead') return `${st.reason}; ${supervisor.policy === 'restart' ? 'restarting' : 'not restarting'}`;
  if (st.status === 'starting') return 'media engine restarting';
  return null;
}

/**
 * When the engine dies: one error line, the calls in flight fail with the engine's reason (their
 * ports released, their channels and bridges torn down); a restart is logged and counted; a final
 * death makes serve exit 1 (onFatal).
 */
function superviseEngine(supervisor: RelaySupervisor, calls: CallOrchestrator, ledger: ServeLedger, o: ServeOptions): void {
  const log = o.logger;
  supervisor.on('died', (reason: string, pid: number) => {
    log.error('engine.died', {pid, reason});
    calls.failLive(reason);
  });
  supervisor.on('restarting', (attempt: number, backoffMs: number) => log.info('engine.restarting', {attempt, backoffMs}));
  supervisor.on('ready', (e: NativeEngine) => {
    if (supervisor.restarts === 0) return;
    ledger.engineRestarts = supervisor.restarts;
    log.info('engine.restarted', {pid: e.pid, restarts: supervisor.restarts, scheduling: e.scheduling});
  });
  supervisor.on('fatal', (line: string) => {
    log.error('engine.fatal', {reason: line});
    o.onFatal?.(line);
  });
}

/** What serve's HTTP side reads of its engine: counters, pid, and how it measures (refreshed before a run's records are served). */
async function engineHttpDeps(supervisor: RelaySupervisor | null, ledger: ServeLedger) {
  const refreshEngineInfo = async () => {
    ledger.relayEngine = await engineRoleInfo(supervisor?.engine ?? null);
  };
  await refreshEngineInfo();
  return {engineCounters: engineCountersOf(supervisor), enginePid: () => supervisor?.engine?.pid ?? null, refreshEngineInfo};
}

/** The native engine's counters with serve's CPU, for /metrics (none with the Node engine). */
function engineCountersOf(supervisor: RelaySupervisor | null): (() => Promise<EngineCounters | null>) | undefined {
  if (!supervisor) return undefined;
  return async (): Promise<EngineCounters | null> => {
    const native = supervisor.engine;
    if (native === null) return null;
    const s = await native.stats();
    const cpu = process.cpuUsage(); // read as the engine's answer arrives: one moment for both
    return {forwardedDatagrams: s.txDatagrams, engineCpuUs: s.cpuUserUs + s.cpuSysUs, serveCpuUs: cpu.user + cpu.system};
  };
}

/** Listen on the metrics port; a taken port is a ConfigError (one line, exit 2). */
function listenHttp(http: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ConfigError(`--metrics-port: cannot listen on ${host}:${port}: ${err.code ?? err.message}`)),
    );
    http.listen(port, host, () => resolve());
  });
}

/** One stats line a metrics interval, and a reconcile a reconcile interval (while ARI is connected). */
function startTimers(o: ServeOptions, ledger: ServeLedger, connection: AriConnection, reconcile: (reason: string) => Promise<void>, log: Logger): NodeJS.Timeout[] {
  const timers: NodeJS.Timeout[] = [];
  if (o.metricsIntervalSec > 0) {
    timers.push(
      setInterval(() => {
        const s = snapshotMetrics(ledger, connection.connected);
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
  return timers;
}
