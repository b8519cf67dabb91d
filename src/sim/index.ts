/**
 * `rtpsla sim`: an embedded Asterisk 22 stand-in speaking the part of ARI that serve/load use,
 * with events and RTP media as recorded from a real Asterisk (fixtures/asterisk). Usable
 * in-process: `const sim = await startSim({port: 0}); … await sim.close();`.
 */
import {superviseStarted} from '../engine/engine-supervisor.js';
import type {EngineRoleInfo} from '../protocol/report.js';
import {arch, release} from 'node:os';
import type {AddressInfo} from 'node:net';
import type {Server} from 'node:http';
import {ConfigError} from '../errors.js';
import {SIM_INFO_MARKER, isSimInfo} from '../ari/check.js';
import {parsePortRange, type PortRange} from '../config/parse.js';
import {nullLogger, type Logger} from '../log/logger.js';
import {SimCore, type CoreCounters, type RaceModel} from './core.js';
import {EventHub} from './events.js';
import {checkRestart, FaultError, Faults, type FailRule, type FaultRequest, type FaultState, type MediaFaultCounts} from './faults.js';
import {SimRestarter} from './restart.js';
import {createSimHttpServer} from './http.js';
import type {MediaEngine, MediaTotals} from '../media/source/engine.js';
import type {MediaChannelStats, PercentilesUs} from '../media/source/stream.js';
import {createMediaEngine, NativeMediaEngine} from '../media/source/native.js';
import {parseEngineChoice} from '../engine/engine-select.js';
import type {EngineChoice, EngineKind} from '../engine/engine-types.js';
import {randomSeed, SimRng} from './rng.js';
import {asteriskTimestamp} from './time.js';

export {parseFailFlag, DEFAULT_RESTART_DOWNTIME_MS, type ForwardDelayRule, type ForwardDelayState, type LateFirstPacketsRule, type LateFirstPacketsState, type LateAboveCallsRule, type LateAboveCallsState, type FailRule, type DelayRule, type FaultRequest, type FaultState, type RestartRule, type DownState} from './faults.js';
export type {MediaChannelStats, PercentilesUs} from '../media/source/stream.js';
export {DEFAULT_RACE, type RaceModel} from './core.js';
export {parseForwardDelayFlag, parseLateAboveCallsFlag, parseLateFirstPacketsFlag} from './media-faults.js';

/** `system.version` the sim reports from GET /ari/asterisk/info. */
export const SIM_VERSION = '22.10.1-rtpsla-sim';
/** Marker in `build.options` (and in SIM_VERSION): how clients tell the sim from a real Asterisk. */
export const SIM_MARKER = SIM_INFO_MARKER;
export const SIM_ASTERISK_ID = '02:73:69:6d:00:01';
export {RESTART_CLOSE_AFTER_MS} from './restart.js';

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
  /** The native media engine died: the sim cannot send media any more; `rtpsla sim` prints the line and exits 1. */
  onEngineFatal?: (line: string) => void;
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
  /** The dialplan contexts it has (default `rtpsla-source`): originating a Local channel to another fails as in Asterisk (cause 1). */
  dialplanContexts?: readonly string[];
  /** Users of ari.conf with `read_only = yes`: they may read (GET, the events WebSocket); their writes answer 403. */
  readOnlyUsers?: ReadonlyArray<{user: string; pass: string}>;
}

export interface SimStats {
  sim: {version: string; seed: number; startedAt: string; uptimeMs: number; url: string};
  /** The media engine that sends and receives the externalMedia RTP. */
  engine: EngineKind;
  /** How it measures (scheduling, pinning, timestamps): a report's `tool.engines.sim`. */
  engineInfo: EngineRoleInfo;
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
  /**
   * Brings the figures the native engine keeps (delayedByFault, queueFull of forwarding sources)
   * into stats(); GET /_sim/stats does this before answering.
   */
  refreshStats(): Promise<void>;
  /** Apply fault switches (as POST /_sim/faults); returns the new state. */
  setFaults(req: FaultRequest): FaultState & {droppedWebSockets?: number};
  faults(): FaultState;
  /** The model (channels/bridges maps) for white-box tests. */
  readonly core: SimCore;
  close(): Promise<void>;
}

interface ResolvedSimOptions {
  host: string;
  port: number;
  user: string;
  pass: string;
  rtpRange: PortRange;
  seed: number;
  log: Logger;
  answerDelayMs: number;
  rtpAddress: string;
}

function resolveOptions(options: SimOptions): ResolvedSimOptions {
  const host = options.host ?? SIM_DEFAULTS.host;
  const rtpRange = typeof options.rtpRange === 'string' || options.rtpRange === undefined
    ? parsePortRange(options.rtpRange ?? SIM_DEFAULTS.rtpRange, '--rtp-range')
    : options.rtpRange;
  return {
    host,
    port: options.port ?? SIM_DEFAULTS.port,
    user: options.user ?? SIM_DEFAULTS.user,
    pass: options.pass ?? SIM_DEFAULTS.pass,
    rtpRange,
    seed: (options.seed ?? randomSeed()) >>> 0,
    log: options.logger ?? nullLogger,
    answerDelayMs: options.answerDelayMs ?? SIM_DEFAULTS.answerDelayMs,
    rtpAddress: options.rtpAddress ?? (host === '::' || host === 'localhost' ? '127.0.0.1' : host),
  };
}

async function startMedia(choice: EngineChoice | undefined, log: Logger, onFatal?: (line: string) => void): Promise<{media: MediaEngine; engine: EngineKind}> {
  const engineChoice = choice ?? parseEngineChoice(process.env.RTPSLA_ENGINE ?? 'auto');
  const {media, kind: engine, fallbackReason} = await createMediaEngine(engineChoice);
  if (fallbackReason !== null) log.info('sim.engine.fallback', {engine, reason: fallbackReason});
  if (media instanceof NativeMediaEngine)
    await superviseStarted('sim', media.native, (line) => {
      log.error('sim.engine.exited', {reason: line});
      onFatal?.(line);
    });
  return {media, engine};
}

/** GET /ari/asterisk/info as Asterisk 22 answers it, marked as the sim. */
function asteriskInfo(startedAt: string): Record<string, unknown> {
  return {
    build: {os: 'Linux', kernel: release(), machine: arch() === 'x64' ? 'x86_64' : arch(), options: `OPTIONAL_API, ${SIM_MARKER}`, date: startedAt, user: 'rtpsla'},
    system: {version: SIM_VERSION, entity_id: SIM_ASTERISK_ID},
    config: {name: SIM_MARKER, default_language: 'en', setid: {user: '', group: ''}, max_open_files: 65536},
    status: {startup_time: startedAt, last_reload_time: startedAt},
  };
}

interface SimParts {
  core: SimCore;
  hub: EventHub;
  media: MediaEngine;
  engine: EngineKind;
  faults: Faults;
  seed: number;
  /** Uniform draws in [0, 1) for the media faults (the sim's seeded generator). */
  uniform: () => number;
}

/** The media faults' counters, for the fault state. */
function mediaFaultCounts(x: SimParts): MediaFaultCounts {
  const fwd = x.media.totals().forwarded;
  const late = x.media.lateFirstCounts;
  return {
    forwardArmed: x.core.links.armed,
    linksDelayed: x.core.links.linksDelayed,
    packetsDelayed: fwd.toRelay.delayedByFault + fwd.toCaller.delayedByFault,
    streamsHeld: late.streamsHeld,
    maxHoldMs: late.maxHoldUs / 1000,
    lateAbove: {...x.core.links.lateAboveCounts},
  };
}

/** The media fault switches as set: the forwarding links' delay, the first frames' hold. */
function applyMediaFaults(x: SimParts, req: FaultRequest): void {
  const {faults} = x;
  if (req.clear === true || req.forwardDelay !== undefined) x.core.links.setFault(faults.forwardDelay, Date.now());
  if (req.clear === true || req.lateAboveCalls !== undefined) x.core.links.setLateAbove(faults.lateAboveCalls);
  if (req.clear === true || req.lateFirstPackets !== undefined) {
    const rule = faults.lateFirstPackets;
    x.media.setLateFirstPackets(rule === null ? null : {share: rule.share, maxUs: rule.maxMs * 1000, minUs: (rule.minMs ?? 0) * 1000}, x.uniform);
  }
}

function simStats(x: SimParts, startedAt: string, url: string): SimStats {
  const {core, hub, media} = x;
  const merged = media.merged();
  return {
    sim: {version: SIM_VERSION, seed: x.seed, startedAt, uptimeMs: Date.now() - core.startedMs, url},
    engine: x.engine,
    engineInfo: x.media.engineInfo,
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
    faults: x.faults.state(),
  };
}

/** Applies a fault request: the switches, their media and event side effects, a restart. */
function applyFaultRequest(x: SimParts, log: Logger, restarter: () => SimRestarter, req: FaultRequest): FaultState & {droppedWebSockets?: number} {
  const {faults, hub, media} = x;
  if (req?.malformedMedia !== undefined && x.engine !== 'node') throw new FaultError('malformedMedia needs the Node media engine (start the sim with --engine node)');
  faults.apply(req);
  if (req.malformedMedia !== undefined) {
    void media.sendFromStreams(malformedDatagrams(req.malformedMedia.count)).then((n) => {
      faults.counters.malformedSent += n;
    }, (err: unknown) => log.warn('sim.fault.malformedMedia', {err: err instanceof Error ? err.message : String(err)}));
  }
  applyMediaFaults(x, req);
  hub.delayMs = faults.eventDelayMs;
  if (media.isStopped !== faults.stopMedia) {
    media.setStopped(faults.stopMedia);
    log.info('sim.fault.media', {stopped: faults.stopMedia});
  }
  let droppedWebSockets: number | undefined;
  if (req.dropWebSocket === true) {
    droppedWebSockets = hub.dropAll();
    faults.counters.webSocketDrops++;
    faults.counters.webSocketsDropped += droppedWebSockets;
    log.info('sim.fault.dropWebSocket', {dropped: droppedWebSockets});
  }
  if (req.clear || faults.fail.length > 0 || faults.delay.length > 0 || faults.eventDelayMs > 0) log.info('sim.fault.set', {faults: faults.state()});
  const rule = checkRestart(req.restart ?? false);
  if (rule) restarter().run(rule);
  return {...faults.state(), ...(droppedWebSockets !== undefined ? {droppedWebSockets} : {})};
}

/** `count` datagrams no RTP parser takes: too short, version 0, version 1 (varied sizes). */
function malformedDatagrams(count: number): Buffer[] {
  return Array.from({length: count}, (_, i) => {
    const b = Buffer.alloc(i % 3 === 0 ? 4 + (i % 8) : 12 + ((i * 13) % 160), 0x5a);
    b[0] = i % 3 === 1 ? 0x00 : 0x40;
    return b;
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
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

export async function startSim(options: SimOptions = {}): Promise<SimHandle> {
  const o = resolveOptions(options);
  const {host, seed, log} = o;
  const hub = new EventHub(SIM_ASTERISK_ID, log);
  const {media, engine} = await startMedia(options.engine, log, options.onEngineFatal);
  const faults = new Faults();
  const rng = new SimRng(seed);
  const core = new SimCore({
    hub, media, rng, log, answerDelayMs: o.answerDelayMs, rtpRange: o.rtpRange, asteriskId: SIM_ASTERISK_ID,
    race: options.race, rtpAddress: o.rtpAddress, dialplanContexts: options.dialplanContexts,
  });
  const parts: SimParts = {core, hub, media, engine, faults, seed, uniform: () => rng.float()};
  faults.counts = () => mediaFaultCounts(parts);
  let startedAt = asteriskTimestamp(core.startedMs);
  let url = '';
  let realPort = 0;
  const applyFaults = (req: FaultRequest): FaultState & {droppedWebSockets?: number} => applyFaultRequest(parts, log, () => restarter, req);
  const stats = (): SimStats => simStats(parts, startedAt, url);
  const server = createSimHttpServer({
    core, hub, faults, log, user: o.user, pass: o.pass, readOnlyUsers: options.readOnlyUsers ?? [], asteriskInfo: () => asteriskInfo(startedAt), stats, applyFaults,
    refreshStats: () => media.refreshStats(),
    isDown: () => faults.down !== null,
  });
  const restarter = new SimRestarter({
    core, hub, faults, log, server, host, port: () => realPort, cameBack: (at) => {
      startedAt = at;
    },
  });
  try {
    if (options.faults?.restart) throw new ConfigError('restart is not a start-up fault: POST it to /_sim/faults');
    if (options.faults) applyFaults(options.faults);
    await listen(server, o.port, host);
  } catch (err) {
    await media.close(); // the native engine's process must not outlive a sim that did not start
    throw err;
  }
  realPort = (server.address() as AddressInfo).port;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${realPort}`;
  log.info('sim.listening', {url, seed, rtpRange: `${o.rtpRange.low}-${o.rtpRange.high}`, answerDelayMs: o.answerDelayMs, engine});
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      restarter.cancel();
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
    url, engine, host, port: realPort, seed, user: o.user, stats, refreshStats: () => media.refreshStats(), setFaults: applyFaults,
    faults: () => faults.state(), core, close,
  };
}

/** The line the command prints on stdout once listening. */
export function listeningLine(sim: Pick<SimHandle, 'url'>): string {
  return `sim listening on ${sim.url}`;
}

export type {FailRule as SimFailRule};
