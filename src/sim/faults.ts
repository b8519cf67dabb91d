/**
 * Fault switches for tests (`POST /_sim/faults`, `--fail` etc.): make an ARI operation answer
 * a given status (once, N times or until cleared), slow an operation down, delay every event,
 * hold all media, drop the events WebSockets, restart like `core stop now`, delay one direction
 * of the RTP-caller forwarding (forwardDelay), hold the first frames of some streams
 * (lateFirstPackets), send non-RTP datagrams from the streams' own ports (malformedMedia). Each
 * fault is counted (`counters`, and the media faults' figures) so a test can prove it fired.
 * (lateFirstPackets), make every forwarded frame late while more than K calls are up
 * (lateAboveCalls). Each media fault is counted so a test can prove it fired.
 */
import {KNOWN_OPERATION_NAMES, opNames, type ApiOp} from './api.js';
import type {ForwardDelayRule, LateAboveCallsRule} from './forwarding.js';
import {checkForwardDelay, checkLateAboveCalls, checkLateFirstPackets, MediaFaultError, type LateFirstPacketsRule} from './media-faults.js';

export type {ForwardDelayRule, LateAboveCallsRule} from './forwarding.js';
export type {LateFirstPacketsRule} from './media-faults.js';

export interface FailRule {
  /** ari-client operation name (originate, externalMedia, addChannel, createBridge…) or `resource.nickname`. */
  operation: string;
  status: number;
  /** How many requests fail; absent = until cleared. */
  count?: number;
  /** Response `message`; default: Asterisk's text for that status. */
  message?: string;
}

export interface DelayRule {
  operation: string;
  delayMs: number;
  count?: number;
}

/**
 * `core stop now`: every channel hung up with its events (no BridgeDestroyed), the events
 * WebSockets closed without a close frame (1006), ARI down for `downtimeMs`, then back empty.
 */
export interface RestartRule {
  /** How long ARI stays down after the WebSockets closed (default 2000 ms). */
  downtimeMs?: number;
  /** While down: `refuse` TCP connections, as a stopped Asterisk does (default), or answer `503`. */
  whileDown?: 'refuse' | '503';
}

/** Body of `POST /_sim/faults` (every field optional; `clear` is applied first). */
export interface FaultRequest {
  clear?: boolean;
  dropWebSocket?: boolean;
  fail?: FailRule | FailRule[];
  delay?: DelayRule | DelayRule[];
  eventDelayMs?: number;
  stopMedia?: boolean;
  /** `true` = `{}` (defaults). */
  restart?: boolean | RestartRule;
  /** Extra delay on one direction of the RTP-caller forwarding; `false` = off. */
  forwardDelay?: ForwardDelayRule | false;
  /** Hold the first frames of a share of the tone streams; `false` = off. */
  lateFirstPackets?: LateFirstPacketsRule | false;
  /** Send `count` datagrams that are not RTP from each live tone stream's own port to its remote (once). */
  malformedMedia?: MalformedMediaRule;
  /** Every frame the sim forwards is late while more than K RTP-caller calls are up; `false` = off. */
  lateAboveCalls?: {calls: number; ms?: number} | false;
}

export interface MalformedMediaRule {
  /** Datagrams per stream (1-1000). */
  count: number;
}

/** What the fault switches did so far (cumulative; `clear` does not reset them). */
export interface FaultCounters {
  /** dropWebSocket requests, and the events WebSockets they closed. */
  webSocketDrops: number;
  webSocketsDropped: number;
  /** Injected failures answered, by `operation=status` as the rule named them (e.g. `hangup=500`). */
  failsServed: Record<string, number>;
  /** Requests for the same operation on the same resource after an injected failure there (a client's retry), by `operation=status`. */
  retriesAfterFail: Record<string, number>;
  /** Non-RTP datagrams the malformedMedia fault sent from the streams' ports. */
  malformedSent: number;
}

/** forwardDelay as reported: the rule (while set), whether its duration still runs, and what it did. */
export interface ForwardDelayState {
  armed: boolean;
  rule: ForwardDelayRule | null;
  /** Link directions the fault was put on. */
  linksDelayed: number;
  /** Packets forwarded with the extra delay (the engine's delayedByFault, both directions). */
  packetsDelayed: number;
}

/** lateFirstPackets as reported: the rule (while set) and the streams it held. */
export interface LateFirstPacketsState {
  armed: boolean;
  rule: LateFirstPacketsRule | null;
  streamsHeld: number;
  /** The longest hold given, ms. */
  maxHoldMs: number;
}

/** lateAboveCalls as reported: the rule (while set), whether frames are late now, and what it did. */
export interface LateAboveCallsState {
  armed: boolean;
  rule: LateAboveCallsRule | null;
  /** More than rule.calls calls are up now: every forwarded frame is late. */
  active: boolean;
  /** Times the live-call count rose above rule.calls. */
  crossings: number;
  /** Link directions the delay was put on (its packets count in forwardDelay.packetsDelayed too: one engine counter). */
  linksDelayed: number;
}

/** Counters of the media faults, read from the media engine and the forwarding links. */
export interface MediaFaultCounts {
  forwardArmed: boolean;
  linksDelayed: number;
  packetsDelayed: number;
  streamsHeld: number;
  maxHoldMs: number;
  lateAbove: {active: boolean; crossings: number; linksDelayed: number};
}

/** ARI is down after a restart fault (until `upAt`, once the WebSockets are closed). */
export interface DownState {
  whileDown: 'refuse' | '503';
  downtimeMs: number;
  /** When ARI answers again (ISO time); null until the WebSockets have been closed. */
  upAt: string | null;
}

export interface FaultState {
  fail: FailRule[];
  delay: DelayRule[];
  eventDelayMs: number;
  stopMedia: boolean;
  /** Set while a restart fault keeps ARI down. */
  down: DownState | null;
  /** Restart faults so far. */
  restarts: number;
  forwardDelay: ForwardDelayState;
  lateFirstPackets: LateFirstPacketsState;
  counters: FaultCounters;
  lateAboveCalls: LateAboveCallsState;
}

export const DEFAULT_RESTART_DOWNTIME_MS = 2000;

export class FaultError extends Error {}

const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  500: 'An internal error prevented this request from being handled',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export function defaultMessage(status: number): string {
  return DEFAULT_MESSAGES[status] ?? 'rtpsla sim: injected fault';
}

export class Faults {
  fail: FailRule[] = [];
  delay: DelayRule[] = [];
  eventDelayMs = 0;
  stopMedia = false;
  /** Kept by the sim while a restart keeps ARI down (`clear` does not end a restart). */
  down: DownState | null = null;
  restarts = 0;
  forwardDelay: ForwardDelayRule | null = null;
  lateFirstPackets: LateFirstPacketsRule | null = null;
  lateAboveCalls: LateAboveCallsRule | null = null;
  readonly counters: FaultCounters = {webSocketDrops: 0, webSocketsDropped: 0, failsServed: {}, retriesAfterFail: {}, malformedSent: 0};
  /** Resources (`opId path`) an injected failure was answered for, with its `operation=status`, until they are requested again. */
  private readonly failedResources = new Map<string, string>();
  /** Where the media faults' counters come from (set by the sim). */
  counts: () => MediaFaultCounts = () => ({
    forwardArmed: false, linksDelayed: 0, packetsDelayed: 0, streamsHeld: 0, maxHoldMs: 0, lateAbove: {active: false, crossings: 0, linksDelayed: 0},
  });

  state(): FaultState {
    return {
      fail: this.fail.map((r) => ({...r})),
      delay: this.delay.map((r) => ({...r})),
      eventDelayMs: this.eventDelayMs,
      stopMedia: this.stopMedia,
      down: this.down === null ? null : {...this.down},
      restarts: this.restarts,
      ...this.mediaFaultState(),
      counters: {...this.counters, failsServed: {...this.counters.failsServed}, retriesAfterFail: {...this.counters.retriesAfterFail}},
    };
  }

  private mediaFaultState(): Pick<FaultState, 'forwardDelay' | 'lateFirstPackets' | 'lateAboveCalls'> {
    const n = this.counts();
    return {
      forwardDelay: {
        armed: this.forwardDelay !== null && n.forwardArmed,
        rule: this.forwardDelay === null ? null : {...this.forwardDelay},
        linksDelayed: n.linksDelayed,
        packetsDelayed: n.packetsDelayed,
      },
      lateFirstPackets: {
        armed: this.lateFirstPackets !== null,
        rule: this.lateFirstPackets === null ? null : {...this.lateFirstPackets},
        streamsHeld: n.streamsHeld,
        maxHoldMs: n.maxHoldMs,
      },
      lateAboveCalls: {armed: this.lateAboveCalls !== null, rule: this.lateAboveCalls === null ? null : {...this.lateAboveCalls}, ...n.lateAbove},
    };
  }

  clear(): void {
    this.fail = [];
    this.delay = [];
    this.eventDelayMs = 0;
    this.stopMedia = false;
    this.forwardDelay = null;
    this.lateFirstPackets = null;
    this.lateAboveCalls = null;
  }

  /** Validates and applies `req` (all or nothing). Throws FaultError with a readable reason. */
  apply(req: FaultRequest): void {
    if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new FaultError('body must be a JSON object');
    const known = new Set(['clear', 'dropWebSocket', 'fail', 'delay', 'eventDelayMs', 'stopMedia', 'restart', 'forwardDelay', 'lateFirstPackets', 'lateAboveCalls', 'malformedMedia']);
    for (const k of Object.keys(req)) if (!known.has(k)) throw new FaultError(`unknown fault "${k}" (known: ${[...known].join(', ')})`);
    const fails = req.fail === undefined ? [] : (Array.isArray(req.fail) ? req.fail : [req.fail]).map(checkFail);
    const delays = req.delay === undefined ? [] : (Array.isArray(req.delay) ? req.delay : [req.delay]).map(checkDelay);
    if (req.eventDelayMs !== undefined && !(typeof req.eventDelayMs === 'number' && req.eventDelayMs >= 0 && req.eventDelayMs <= 600_000))
      throw new FaultError('eventDelayMs must be a number of ms in 0-600000');
    if (req.stopMedia !== undefined && typeof req.stopMedia !== 'boolean') throw new FaultError('stopMedia must be true or false');
    if (req.dropWebSocket !== undefined && typeof req.dropWebSocket !== 'boolean') throw new FaultError('dropWebSocket must be true or false');
    if (req.malformedMedia !== undefined) checkMalformedMedia(req.malformedMedia);
    const forwardDelay = req.forwardDelay === undefined || req.forwardDelay === false ? req.forwardDelay : asFaultError(() => checkForwardDelay(req.forwardDelay));
    const lateFirst = req.lateFirstPackets === undefined || req.lateFirstPackets === false ? req.lateFirstPackets : asFaultError(() => checkLateFirstPackets(req.lateFirstPackets));
    const lateAbove = req.lateAboveCalls === undefined || req.lateAboveCalls === false ? req.lateAboveCalls : asFaultError(() => checkLateAboveCalls(req.lateAboveCalls));
    if (req.restart !== undefined) {
      checkRestart(req.restart);
      if (this.down !== null && req.restart !== false) throw new FaultError('restart: ARI is already down from an earlier restart');
    }
    if (req.clear === true) this.clear();
    // a new rule for an operation replaces the old one
    for (const f of fails) this.fail = [...this.fail.filter((r) => r.operation !== f.operation), f];
    for (const d of delays) this.delay = [...this.delay.filter((r) => r.operation !== d.operation), d];
    if (req.eventDelayMs !== undefined) this.eventDelayMs = req.eventDelayMs;
    if (req.stopMedia !== undefined) this.stopMedia = req.stopMedia;
    if (forwardDelay !== undefined) this.forwardDelay = forwardDelay === false ? null : forwardDelay;
    if (lateFirst !== undefined) this.lateFirstPackets = lateFirst === false ? null : lateFirst;
    if (lateAbove !== undefined) this.lateAboveCalls = lateAbove === false ? null : lateAbove;
  }

  /**
   * The failure to answer for `op` now, if any (consumes one count; counted as served).
   * `resource` (the request path): a later request for it is counted as a retry.
   */
  takeFail(op: ApiOp, resource?: string): {status: number; message: string} | undefined {
    if (resource !== undefined) this.noteRetry(op, resource);
    if (this.fail.length === 0) return undefined;
    const names = opNames(op);
    const rule = this.fail.find((r) => names.includes(r.operation));
    if (!rule) return undefined;
    if (rule.count !== undefined) {
      rule.count--;
      if (rule.count <= 0) this.fail = this.fail.filter((r) => r !== rule);
    }
    const key = `${rule.operation}=${rule.status}`;
    this.counters.failsServed[key] = (this.counters.failsServed[key] ?? 0) + 1;
    if (resource !== undefined) this.failedResources.set(`${opNames(op)[0]} ${resource}`, key);
    return {status: rule.status, message: rule.message ?? defaultMessage(rule.status)};
  }

  private noteRetry(op: ApiOp, resource: string): void {
    if (this.failedResources.size === 0) return;
    const id = `${opNames(op)[0]} ${resource}`;
    const key = this.failedResources.get(id);
    if (key === undefined) return;
    this.failedResources.delete(id);
    this.counters.retriesAfterFail[key] = (this.counters.retriesAfterFail[key] ?? 0) + 1;
  }

  takeDelay(op: ApiOp): number {
    if (this.delay.length === 0) return 0;
    const names = opNames(op);
    const rule = this.delay.find((r) => names.includes(r.operation));
    if (!rule) return 0;
    if (rule.count !== undefined) {
      rule.count--;
      if (rule.count <= 0) this.delay = this.delay.filter((r) => r !== rule);
    }
    return rule.delayMs;
  }
}

function asFaultError<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    throw e instanceof MediaFaultError ? new FaultError(e.message) : e;
  }
}

function checkMalformedMedia(r: unknown): void {
  const count = typeof r === 'object' && r !== null ? (r as Record<string, unknown>).count : undefined;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000) throw new FaultError('malformedMedia must be {count: 1-1000}');
}

function checkOperation(op: unknown): string {
  if (typeof op !== 'string' || !KNOWN_OPERATION_NAMES.has(op))
    throw new FaultError(`unknown operation ${JSON.stringify(op)} (e.g. originate, externalMedia, addChannel, createBridge, hangup, eventWebsocket)`);
  return op;
}

function checkCount(count: unknown): number | undefined {
  if (count === undefined || count === null) return undefined;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) throw new FaultError('count must be a positive integer');
  return count;
}

function checkFail(r: unknown): FailRule {
  if (typeof r !== 'object' || r === null) throw new FaultError('fail must be {operation, status, count?, message?}');
  const o = r as Record<string, unknown>;
  const operation = checkOperation(o.operation);
  if (typeof o.status !== 'number' || !Number.isInteger(o.status) || o.status < 400 || o.status > 599) throw new FaultError('fail.status must be an HTTP error status 400-599');
  if (o.message !== undefined && typeof o.message !== 'string') throw new FaultError('fail.message must be a string');
  const count = checkCount(o.count);
  return {operation, status: o.status, ...(count !== undefined ? {count} : {}), ...(o.message !== undefined ? {message: o.message as string} : {})};
}

function checkDelay(r: unknown): DelayRule {
  if (typeof r !== 'object' || r === null) throw new FaultError('delay must be {operation, delayMs, count?}');
  const o = r as Record<string, unknown>;
  const operation = checkOperation(o.operation);
  if (typeof o.delayMs !== 'number' || o.delayMs < 0 || o.delayMs > 600_000) throw new FaultError('delay.delayMs must be a number of ms in 0-600000');
  const count = checkCount(o.count);
  return {operation, delayMs: o.delayMs, ...(count !== undefined ? {count} : {})};
}

/** The restart rule with its defaults, or a FaultError. `false` = no restart. */
export function checkRestart(r: unknown): Required<RestartRule> | undefined {
  if (r === false) return undefined;
  if (r === true) return {downtimeMs: DEFAULT_RESTART_DOWNTIME_MS, whileDown: 'refuse'};
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new FaultError('restart must be true or {downtimeMs?, whileDown?: "refuse"|"503"}');
  const o = r as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'downtimeMs' && k !== 'whileDown') throw new FaultError(`restart: unknown field "${k}" (known: downtimeMs, whileDown)`);
  const downtimeMs = o.downtimeMs ?? DEFAULT_RESTART_DOWNTIME_MS;
  if (typeof downtimeMs !== 'number' || !Number.isFinite(downtimeMs) || downtimeMs < 0 || downtimeMs > 600_000)
    throw new FaultError('restart.downtimeMs must be a number of ms in 0-600000');
  const whileDown = o.whileDown ?? 'refuse';
  if (whileDown !== 'refuse' && whileDown !== '503') throw new FaultError('restart.whileDown must be "refuse" or "503"');
  return {downtimeMs, whileDown};
}

/** Parses a `--fail` flag value: `OPERATION=STATUS[:COUNT]`. */
export function parseFailFlag(text: string): FailRule {
  const m = /^\s*([\w.]+)\s*=\s*(\d{3})\s*(?::\s*(\d+))?\s*$/.exec(text);
  if (!m) throw new FaultError(`"${text}" is not OPERATION=STATUS[:COUNT] (e.g. externalMedia=500 or addChannel=422:3)`);
  return checkFail({operation: m[1], status: Number(m[2]), ...(m[3] !== undefined ? {count: Number(m[3])} : {})});
}
