import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {IntervalHistogram} from 'node:perf_hooks';
import type {MediaServerKind} from '../protocol/media-server.js';
import {performance} from 'node:perf_hooks';
import {renderPrometheus} from '../metrics/prometheus.js';
import {RUN_TOKEN_HEADER} from '../protocol/app-args.js';
import type {EngineCounters, Health} from '../protocol/serve-api.js';
import type {ServeLedger} from './ledger.js';
import {metricHistograms, metricSamples, metricsJson, snapshotMetrics} from './metrics.js';

export interface ServeHttpDeps {
  ledger: ServeLedger;
  ariConnected: () => boolean;
  /** Why serve cannot do its job although ARI is connected (e.g. ApplicationReplaced), or null. */
  unhealthyReason?: () => string | null;
  /** serve's event-loop delay (perf_hooks), reported in /metrics. */
  eventLoop?: IntervalHistogram;
  limits?: Partial<HttpLimits>;
  /**
   * The native engine's own counters with serve's CPU beside them, read together (one engine
   * round trip), for the JSON /metrics; absent or null with the Node engine.
   */
  engineCounters?: () => Promise<EngineCounters | null>;
  /** Monotonic ms (tests drive it); default performance.now. */
  nowMs?: () => number;
  /** The native engine's pid (null while it is down; absent with the Node engine). */
  enginePid?: () => number | null;
  /** The Stasis app serve runs (load checks it before originating). */
  app?: string;
  /** Brings ledger.relayEngine up to date (the engine's timestamp counts) before a run's records are served. */
  refreshEngineInfo?: () => Promise<void>;
  /** What serve takes its media server to be (`--media-server`), for load's report (absent: not said). */
  mediaServer?: MediaServerKind;
  /** The media server's address as the relay sends to it (`host:port`), for `rtpsla doctor`'s probe. */
  echo?: string;
}

/**
 * What HTTP may cost serve, whose event loop also relays media: requests whose answer is not
 * yet written out are bounded (503 beyond), the Prometheus/JSON metrics are rendered at most
 * once per `metricsCacheMs`, and the requests that build large answers (/runs/:runId records,
 * /calls) are limited to `heavyPerSec` (a token bucket; 503 with Retry-After beyond).
 */
export interface HttpLimits {
  maxInFlight: number;
  metricsCacheMs: number;
  heavyPerSec: number;
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({maxInFlight: 16, metricsCacheMs: 1000, heavyPerSec: 20, maxConnections: 128});

interface HttpState {
  limits: HttpLimits;
  nowMs: () => number;
  inFlight: number;
  heavyTokens: number;
  heavyRefilledAtMs: number;
  metricsText: {atMs: number; body: string} | null;
  metricsJson: {atMs: number; body: string} | null;
  /** Requests answered 503 because of the limits (since start). */
  shed: number;
}

/**
 * serve's HTTP endpoint (docs/design.md, HTTP endpoint): /health, /metrics (Prometheus text, or JSON with
 * `Accept: application/json`), /calls (live calls), /runs/:runId (per-call records for load;
 * `?consume=1`, with the run's token, drops them once the run has no live call left; `?brief=1` gives only
 * {activeCalls, recorded}, cheap enough to poll while calls stream).
 */
export function createServeHttp(deps: ServeHttpDeps): Server & {httpShed: () => number} {
  const limits = {...DEFAULT_HTTP_LIMITS, ...deps.limits};
  const nowMs = deps.nowMs ?? (() => performance.now());
  const st: HttpState = {limits, nowMs, inFlight: 0, heavyTokens: limits.heavyPerSec, heavyRefilledAtMs: nowMs(), metricsText: null, metricsJson: null, shed: 0};
  const server = createServer((req, res) => {
    if (st.inFlight >= limits.maxInFlight) {
      shed(st, res, 'too many requests in flight');
      return;
    }
    st.inFlight++;
    res.once('close', () => st.inFlight--);
    try {
      route(deps, st, req, res);
    } catch (err) {
      send(res, 500, {message: err instanceof Error ? err.message : String(err)});
    }
  });
  // connections beyond this are closed as they are accepted (cheap); slow clients time out
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  return Object.assign(server, {httpShed: () => st.shed});
}

/** 503 without doing the work: a tiny constant answer, the connection closed after it. */
function shed(st: HttpState, res: ServerResponse, why: string): void {
  st.shed++;
  const text = `{"message":"serve is busy (${why}); try again"}`;
  res.writeHead(503, {'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'retry-after': '1', connection: 'close'});
  res.end(text);
}

/** Take one token of the heavy-request bucket (refilled at heavyPerSec, up to heavyPerSec). */
function takeHeavy(st: HttpState): boolean {
  const now = st.nowMs();
  const rate = st.limits.heavyPerSec;
  st.heavyTokens = Math.min(rate, st.heavyTokens + ((now - st.heavyRefilledAtMs) / 1000) * rate);
  st.heavyRefilledAtMs = now;
  if (st.heavyTokens < 1) return false;
  st.heavyTokens--;
  return true;
}

function route(deps: ServeHttpDeps, st: HttpState, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, {message: 'only GET is supported'});
    return;
  }
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (path === '/health') return health(deps, res);
  if (path === '/metrics') return metrics(deps, st, req, res);
  if (path === '/calls') {
    if (heavyLimited(st, res)) return;
    send(res, 200, {calls: deps.ledger.liveCalls()});
    return;
  }
  const m = /^\/runs\/([^/]+)$/.exec(path);
  if (m) return runs(deps, st, decodeURIComponent(m[1]), url, req, res);
  send(res, 404, {message: `no such endpoint: ${path}`});
}

function health(deps: ServeHttpDeps, res: ServerResponse): void {
  const connected = deps.ariConnected();
  const reason = deps.unhealthyReason?.() ?? null;
  const ok = connected && reason === null;
  const body: Health = {
    status: ok ? 'ok' : 'degraded',
    ari: connected ? 'connected' : 'disconnected',
    ...(reason !== null ? {reason} : {}),
    callsActive: deps.ledger.activeCalls,
    // load refuses to start when it would originate with another format or app than serve's
    format: deps.ledger.format,
    ...(deps.app !== undefined ? {app: deps.app} : {}),
    ...(deps.mediaServer !== undefined ? {mediaServer: deps.mediaServer} : {}),
    ...(deps.echo !== undefined ? {echo: deps.echo} : {}),
    ...(deps.enginePid ? {enginePid: deps.enginePid(), engineRestarts: deps.ledger.engineRestarts} : {}),
  };
  send(res, ok ? 200 : 503, body);
}

/** Prometheus text, or JSON (with the native engine's counters) on `accept: application/json`. */
function metrics(deps: ServeHttpDeps, st: HttpState, req: IncomingMessage, res: ServerResponse): void {
  // rendered at most once per metricsCacheMs, however many scrapers ask
  const json = (req.headers.accept ?? '').includes('application/json');
  const now = st.nowMs();
  const cached = json ? st.metricsJson : st.metricsText;
  const answer = (body: string) => {
    res.writeHead(200, {
      'content-type': json ? 'application/json; charset=utf-8' : 'text/plain; version=0.0.4; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  };
  if (cached && now - cached.atMs < st.limits.metricsCacheMs) return answer(cached.body);
  if (!json) {
    const snap = snapshotMetrics(deps.ledger, deps.ariConnected(), deps.eventLoop);
    st.metricsText = {atMs: now, body: renderPrometheus(metricSamples(snap), metricHistograms(snap))};
    return answer(st.metricsText.body);
  }
  const counters = deps.engineCounters ? deps.engineCounters().catch(() => null) : Promise.resolve(null);
  void counters.then((engineCounters) => {
    const snap = snapshotMetrics(deps.ledger, deps.ariConnected(), deps.eventLoop);
    st.metricsJson = {atMs: now, body: JSON.stringify({...metricsJson(snap), engineCounters})};
    answer(st.metricsJson.body);
  });
}

/** A record request over the per-second budget is shed (answered here); true then. */
function heavyLimited(st: HttpState, res: ServerResponse): boolean {
  if (takeHeavy(st)) return false;
  shed(st, res, `more than ${st.limits.heavyPerSec} record requests per second`);
  return true;
}

/** /runs/<id>: the run's progress (brief=1), or its records (consume=1: only its owner). */
function runs(deps: ServeHttpDeps, st: HttpState, runId: string, url: URL, req: IncomingMessage, res: ServerResponse): void {
  if (url.searchParams.get('brief') === '1') {
    // progress only (what load polls while calls stream): no records, no histograms
    const progress = deps.ledger.runProgress(runId);
    if (progress === undefined) send(res, 404, {message: `no calls recorded for run ${runId}`});
    else send(res, 200, progress);
    return;
  }
  const consume = url.searchParams.get('consume') === '1';
  const owner = deps.ledger.mayConsume(runId, headerValue(req.headers[RUN_TOKEN_HEADER]));
  if (consume && !owner && deps.ledger.runProgress(runId) === undefined) {
    // no call of this run ever reached serve: say so, it is not a question of the token
    send(res, 404, {message: `no call of run ${runId} reached serve`});
    return;
  }
  if (consume && !owner) {
    // only the load that owns the run (its token came with the calls' appArgs) may consume it
    send(res, 403, {message: `consume=1 needs run ${runId}'s token (header ${RUN_TOKEN_HEADER})`});
    return;
  }
  // the run's owner is never rate-limited: a flood of others' requests cannot keep load from its records
  if (!owner && heavyLimited(st, res)) return;
  void (deps.refreshEngineInfo?.() ?? Promise.resolve()).catch(() => undefined).then(() => {
    const run = deps.ledger.runRecords(runId, consume);
    if (!run) send(res, 404, {message: `no calls recorded for run ${runId}`});
    else send(res, 200, run);
  });
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text)});
  res.end(text);
}
