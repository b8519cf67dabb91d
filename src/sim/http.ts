/**
 * The sim's HTTP side (node:http, no framework): ARI REST under /ari with Basic auth or
 * `api_key=user:pass`, the api-docs ari-client loads, the events WebSocket upgrade (`ws`), and
 * the `/_sim/` control endpoints (faults, stats; same credentials).
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {Duplex} from 'node:stream';
import {timingSafeEqual} from 'node:crypto';
import {WebSocketServer} from 'ws';
import type {Logger} from '../log/logger.js';
import {redactSecrets} from '../log/redact.js';
import {apiDeclaration, matchRoute, opId, resourceListing, type ApiOp, type ApiResource} from './api.js';
import {AriError, type OpResult, type Params, type SimCore} from './core.js';
import type {EventHub} from './events.js';
import {FaultError, type FaultRequest, type Faults} from './faults.js';

export const SERVER_HEADER = 'Asterisk/22.10.1 (rtpsla sim)';
const REALM = 'Asterisk REST Interface';
const MAX_BODY_BYTES = 1 << 20;

export interface HttpDeps {
  core: SimCore;
  hub: EventHub;
  faults: Faults;
  log: Logger;
  user: string;
  pass: string;
  /** Users with `read_only = yes` (ari.conf): GET and the events WebSocket only; writes answer 403. */
  readOnlyUsers?: ReadonlyArray<{user: string; pass: string}>;
  asteriskInfo(): Record<string, unknown>;
  stats(): unknown;
  /** Brings engine-side figures up to date before stats(). */
  refreshStats(): Promise<void>;
  /** Applies a fault request (media/event side effects); returns the new state + what was done. */
  applyFaults(req: FaultRequest): unknown;
  /** True while a restart fault keeps ARI down: REST answers 503, WebSocket upgrades are refused. */
  isDown(): boolean;
}

export function createSimHttpServer(d: HttpDeps): Server {
  const wss = new WebSocketServer({noServer: true, perMessageDeflate: false, clientTracking: false});
  const server = createServer((req, res) => {
    handle(d, req, res).catch((err: unknown) => {
      d.log.error('sim.http.error', {err: redactSecrets(err instanceof Error ? err.message : String(err)), url: redactSecrets(req.url ?? '')});
      if (!res.headersSent) send(res, 500, {message: 'An internal error prevented this request from being handled'});
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 15_000;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const url = parseUrl(req.url);
    if (d.isDown()) return rejectUpgrade(socket, 503, {message: 'Service Unavailable'});
    if (url.pathname !== '/ari/events') return rejectUpgrade(socket, 404, {message: 'Resource not found'});
    if (!authorized(d, req, url)) return rejectUpgrade(socket, 401, {message: 'Authentication required'}, true);
    const route = matchRoute('GET', '/events');
    const fail = route && route !== 'method' ? d.faults.takeFail(route.op) : undefined;
    if (fail) return rejectUpgrade(socket, fail.status, {message: fail.message});
    const apps = url.searchParams.getAll('app').flatMap((a) => a.split(',')).map((a) => a.trim()).filter(Boolean);
    if (apps.length === 0) return rejectUpgrade(socket, 400, {message: "Missing param 'app'"});
    const subscribeAll = /^(true|1|yes)$/i.test(url.searchParams.get('subscribeAll') ?? '');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => undefined);
      d.hub.addSession({ws, apps, subscribeAll, remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`});
    });
  });
  // a restart fault closes the listener for a while: the WebSocket server stays usable
  server.on('close', () => {
    if (!d.isDown()) wss.close();
  });
  return server;
}

function parseUrl(raw: string | undefined): URL {
  try {
    return new URL(raw ?? '/', 'http://sim.invalid');
  } catch {
    return new URL('/', 'http://sim.invalid');
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Who the request authenticates as: the full user, a read_only user, or nobody (false). */
function authorized(d: HttpDeps, req: IncomingMessage, url: URL): 'write' | 'read' | false {
  const credentials: string[] = [];
  const h = req.headers.authorization;
  if (h && /^basic\s+/i.test(h)) credentials.push(Buffer.from(h.replace(/^basic\s+/i, ''), 'base64').toString('utf8'));
  const key = url.searchParams.get('api_key');
  if (key !== null) credentials.push(key);
  for (const text of credentials) {
    const i = text.indexOf(':');
    if (i < 0) continue;
    const [user, pass] = [text.slice(0, i), text.slice(i + 1)];
    if (same(user, d.user) && same(pass, d.pass)) return 'write';
    if ((d.readOnlyUsers ?? []).some((u) => same(user, u.user) && same(pass, u.pass))) return 'read';
  }
  return false;
}

function rejectUpgrade(socket: Duplex, status: number, body: object, challenge = false): void {
  const text = JSON.stringify(body);
  const reason = {400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 503: 'Service Unavailable'}[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nServer: ${SERVER_HEADER}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      (challenge ? `WWW-Authenticate: Basic realm="${REALM}"\r\n` : '') +
      'Connection: close\r\n\r\n' +
      text,
  );
}

function send(res: ServerResponse, status: number, body?: unknown, after?: () => void, extraHeaders?: Record<string, string>): void {
  const headers: Record<string, string | number> = {Server: SERVER_HEADER, 'Cache-Control': 'no-cache, no-store', ...extraHeaders};
  if (after) {
    // events that follow the response go out once it is written, or once the client is gone
    // (the state change already happened, so its events must not be lost)
    let done = false;
    const run = (): void => {
      if (done) return;
      done = true;
      try {
        after();
      } catch {
        /* events after a response never fail the request */
      }
    };
    res.once('finish', run);
    res.once('close', run);
  }
  if (body === undefined || status === 204) {
    headers['Content-Length'] = 0;
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  headers['Content-Type'] = 'application/json';
  headers['Content-Length'] = Buffer.byteLength(text);
  res.writeHead(status, headers);
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new AriError(413, 'Request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Query parameters (repeated keys joined with commas), then body keys, as Asterisk merges them. */
async function buildParams(req: IncomingMessage, url: URL): Promise<Params> {
  const map = new Map<string, string>();
  for (const [k, v] of url.searchParams) {
    if (k === 'api_key') continue;
    const prev = map.get(k);
    map.set(k, prev === undefined ? v : `${prev},${v}`);
  }
  let variables: Record<string, unknown> | undefined;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const text = await readBody(req);
    const type = req.headers['content-type'] ?? '';
    if (text.trim() !== '') {
      if (type.includes('application/x-www-form-urlencoded')) {
        for (const [k, v] of new URLSearchParams(text)) map.set(k, v);
      } else {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new AriError(400, 'Error parsing request body');
        }
        if (body && typeof body === 'object' && !Array.isArray(body)) {
          for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
            if (k === 'variables' && typeof v === 'object' && v !== null) variables = {variables: v};
            else if (Array.isArray(v)) map.set(k, v.map(String).join(','));
            else if (v !== null && typeof v !== 'object') map.set(k, String(v));
          }
        }
      }
    }
  }
  return {get: (name) => map.get(name), variables};
}

async function handle(d: HttpDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = parseUrl(req.url);
  const path = url.pathname;
  const isAri = path === '/ari' || path.startsWith('/ari/');
  const isControl = path.startsWith('/_sim/');
  if (!isAri && !isControl) {
    res.writeHead(404, {Server: SERVER_HEADER, 'Content-Type': 'text/plain'});
    res.end('Not Found\n');
    return;
  }
  if (isAri && d.isDown()) {
    req.resume();
    send(res, 503, {message: 'Service Unavailable'}, undefined, {Connection: 'close'});
    return;
  }
  const access = authorized(d, req, url);
  if (!access) {
    req.resume();
    send(res, 401, {message: 'Authentication required'}, undefined, {'WWW-Authenticate': `Basic realm="${REALM}"`});
    return;
  }
  // res_ari.c: a read_only user may GET (and OPTIONS); any other method is refused before routing
  if (access === 'read' && req.method !== 'GET' && req.method !== 'OPTIONS') {
    req.resume();
    return send(res, 403, {message: 'Write access denied'});
  }
  if (isControl) return control(d, req, res, url);

  const sub = path.slice(4) || '/';
  const docs = /^\/api-docs\/([A-Za-z]+)\.json$/.exec(sub);
  if (docs && req.method === 'GET') {
    const basePath = `http://${req.headers.host ?? '127.0.0.1'}/ari`;
    const body = docs[1] === 'resources' ? resourceListing(basePath) : apiDeclaration(docs[1] as ApiResource, basePath);
    if (!body) return send(res, 404, {message: 'Resource not found'});
    return send(res, 200, body);
  }
  const route = matchRoute(req.method ?? 'GET', sub);
  if (route === undefined) {
    req.resume();
    return send(res, 404, {message: 'Resource not found'});
  }
  if (route === 'method') {
    req.resume();
    return send(res, 405, {message: 'Invalid method'});
  }
  let result: OpResult;
  try {
    const params = await buildParams(req, url);
    const delayMs = d.faults.takeDelay(route.op);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const fail = d.faults.takeFail(route.op, sub);
    if (fail) return send(res, fail.status, {message: fail.message});
    result = await dispatch(d, route.op, route.pathParams, params);
  } catch (err) {
    if (err instanceof AriError) return send(res, err.status, {message: err.message});
    throw err;
  }
  send(res, result.status, result.body, result.after);
}

function dispatch(d: HttpDeps, op: ApiOp, pp: Record<string, string>, p: Params): OpResult | Promise<OpResult> {
  const core = d.core;
  switch (opId(op)) {
    case 'asterisk.getInfo': {
      const info = d.asteriskInfo();
      const only = p.get('only');
      if (!only) return {status: 200, body: info};
      const keys = only.split(',').map((s) => s.trim());
      return {status: 200, body: Object.fromEntries(Object.entries(info).filter(([k]) => keys.includes(k)))};
    }
    case 'asterisk.getGlobalVar':
      return core.getGlobalVar(p);
    case 'asterisk.setGlobalVar':
      return core.setGlobalVar(p);
    case 'channels.list':
      return core.listChannels();
    case 'channels.originate':
      return core.originate(p);
    case 'channels.originateWithId':
      return core.originate(p, pp.channelId);
    case 'channels.externalMedia':
      return core.externalMedia(p);
    case 'channels.get':
      return core.getChannel(pp.channelId);
    case 'channels.hangup':
      return core.hangup(pp.channelId, p);
    case 'channels.answer':
      return core.answer(pp.channelId);
    case 'channels.getChannelVar':
      return core.getChannelVar(pp.channelId, p);
    case 'channels.setChannelVar':
      return core.setChannelVar(pp.channelId, p);
    case 'channels.rtpstatistics':
      return core.rtpStatistics(pp.channelId);
    case 'bridges.list':
      return core.listBridges();
    case 'bridges.create':
      return core.createBridge(p);
    case 'bridges.createWithId':
      return core.createBridge(p, pp.bridgeId);
    case 'bridges.get':
      return core.getBridge(pp.bridgeId);
    case 'bridges.destroy':
      return core.destroyBridge(pp.bridgeId);
    case 'bridges.addChannel':
      return core.addChannel(pp.bridgeId, p);
    case 'bridges.removeChannel':
      return core.removeChannel(pp.bridgeId, p);
    case 'applications.list':
      return core.listApplications();
    case 'applications.get':
      return core.getApplication(pp.applicationName);
    case 'events.eventWebsocket':
      return {status: 400, body: {message: 'WebSocket upgrade required'}};
    default:
      return {status: 501, body: {message: 'Not Implemented'}};
  }
}

async function control(d: HttpDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname;
  if (path === '/_sim/stats' && req.method === 'GET') {
    await d.refreshStats();
    return send(res, 200, d.stats());
  }
  if (path === '/_sim/faults' && req.method === 'GET') return send(res, 200, d.faults.state());
  if (path === '/_sim/faults' && req.method === 'POST') {
    let body: unknown;
    try {
      const text = await readBody(req);
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      return send(res, 400, {message: 'body must be JSON'});
    }
    try {
      return send(res, 200, d.applyFaults(body as FaultRequest));
    } catch (err) {
      if (err instanceof FaultError) return send(res, 400, {message: err.message});
      throw err;
    }
  }
  req.resume();
  send(res, 404, {message: 'Resource not found (control endpoints: GET /_sim/stats, GET|POST /_sim/faults)'});
}
