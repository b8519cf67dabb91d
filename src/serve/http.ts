import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {IntervalHistogram} from 'node:perf_hooks';
import {renderPrometheus} from '../metrics/prometheus.js';
import type {CallLifecycle} from './call-lifecycle.js';
import {metricHistograms, metricSamples, metricsJson, snapshotMetrics} from './metrics.js';

export interface ServeHttpDeps {
  calls: CallLifecycle;
  ariConnected: () => boolean;
  /** serve's event-loop delay (perf_hooks), reported in /metrics. */
  eventLoop?: IntervalHistogram;
}

/**
 * serve's HTTP endpoint (SPEC §8): /health, /metrics (Prometheus text, or JSON with
 * `Accept: application/json`), /calls (live calls), /runs/:runId (per-call records for load;
 * `?consume=1` drops them once the run has no live call left; `?brief=1` gives only
 * {activeCalls, recorded}, cheap enough to poll while calls stream).
 */
export function createServeHttp(deps: ServeHttpDeps): Server {
  return createServer((req, res) => {
    try {
      route(deps, req, res);
    } catch (err) {
      send(res, 500, {message: err instanceof Error ? err.message : String(err)});
    }
  });
}

function route(deps: ServeHttpDeps, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, {message: 'only GET is supported'});
    return;
  }
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (path === '/health') {
    const connected = deps.ariConnected();
    send(res, connected ? 200 : 503, {
      status: connected ? 'ok' : 'degraded',
      ari: connected ? 'connected' : 'disconnected',
      callsActive: deps.calls.calls.size,
      // load refuses to start when it would originate with another format (issue 12)
      format: deps.calls.format,
    });
    return;
  }
  if (path === '/metrics') {
    const snap = snapshotMetrics(deps.calls, deps.ariConnected(), deps.eventLoop);
    if ((req.headers.accept ?? '').includes('application/json')) {
      send(res, 200, metricsJson(snap));
      return;
    }
    const text = renderPrometheus(metricSamples(snap), metricHistograms(snap));
    res.writeHead(200, {'content-type': 'text/plain; version=0.0.4; charset=utf-8'});
    res.end(text);
    return;
  }
  if (path === '/calls') {
    send(res, 200, {calls: deps.calls.liveCalls()});
    return;
  }
  const m = /^\/runs\/([^/]+)$/.exec(path);
  if (m) {
    const runId = decodeURIComponent(m[1]);
    const active = deps.calls.activeCallsOfRun(runId);
    if (url.searchParams.get('brief') === '1') {
      // progress only (what load polls while calls stream): no records, no histograms
      const recorded = deps.calls.runs.recordedCount(runId);
      if (recorded === undefined) send(res, 404, {message: `no calls recorded for run ${runId}`});
      else send(res, 200, {runId, activeCalls: active, recorded});
      return;
    }
    const run = deps.calls.runs.get(runId, active, url.searchParams.get('consume') === '1');
    if (!run) send(res, 404, {message: `no calls recorded for run ${runId}`});
    else send(res, 200, {...run, engine: deps.calls.engine});
    return;
  }
  send(res, 404, {message: `no such endpoint: ${path}`});
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text)});
  res.end(text);
}
