/**
 * AriConnection: ari-client 2.2 for what users asked for (it loads the API from Asterisk's
 * api-docs and opens the events WebSocket), with its three known defects contained
 * (docs/design.md, call lifecycle, test/sim/fixtures/externalmedia-probes.json probe K):
 * 1. wrong password → bare-string uncaught exception: checkAri() runs first and fails with one
 *    clear ConnectError; guard.ts removes the throw and guards the connect window anyway.
 * 2. "deprecated version of Swagger" on stdout: the connect runs with stdout diverted to the
 *    logger (debug, stderr).
 * 3. WebSocket reconnect that gives up after ~1 minute: ari-client's own reconnect is switched
 *    off for every socket (its close/error handlers see `_wsClosed`) and this class supervises
 *    instead: forever, capped exponential backoff with jitter, re-`start(app)`, and typed
 *    `disconnected` / `reconnected` events (reconcile after `reconnected`: Asterisk does not
 *    replay events).
 * Events are parsed here from the socket ari-client opened (its own per-message handler builds
 * resource objects from the swagger models and throws — uncaught — on a type the models lack).
 * REST goes through AriRest (see rest.ts for why).
 */
import {EventEmitter} from 'node:events';
import ariClient from 'ari-client';
import {ConnectError} from '../errors.js';
import {nullLogger, type Logger} from '../log/logger.js';
import {redactSecrets} from '../log/redact.js';
import {checkAri, ariOrigin, messageOf, type AriCheckResult} from './check.js';
import {captureStdout, guardUncaught, isAriClientFault, patchSwaggerFail} from './guard.js';
import {AriRest} from './rest.js';
import {STASIS_EVENT_TYPES, type AriAnyEvent, type AriStasisEvents} from './types.js';

export interface AriConnectionOptions {
  url: string;
  user: string;
  pass: string;
  /** Stasis application name (APP_NAME). */
  app: string;
  logger?: Logger;
  /** Bound for checkAri, loading the API and opening the WebSocket; default 10 s. */
  connectTimeoutMs?: number;
  /** Per REST request; default 10 s. */
  requestTimeoutMs?: number;
  /** Concurrent REST sockets; default 64. */
  maxSockets?: number;
  /** Reconnect backoff: first delay, doubling up to maxMs, each with jitter (50–100 %). Default 250 → 5000 ms. */
  reconnect?: {initialMs?: number; maxMs?: number};
  /** WebSocket ping period; a socket without pong for one period is dropped and reconnected. 0 = off. Default 15 s. */
  pingIntervalMs?: number;
}

export interface DisconnectedInfo {
  /** Why the socket went away, e.g. "closed (1006)" or the socket error's message. */
  reason: string;
}

export interface ReconnectedInfo {
  /** Attempts it took (1 = the first retry worked). */
  attempts: number;
  /** How long events were not flowing. */
  downMs: number;
}

/** Every event an AriConnection emits, with its listener arguments. */
export type AriConnectionEvents = {
  [K in keyof AriStasisEvents]: [AriStasisEvents[K]];
} & {
  /** The events WebSocket is open for the first time (end of connect()). */
  connected: [];
  /** The events WebSocket went away; reconnecting has started. */
  disconnected: [DisconnectedInfo];
  /** The events WebSocket is open again: list channels/bridges and reconcile now. */
  reconnected: [ReconnectedInfo];
  /** Every event received (Dial, ChannelVarset… included), as parsed JSON. */
  event: [AriAnyEvent];
};

/** What we use of ari-client's Client, including the internals the supervision relies on. */
interface AriClientInternal {
  start(apps: string | string[]): PromiseLike<void> & {catch(fn: (e: unknown) => void): unknown};
  stop(): void;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  /** The current events socket (a `ws` 6 WebSocket), created synchronously by start(). */
  _ws?: WsLike;
  /** When true, ari-client's close/error handlers neither reconnect nor reject. */
  _wsClosed?: boolean;
}

interface WsLike {
  readyState: number;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  once(event: string, fn: (...args: unknown[]) => void): unknown;
  prependListener(event: string, fn: (...args: unknown[]) => void): unknown;
  removeAllListeners(event: string): unknown;
  close(code?: number): void;
  terminate(): void;
  ping(): void;
}

const WS_OPEN = 1;
const WS_CLOSED = 3;
const STASIS_TYPES = new Set<string>(STASIS_EVENT_TYPES);

export class AriConnection extends EventEmitter<AriConnectionEvents> {
  /** Typed REST helpers (answer, hangup, originate, externalMedia, bridges…). */
  readonly rest: AriRest;
  readonly app: string;
  readonly origin: string;
  /** Set by connect(): what `/asterisk/info` said. */
  info: AriCheckResult | undefined;

  private readonly opts: AriConnectionOptions;
  private readonly log: Logger;
  private client: AriClientInternal | undefined;
  private ws: WsLike | undefined;
  private isConnected = false;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private downSinceMs = 0;
  /** Why we terminated a socket ourselves (no pong), for the `disconnected` reason. */
  private readonly dropReasons = new WeakMap<WsLike, string>();

  constructor(opts: AriConnectionOptions) {
    super();
    this.opts = opts;
    this.app = opts.app;
    this.origin = ariOrigin(opts.url);
    this.log = (opts.logger ?? nullLogger).child({component: 'ari'});
    this.rest = new AriRest({
      url: opts.url,
      user: opts.user,
      pass: opts.pass,
      requestTimeoutMs: opts.requestTimeoutMs,
      maxSockets: opts.maxSockets,
    });
  }

  /** True while the events WebSocket is open (what `/health` reports). */
  get connected(): boolean {
    return this.isConnected;
  }

  /**
   * Check credentials, load the API through ari-client (stdout kept clean), open the events
   * WebSocket for `app`. Throws ConnectError (exit 2) with one clear line; never leaves an
   * uncaught exception behind. Emits `connected`.
   */
  async connect(): Promise<AriCheckResult> {
    if (this.closing) throw new ConnectError('ARI connection already closed');
    const timeoutMs = this.opts.connectTimeoutMs ?? 10_000;
    this.info = await checkAri(this.opts.url, this.opts.user, this.opts.pass, {timeoutMs});
    this.client = await loadAriClient(this.origin, this.opts.user, this.opts.pass, {timeoutMs, logger: this.log});
    this.client.on('WebSocketMaxRetries', () => {
      // Cannot happen while our takeover works; if it does, supervision takes over anyway.
      if (!this.closing && this.isConnected) this.onSocketLost('ari-client gave up reconnecting');
    });
    try {
      await this.openEvents(timeoutMs);
    } catch (err) {
      this.closeSocket();
      throw new ConnectError(`cannot open the ARI events WebSocket at ${this.origin} for app '${this.app}': ${sanitize(messageOf(err))}`);
    }
    if (this.closing) {
      this.closeSocket();
      throw new ConnectError('ARI connection closed while connecting');
    }
    this.isConnected = true;
    this.log.info('ari.connected', {url: this.origin, app: this.app, asterisk: this.info.isSim ? 'sim' : this.info.version});
    this.safeEmit('connected');
    return this.info;
  }

  /** Stop reconnecting, close the WebSocket and REST sockets. Emits nothing. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.isConnected = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stopPing();
    const ws = this.ws;
    if (ws && ws.readyState !== WS_CLOSED) {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      this.closeSocket();
      const timer = setTimeout(() => ws.terminate(), 1000);
      await closed;
      clearTimeout(timer);
    }
    this.rest.close();
  }

  // ---- events socket ----

  /** (Re)start the app through ari-client and resolve once its WebSocket is open. */
  private openEvents(timeoutMs: number): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('not connected'));
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      let lastError = '';
      // ari-client's start() promise only settles on the first open or when its own reconnect
      // gives up; ours supersede both, so it is just kept from becoming an unhandled rejection.
      client._ws = undefined;
      client.start(this.app).catch(() => undefined);
      const ws = client._ws as WsLike | undefined; // set synchronously by start() unless it threw
      if (!ws) {
        reject(new Error('ari-client did not open a WebSocket'));
        return;
      }
      this.ws = ws;
      // Run before ari-client's handlers: with _wsClosed set they neither reconnect nor reject.
      ws.prependListener('error', (err: unknown) => {
        client._wsClosed = true;
        lastError = messageOf(err);
      });
      ws.prependListener('close', (code: unknown) => {
        client._wsClosed = true;
        clearTimeout(openTimer);
        const reason = this.dropReasons.get(ws) ?? (lastError || `closed (${String(code)})`);
        if (!opened) reject(new Error(reason));
        else if (this.ws === ws) this.onSocketLost(reason);
      });
      ws.removeAllListeners('message');
      ws.on('message', (data: unknown) => this.onMessage(data));
      const openTimer = setTimeout(() => {
        lastError = `no WebSocket handshake within ${timeoutMs} ms`;
        ws.terminate();
      }, timeoutMs);
      ws.once('open', () => {
        opened = true;
        clearTimeout(openTimer);
        this.startPing(ws);
        resolve();
      });
    });
  }

  private onMessage(data: unknown): void {
    let ev: AriAnyEvent;
    try {
      ev = JSON.parse(typeof data === 'string' ? data : String(data)) as AriAnyEvent;
    } catch {
      this.log.warn('ari.event.unparseable', {bytes: typeof data === 'string' ? data.length : undefined});
      return;
    }
    if (!ev || typeof ev.type !== 'string') return;
    if (ev.type === 'StasisStart' && !Array.isArray(ev.args)) ev.args = [];
    else if (ev.type === 'ApplicationReplaced') {
      // Another client registered the same app name: Asterisk now sends its events there.
      this.log.warn('ari.application_replaced', {app: this.app});
    }
    this.safeEmit('event', ev);
    if (STASIS_TYPES.has(ev.type)) (this.safeEmit as (t: string, e: AriAnyEvent) => void)(ev.type, ev);
  }

  /** A throwing listener is logged; it must not reach the socket (uncaught) or stop the others' events. */
  private safeEmit<K extends keyof AriConnectionEvents>(type: K, ...args: AriConnectionEvents[K]): void {
    try {
      (this.emit as (t: string, ...a: unknown[]) => boolean)(type as string, ...args);
    } catch (err) {
      this.log.error('ari.listener.failed', {event: String(type), err: messageOf(err)});
    }
  }

  private onSocketLost(reason: string): void {
    if (this.closing || !this.isConnected) return;
    this.stopPing();
    this.isConnected = false;
    this.downSinceMs = Date.now();
    this.log.warn('ari.disconnected', {reason: sanitize(reason)});
    this.safeEmit('disconnected', {reason: sanitize(reason)});
    this.scheduleReconnect(1);
  }

  private scheduleReconnect(attempt: number): void {
    if (this.closing) return;
    const initialMs = this.opts.reconnect?.initialMs ?? 250;
    const maxMs = this.opts.reconnect?.maxMs ?? 5000;
    const capMs = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
    const delayMs = Math.round(capMs / 2 + Math.random() * (capMs / 2));
    this.reconnectTimer = setTimeout(() => void this.tryReconnect(attempt), delayMs);
  }

  private async tryReconnect(attempt: number): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.closing) return;
    try {
      await this.openEvents(this.opts.connectTimeoutMs ?? 10_000);
    } catch (err) {
      if (this.closing) return;
      // Forever, so keep the log readable: the first few failures, then every 10th.
      const level = attempt <= 3 || attempt % 10 === 0 ? 'warn' : 'debug';
      this.log[level]('ari.reconnect.failed', {attempt, reason: sanitize(messageOf(err))});
      this.scheduleReconnect(attempt + 1);
      return;
    }
    if (this.closing) {
      this.closeSocket();
      return;
    }
    this.isConnected = true;
    const downMs = Date.now() - this.downSinceMs;
    this.log.info('ari.reconnected', {attempts: attempt, downMs});
    this.safeEmit('reconnected', {attempts: attempt, downMs});
  }

  private closeSocket(): void {
    const client = this.client;
    const ws = this.ws;
    if (!client || !ws || ws.readyState === WS_CLOSED) return;
    client._wsClosed = true;
    try {
      ws.close();
    } catch {
      ws.terminate();
    }
  }

  private startPing(ws: WsLike): void {
    this.stopPing();
    const periodMs = this.opts.pingIntervalMs ?? 15_000;
    if (periodMs <= 0) return;
    let alive = true;
    ws.on('pong', () => (alive = true));
    this.pingTimer = setInterval(() => {
      if (ws.readyState !== WS_OPEN) return;
      if (!alive) {
        this.dropReasons.set(ws, `no pong within ${periodMs} ms`);
        ws.terminate();
        return;
      }
      alive = false;
      try {
        ws.ping();
      } catch {
        // closing; the close handler takes over
      }
    }, periodMs);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }
}

/** Connect in one step: `new AriConnection(opts)` + `connect()`. */
export async function connectAri(opts: AriConnectionOptions): Promise<AriConnection> {
  const conn = new AriConnection(opts);
  try {
    await conn.connect();
  } catch (err) {
    await conn.close();
    throw err;
  }
  return conn;
}

/**
 * ari-client's connect (it loads /ari/api-docs), contained: stdout diverted to the logger,
 * swagger-client's throw removed, uncaught exceptions from those libraries turned into a
 * ConnectError, bounded by `timeoutMs`. Exported for tests; use AriConnection.
 */
export async function loadAriClient(
  origin: string,
  user: string,
  pass: string,
  opts: {timeoutMs: number; logger?: Logger},
): Promise<AriClientInternal> {
  const log = opts.logger ?? nullLogger;
  patchSwaggerFail();
  const releaseStdout = captureStdout((text, via) => log.debug('ari.client.output', {via, text: sanitize(text)}));
  let releaseGuard: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<AriClientInternal>((resolve, reject) => {
      const fail = (err: unknown): void =>
        reject(new ConnectError(`ari-client could not load the ARI API from ${origin}: ${sanitize(describeFailure(err))}`));
      timer = setTimeout(
        () => reject(new ConnectError(`ari-client did not load the ARI API from ${origin} within ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
      releaseGuard = guardUncaught(isAriClientFault, (err) => {
        log.debug('ari.client.uncaught_contained', {err: sanitize(describeFailure(err))});
        fail(err);
      });
      let started: PromiseLike<unknown>;
      try {
        started = ariClient.connect(origin, user, pass) as unknown as PromiseLike<unknown>;
      } catch (err) {
        fail(err);
        return;
      }
      started.then((client) => resolve(client as AriClientInternal), fail);
    });
  } finally {
    if (timer) clearTimeout(timer);
    releaseGuard?.();
    releaseStdout();
  }
}

function describeFailure(err: unknown): string {
  const msg = messageOf(err);
  // swagger-client: "401 : undefined http://…/ari/api-docs/resources.json"
  const m = /^(\d{3}) : /.exec(msg);
  if (m) return `api-docs answered ${m[1]}`;
  return msg;
}

/** The events URL carries `api_key=user:pass`; nothing derived from it may be printed. */
function sanitize(text: string): string {
  return redactSecrets(text);
}
