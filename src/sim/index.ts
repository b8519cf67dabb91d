/**
 * `rtpsla sim`: an embedded Asterisk 22 stand-in speaking the part of ARI that serve/load use,
 * with events and RTP media as recorded from a real Asterisk (fixtures/asterisk). Usable
 * in-process: `const sim = await startSim({port: 0}); … await sim.close();`.
 */
import {arch, release} from 'node:os';
import type {AddressInfo} from 'node:net';
import {ConfigError} from '../errors.js';
import {SIM_INFO_MARKER, isSimInfo} from '../ari/check.js';
import {parsePortRange, type PortRange} from '../config/parse.js';
import {nullLogger, type Logger} from '../log/logger.js';
import {SimCore, type CoreCounters, type RaceModel} from './core.js';
import {EventHub} from './events.js';
import {checkRestart, Faults, type FailRule, type FaultRequest, type FaultState, type RestartRule} from './faults.js';
import {createSimHttpServer} from './http.js';
import {type MediaChannelStats, type MediaTotals, type PercentilesUs} from '../media/source/node.js';
import {createMediaEngine, NativeMediaEngine} from '../media/source/native.js';
import {parseEngineChoice} from '../engine/engine-select.js';
import type {EngineChoice, EngineKind} from '../engine/engine-types.js';
import {randomSeed, SimRng} from './rng.js';
import {asteriskTimestamp} from './time.js';

export {parseFailFlag, DEFAULT_RESTART_DOWNTIME_MS, type FailRule, type DelayRule, type FaultRequest, type FaultState, type RestartRule, type DownState} from './faults.js';
export type {MediaChannelStats, PercentilesUs} from '../media/source/node.js';
export {DEFAULT_RACE, type RaceModel} from './core.js';

/** `system.version` the sim reports from GET /ari/asterisk/info. */
export const SIM_VERSION = '22.10.1-rtpsla-sim';
/** Marker in `build.options` (and in SIM_VERSION): how clients tell the sim from a real Asterisk. */
export const SIM_MARKER = SIM_INFO_MARKER;
export const SIM_ASTERISK_ID = '02:73:69:6d:00:01';
/** A restart closes the events WebSockets this long after its last event (recorded: 15 ms). */
export const RESTART_CLOSE_AFTER_MS = 15;

export const SIM_DEFAULTS = {
  host: '127.0.0.1',
  port: 8088,
  user: 'rtpsla',
  pass: 'rtpsla',
  rtpRange: '10000-20000',
  answerDelayMs: 500,
} as const;

/** True when a GET /ari/asterisk/info body comes from this sim (one definition, in the ARI adapter). */
export {isSimInfo};

export interface SimOptions {
  /** Address for HTTP/WebSocket (default 127.0.0.1). */
  host?: string;
  /** TCP port (default 8088; 0 = any free port, see `port` of the handle). */
  port?: number;
  user?: string;
  pass?: string;
  /** Ports the externalMedia channels send from (even ports, like Asterisk). */
  rtpRange?: PortRange | string;
  /** Address the RTP sockets bind to (UNICASTRTP_LOCAL_ADDRESS); default `host`. */
  rtpAddress?: string;
  /** Answer() duration before Milliwatt starts (recorded ≈ 500 ms). */
  answerDelayMs?: number;
  /** Seed for sequence numbers, SSRCs, ids and the StasisStart race. */
  seed?: number;
  race?: RaceModel;
  logger?: Logger;
  /** Initial faults (same as POST /_sim/faults; `restart` is not a start-up fault). */
  faults?: FaultRequest;
  /**
   * Which engine sends and receives the RTP: auto (native when built and starting, else node),
   * native (EngineUnavailableError when it cannot run), node. Default: RTPSLA_ENGINE, else auto.
   */
  engine?: EngineChoice;
}

export interface SimStats {
  sim: {version: string; seed: number; startedAt: string; uptimeMs: number; url: string};
  /** The media engine that sends and receives the externalMedia RTP. */
  engine: EngineKind;
  totals: {
    channels: number;
    bridges: number;
    eventSockets: number;
    eventsSent: number;
    media: MediaTotals;
  } & CoreCounters;
  /** Per externalMedia channel (live first, then finished ones). */
  channels: MediaChannelStats[];
  /** Merged over every externalMedia stream: percentiles (µs) + HDR histogram (base64). */
  rttUs: PercentilesUs & {histogram: string};
  sendJitterUs: PercentilesUs & {histogram: string};
  faults: FaultState;
}

export interface SimHandle {
  /** http://host:port (real port when 0 was asked). */
  readonly url: string;
  /** The media engine that sends and receives the RTP. */
  readonly engine: EngineKind;
  readonly host: string;
  readonly port: number;
  readonly seed: number;
  readonly user: string;
  stats(): SimStats;
  /** Apply fault switches (as POST /_sim/faults); returns the new state. */
  setFaults(req: FaultRequest): FaultState & {droppedWebSockets?: number};
  faults(): FaultState;
  /** The model (channels/bridges maps) for white-box tests. */
  readonly core: SimCore;
  close(): Promise<void>;
}

export async function startSim(options: SimOptions = {}): Promise<SimHandle> {
  const host = options.host ?? SIM_DEFAULTS.host;
  const port = options.port ?? SIM_DEFAULTS.port;
  const user = options.user ?? SIM_DEFAULTS.user;
  const pass = options.pass ?? SIM_DEFAULTS.pass;
  const rtpRange = typeof options.rtpRange === 'string' || options.rtpRange === undefined
    ? parsePortRange(options.rtpRange ?? SIM_DEFAULTS.rtpRange, '--rtp-range')
    : options.rtpRange;
  const seed = (options.seed ?? randomSeed()) >>> 0;
  const log = options.logger ?? nullLogger;
  const answerDelayMs = options.answerDelayMs ?? SIM_DEFAULTS.answerDelayMs;

  const rng = new SimRng(seed);
  const hub = new EventHub(SIM_ASTERISK_ID, log);
  const engineChoice = options.engine ?? parseEngineChoice(process.env.RTPSLA_ENGINE ?? 'auto');
  const {media, kind: engine, fallbackReason} = await createMediaEngine(engineChoice);
  if (fallbackReason !== null) log.info('sim.engine.fallback', {engine, reason: fallbackReason});
  if (media instanceof NativeMediaEngine) {
    media.native.on('exit', (err: Error | null) => {
      if (err !== null) log.error('sim.engine.exited', {err: err.message});
    });
  }
  const faults = new Faults();
  const core = new SimCore({
    hub, media, rng, log, answerDelayMs, rtpRange, asteriskId: SIM_ASTERISK_ID, race: options.race,
    rtpAddress: options.rtpAddress ?? (host === '::' || host === 'localhost' ? '127.0.0.1' : host),
  });
  let startedAt = asteriskTimestamp(core.startedMs);
  let url = '';
  let realPort = 0;
  let closed = false;
  let restartTimer: NodeJS.Timeout | undefined;

  /**
   * Fault switch `restart` (`core stop now`): hang everything up with its events now, close the
   * events WebSockets without a close frame (1006) RESTART_CLOSE_AFTER_MS after the last event
   * has left, keep ARI down for `downtimeMs` (connections refused, or 503), then answer again
   * with nothing left.
   */
  const restart = (rule: Required<RestartRule>): void => {
    faults.down = {whileDown: rule.whileDown, downtimeMs: rule.downtimeMs, upAt: null};
    faults.restarts++;
    log.warn('sim.fault.restart', {channels: core.channels.size, bridges: core.bridges.size, downtimeMs: rule.downtimeMs, whileDown: rule.whileDown});
    core.restart();
    const beganMs = Date.now();
    const closeSockets = (): void => {
      restartTimer = undefined;
      if (closed) return;
      // the hang-up events go out first, however many there are (a stuck client gets 2 s)
      if (!hub.flushed && Date.now() - beganMs < 2000) {
        restartTimer = setTimeout(closeSockets, 5);
        return;
      }
      const dropped = hub.dropAll();
      if (rule.whileDown === 'refuse') {
        server.close();
        server.closeAllConnections();
      }
      if (faults.down) faults.down.upAt = asteriskTimestamp(Date.now() + rule.downtimeMs);
      log.info('sim.fault.restart.down', {droppedWebSockets: dropped, downtimeMs: rule.downtimeMs});
      restartTimer = setTimeout(comeBack, rule.downtimeMs);
    };
    const comeBack = (): void => {
      restartTimer = undefined;
      if (closed) return;
      hub.forgetIdleApps();
      startedAt = asteriskTimestamp();
      if (rule.whileDown === '503') {
        faults.down = null;
        log.info('sim.fault.restart.up', {});
        return;
      }
      const onError = (): void => {
        server.off('listening', onListening);
        restartTimer = setTimeout(comeBack, 100); // the port is briefly someone else's: try again
      };
      const onListening = (): void => {
        server.off('error', onError);
        faults.down = null;
        log.info('sim.fault.restart.up', {});
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(realPort, host);
    };
    restartTimer = setTimeout(closeSockets, RESTART_CLOSE_AFTER_MS);
  };

  const applyFaults = (req: FaultRequest): FaultState & {droppedWebSockets?: number} => {
    faults.apply(req);
    hub.delayMs = faults.eventDelayMs;
    if (media.isStopped !== faults.stopMedia) {
      media.setStopped(faults.stopMedia);
      log.info('sim.fault.media', {stopped: faults.stopMedia});
    }
    let droppedWebSockets: number | undefined;
    if (req.dropWebSocket === true) {
      droppedWebSockets = hub.dropAll();
      log.info('sim.fault.dropWebSocket', {dropped: droppedWebSockets});
    }
    if (req.clear || faults.fail.length > 0 || faults.delay.length > 0 || faults.eventDelayMs > 0) log.info('sim.fault.set', {faults: faults.state()});
    const rule = checkRestart(req.restart ?? false);
    if (rule) restart(rule);
    return {...faults.state(), ...(droppedWebSockets !== undefined ? {droppedWebSockets} : {})};
  };

  const asteriskInfo = (): Record<string, unknown> => ({
    build: {os: 'Linux', kernel: release(), machine: arch() === 'x64' ? 'x86_64' : arch(), options: `OPTIONAL_API, ${SIM_MARKER}`, date: startedAt, user: 'rtpsla'},
    system: {version: SIM_VERSION, entity_id: SIM_ASTERISK_ID},
    config: {name: SIM_MARKER, default_language: 'en', setid: {user: '', group: ''}, max_open_files: 65536},
    status: {startup_time: startedAt, last_reload_time: startedAt},
  });

  const stats = (): SimStats => {
    const merged = media.merged();
    return {
      sim: {version: SIM_VERSION, seed, startedAt, uptimeMs: Date.now() - core.startedMs, url},
      engine,
      totals: {
        channels: core.channels.size,
        bridges: core.bridges.size,
        eventSockets: hub.sessionCount,
        eventsSent: hub.eventsSent,
        ...core.counters,
        media: media.totals(),
      },
      channels: media.channelStats(),
      rttUs: {...merged.rtt.percentilesUs(), histogram: merged.rtt.toBase64()},
      sendJitterUs: {...merged.sendJitter.percentilesUs(), histogram: merged.sendJitter.toBase64()},
      faults: faults.state(),
    };
  };

  const server = createSimHttpServer({core, hub, faults, log, user, pass, asteriskInfo, stats, applyFaults, isDown: () => faults.down !== null});
  try {
    if (options.faults?.restart) throw new ConfigError('restart is not a start-up fault: POST it to /_sim/faults');
    if (options.faults) applyFaults(options.faults);
    await listen();
  } catch (err) {
    await media.close(); // the native engine's process must not outlive a sim that did not start
    throw err;
  }

  function listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(err.code === 'EADDRINUSE' ? new ConfigError(`--port: ${host}:${port} is already in use`) : err.code === 'EADDRNOTAVAIL' ? new ConfigError(`--host: cannot bind ${host}`) : err);
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
  }
  realPort = (server.address() as AddressInfo).port;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${realPort}`;
  log.info('sim.listening', {url, seed, rtpRange: `${rtpRange.low}-${rtpRange.high}`, answerDelayMs, engine});

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      if (restartTimer) clearTimeout(restartTimer);
      hub.closeAll();
      await core.close();
      await media.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      log.info('sim.closed', {});
    })();
    return closing;
  };

  return {
    url,
    engine,
    host,
    port: realPort,
    seed,
    user,
    stats,
    setFaults: applyFaults,
    faults: () => faults.state(),
    core,
    close,
  };
}

/** The line the command prints on stdout once listening. */
export function listeningLine(sim: Pick<SimHandle, 'url'>): string {
  return `sim listening on ${sim.url}`;
}

export type {FailRule as SimFailRule};
