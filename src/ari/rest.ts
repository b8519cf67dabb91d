/**
 * ARI REST helpers, typed, over plain node:http with one keep-alive agent per connection.
 *
 * Why not ari-client's swagger operations: every ari-client call goes through swagger-client 2.0
 * and the `request` package: a fresh connection per call unless configured otherwise, a
 * process-global auth registry, errors as `Error(<raw body>)` with the HTTP status lost (serve
 * must tell 422 "not in Stasis yet" from 404 "already gone"), and resource wrappers built for
 * every result. The REST API itself is small and stable (the query-string calls recorded in
 * fixtures/asterisk/rest-transcript.jsonl), so a direct client is faster under hundreds of
 * concurrent calls, bounded (maxSockets) and predictable. ari-client stays what loads the API and
 * owns the events WebSocket (see connection.ts).
 */
import http from 'node:http';
import https from 'node:https';
import {RtpslaError} from '../errors.js';
import type {Socket} from 'node:net';
import {ariErrorText, ariOrigin, basicAuth, messageOf} from './check.js';
import {ConnectionPacing} from './pacing.js';
import type {AriBridge, AriChannel, AsteriskInfo} from './types.js';

/**
 * A non-2xx answer from ARI (or no answer: `status` 0). `ariMessage` is Asterisk's own
 * `message`, e.g. 422 "Channel not in Stasis application", 404 "Channel not found".
 */
export class AriHttpError extends RtpslaError {
  readonly status: number;
  readonly ariMessage: string;
  readonly method: string;
  readonly path: string;
  constructor(method: string, path: string, status: number, ariMessage: string, options?: {cause?: unknown}) {
    super(`ARI ${method} ${path} ${status === 0 ? 'failed' : `answered ${status}`}: ${ariMessage}`, 1, options);
    this.status = status;
    this.ariMessage = ariMessage;
    this.method = method;
    this.path = path;
  }
}

export function isAriHttpError(err: unknown, status?: number): err is AriHttpError {
  return err instanceof AriHttpError && (status === undefined || err.status === status);
}

export type ExternalMediaFormat = 'ulaw' | 'alaw' | 'slin16' | 'g722' | (string & {});

export interface OriginateParams {
  /** e.g. `Local/s@rtpsla-source/n` */
  endpoint: string;
  app: string;
  /** Comma-joined by ARI into StasisStart `args`; pass an array or a ready string. */
  appArgs?: string[] | string;
  /** Native formats of the new channel, e.g. `ulaw` (avoids slin192 transcoding, docs/design.md, call lifecycle). */
  formats?: string;
  channelId?: string;
  otherChannelId?: string;
  callerId?: string;
  timeoutSec?: number;
}

export interface ExternalMediaParams {
  channelId?: string;
  app: string;
  /** `host:port` Asterisk sends RTP to. */
  externalHost: string;
  format: ExternalMediaFormat;
  encapsulation?: 'rtp' | 'audiosocket' | 'none';
  transport?: 'udp' | 'tcp' | 'websocket';
  direction?: 'both' | 'in' | 'out';
  /** Delivered as the channel's StasisStart args, split on commas (load's RTP caller carries its appArgs here). */
  data?: string;
}

export interface ExternalMediaResult {
  channel: AriChannel;
  /** UNICASTRTP_LOCAL_ADDRESS: Asterisk sends from, and accepts media back at, this address. */
  localAddress: string;
  /** UNICASTRTP_LOCAL_PORT */
  localPort: number;
}

export interface CreateBridgeParams {
  type?: string;
  bridgeId?: string;
  name?: string;
}

export interface AriRestOptions {
  url: string;
  user: string;
  pass: string;
  /** Per request; default 10 s (a saturated Asterisk answers DELETE slowly). */
  requestTimeoutMs?: number;
  /** Concurrent sockets to ARI; default 64 (opened one at a time, see pacing.ts). */
  maxSockets?: number;
}

type Query = Record<string, string | number | undefined>;

export class AriRest {
  readonly origin: string;
  private readonly auth: string;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly timeoutMs: number;
  private readonly pacing: ConnectionPacing;

  constructor(opts: AriRestOptions) {
    this.origin = ariOrigin(opts.url);
    this.auth = basicAuth(opts.user, opts.pass);
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    const secure = this.origin.startsWith('https:');
    this.transport = secure ? https : http;
    const maxSockets = opts.maxSockets ?? 64;
    // every connection opened is kept (maxFreeSockets): the server closes idle ones (Asterisk's
    // session_keep_alive, 15 s), and a burst after a quiet spell reuses those of the last one
    // instead of opening new ones while the server is busiest (pacing.ts)
    const agentOpts = {keepAlive: true, keepAliveMsecs: 1000, maxSockets, maxFreeSockets: maxSockets};
    this.agent = secure ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
    this.pacing = new ConnectionPacing(this.agent, maxSockets);
  }

  /** Close idle keep-alive sockets; in-flight requests are aborted, and so are those waiting for a connection. */
  close(): void {
    this.pacing.abortWaiting(new Error('the ARI client was closed'));
    this.agent.destroy();
  }

  // ---- asterisk ----
  info(): Promise<AsteriskInfo> {
    return this.request<AsteriskInfo>('GET', '/asterisk/info');
  }

  /** A global dialplan variable ("" when unset, as Asterisk answers). */
  async getGlobalVar(variable: string): Promise<string> {
    return (await this.request<{value?: string}>('GET', '/asterisk/variable', {variable}))?.value ?? '';
  }

  async setGlobalVar(variable: string, value: string): Promise<void> {
    await this.request('POST', '/asterisk/variable', {variable, value});
  }

  // ---- channels ----
  listChannels(): Promise<AriChannel[]> {
    return this.request<AriChannel[]>('GET', '/channels');
  }

  /** The channel, or undefined when it no longer exists (404). */
  async getChannel(channelId: string): Promise<AriChannel | undefined> {
    return this.tolerate404(this.request<AriChannel>('GET', `/channels/${enc(channelId)}`), undefined);
  }

  /** Answer; a channel that is already Up answers 204 too. */
  async answer(channelId: string): Promise<void> {
    await this.request('POST', `/channels/${enc(channelId)}/answer`);
  }

  /** Hang up. Returns false when the channel was already gone (404). */
  hangup(channelId: string, reason?: string): Promise<boolean> {
    return this.tolerate404(this.request('DELETE', `/channels/${enc(channelId)}`, {reason}).then(() => true), false);
  }

  originate(p: OriginateParams): Promise<AriChannel> {
    return this.request<AriChannel>('POST', '/channels', {
      endpoint: p.endpoint,
      app: p.app,
      appArgs: Array.isArray(p.appArgs) ? p.appArgs.join(',') : p.appArgs,
      formats: p.formats,
      channelId: p.channelId,
      otherChannelId: p.otherChannelId,
      callerId: p.callerId,
      timeout: p.timeoutSec,
    });
  }

  async externalMedia(p: ExternalMediaParams): Promise<ExternalMediaResult> {
    const channel = await this.request<AriChannel>('POST', '/channels/externalMedia', {
      channelId: p.channelId,
      app: p.app,
      external_host: p.externalHost,
      format: p.format,
      encapsulation: p.encapsulation ?? 'rtp',
      transport: p.transport ?? 'udp',
      direction: p.direction ?? 'both',
      data: p.data,
    });
    const vars = channel?.channelvars ?? {};
    const localAddress = vars.UNICASTRTP_LOCAL_ADDRESS;
    const localPort = Number(vars.UNICASTRTP_LOCAL_PORT);
    if (!localAddress || !Number.isInteger(localPort) || localPort < 1 || localPort > 65535) {
      throw new AriHttpError(
        'POST',
        '/channels/externalMedia',
        200,
        `response for channel ${channel?.id ?? '?'} has no usable UNICASTRTP_LOCAL_ADDRESS/UNICASTRTP_LOCAL_PORT channelvars`,
      );
    }
    return {channel, localAddress, localPort};
  }

  // ---- bridges ----
  listBridges(): Promise<AriBridge[]> {
    return this.request<AriBridge[]>('GET', '/bridges');
  }

  async getBridge(bridgeId: string): Promise<AriBridge | undefined> {
    return this.tolerate404(this.request<AriBridge>('GET', `/bridges/${enc(bridgeId)}`), undefined);
  }

  createBridge(p: CreateBridgeParams = {}): Promise<AriBridge> {
    return this.request<AriBridge>('POST', '/bridges', {type: p.type ?? 'mixing', bridgeId: p.bridgeId, name: p.name});
  }

  /** 422 "Channel not in Stasis application" when a channel's StasisStart has not happened yet; see addChannelWhenInStasis. */
  async addChannel(bridgeId: string, channelIds: readonly string[]): Promise<void> {
    await this.request('POST', `/bridges/${enc(bridgeId)}/addChannel`, {channel: channelIds.join(',')});
  }

  async removeChannel(bridgeId: string, channelIds: readonly string[]): Promise<void> {
    await this.request('POST', `/bridges/${enc(bridgeId)}/removeChannel`, {channel: channelIds.join(',')});
  }

  /** Destroy. Returns false when the bridge was already gone (404). */
  destroyBridge(bridgeId: string): Promise<boolean> {
    return this.tolerate404(this.request('DELETE', `/bridges/${enc(bridgeId)}`).then(() => true), false);
  }

  // ---- transport ----
  private async tolerate404<T, D>(p: Promise<T>, fallback: D): Promise<T | D> {
    try {
      return await p;
    } catch (err) {
      if (isAriHttpError(err, 404)) return fallback;
      throw err;
    }
  }

  /** One ARI call: query-string parameters (as Asterisk documents them), JSON answer or undefined for 204. */
  request<T = unknown>(method: string, path: string, query?: Query): Promise<T> {
    let qs = '';
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
      const s = params.toString();
      if (s) qs = '?' + s;
    }
    const fullPath = '/ari' + path + qs;
    return this.pacing.acquire().then(
      () => this.send<T>(method, path, fullPath),
      (err: unknown) => {
        throw new AriHttpError(method, path, 0, messageOf(err), {cause: err});
      },
    );
  }

  /** Send one request (its turn to go out came, see pacing.ts); the pacing hears how it went. */
  private send<T>(method: string, path: string, fullPath: string): Promise<T> {
    let over = false;
    const done = (failedOn?: Socket): void => {
      if (over) return;
      over = true;
      this.pacing.done(failedOn);
    };
    return new Promise<T>((resolve, reject) => {
      const req = this.transport.request(
        this.origin + fullPath,
        {
          method,
          agent: this.agent,
          headers: {authorization: this.auth, accept: 'application/json', 'content-length': 0},
          timeout: this.timeoutMs,
        },
        (res) => {
          this.pacing.answeredOn(res.socket);
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => {
            done();
            reject(new AriHttpError(method, path, 0, messageOf(err), {cause: err}));
          });
          res.on('end', () => {
            done();
            const body = chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) {
              reject(new AriHttpError(method, path, status, ariErrorText(body) ?? res.statusMessage ?? 'error'));
              return;
            }
            if (!body) {
              resolve(undefined as T);
              return;
            }
            try {
              resolve(JSON.parse(body) as T);
            } catch {
              reject(new AriHttpError(method, path, status, 'answer is not JSON'));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) => {
        done(req.socket ?? undefined);
        reject(new AriHttpError(method, path, 0, messageOf(err), {cause: err}));
      });
      req.end();
    });
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}
