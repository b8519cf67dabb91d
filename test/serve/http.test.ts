import type {AddressInfo} from 'node:net';
import type {Server} from 'node:http';
import {nullLogger} from '../../src/log/logger.js';
import {LOAD_APP_ARG, RUN_TOKEN_HEADER, loadAppArgs, newRunToken, parseLoadAppArgs} from '../../src/protocol/app-args.js';
import {PortPool} from '../../src/relay/port-pool.js';
import {CallLifecycle, type AriOps} from '../../src/serve/call-lifecycle.js';
import {createServeHttp, type HttpLimits} from '../../src/serve/http.js';
import type {ServeCallRecord} from '../../src/serve/run-store.js';

const unused = () => Promise.reject(new Error('not used by these tests'));
const ari = new Proxy({}, {get: () => unused}) as unknown as AriOps;

function lifecycle(): CallLifecycle {
  return new CallLifecycle(ari, new PortPool({low: 40000, high: 40009}), {
    app: 'rtpsla', bindIp: '127.0.0.1', echo: {address: '127.0.0.1', port: 9}, format: 'ulaw', lateThresholdMs: 20, drainMs: 0, emStasisWaitMs: 10,
  }, nullLogger);
}

const record = (index: number) => ({index, runId: 'r1', channelId: `c${index}`, error: null}) as unknown as ServeCallRecord;

let server: Server | null = null;
let clock = 1_000_000;
async function serveHttp(calls: CallLifecycle, o: {limits?: Partial<HttpLimits>; unhealthy?: () => string | null} = {}): Promise<string> {
  server = createServeHttp({calls, ariConnected: () => true, unhealthyReason: o.unhealthy, limits: o.limits, nowMs: () => clock});
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  if (server) await new Promise<void>((r) => { server!.close(() => r()); server!.closeAllConnections(); });
  server = null;
});

describe('appArgs convention (one module for load and serve)', () => {
  test('round trip, and the token is optional for older callers', () => {
    const token = newRunToken();
    expect(loadAppArgs('run-1', 7, token)).toEqual([LOAD_APP_ARG, 'run-1', '7', token]);
    expect(parseLoadAppArgs(loadAppArgs('run-1', 7, token))).toEqual({runId: 'run-1', index: 7, token});
    expect(parseLoadAppArgs([LOAD_APP_ARG, 'run-1', '3'])).toEqual({runId: 'run-1', index: 3, token: null});
    expect(parseLoadAppArgs(['other', 'run-1', '3'])).toBeNull();
  });
});

describe('serve HTTP', () => {
  test('consume=1 needs the run\'s token: without it (or with another) nothing is dropped', async () => {
    const calls = lifecycle();
    const token = newRunToken();
    calls.runs.claim('r1', token);
    calls.runs.add('r1', record(0));
    const base = await serveHttp(calls);
    expect((await fetch(`${base}/runs/r1?consume=1`)).status).toBe(403);
    expect((await fetch(`${base}/runs/r1?consume=1`, {headers: {[RUN_TOKEN_HEADER]: newRunToken()}})).status).toBe(403);
    expect((await fetch(`${base}/runs/r1`)).status).toBe(200); // still there
    const own = await fetch(`${base}/runs/r1?consume=1`, {headers: {[RUN_TOKEN_HEADER]: token}});
    expect(own.status).toBe(200);
    expect(((await own.json()) as {calls: unknown[]}).calls).toHaveLength(1);
    expect((await fetch(`${base}/runs/r1`)).status).toBe(404); // consumed by its owner
  });

  test('a run without a token cannot be consumed at all', async () => {
    const calls = lifecycle();
    calls.runs.add('r1', record(0));
    const base = await serveHttp(calls);
    expect((await fetch(`${base}/runs/r1?consume=1`, {headers: {[RUN_TOKEN_HEADER]: ''}})).status).toBe(403);
    expect((await fetch(`${base}/runs/r1`)).status).toBe(200);
  });

  test('/metrics is rendered at most once per second, however many scrapes', async () => {
    const calls = lifecycle();
    const base = await serveHttp(calls);
    const started = async () => /rtpsla_calls_started_total (\d+)/.exec(await (await fetch(`${base}/metrics`)).text())?.[1];
    expect(await started()).toBe('0');
    calls.callsStarted = 5;
    clock += 999;
    expect(await started()).toBe('0'); // the cached render
    clock += 1;
    expect(await started()).toBe('5');
  });

  test('record requests beyond the rate answer 503 with Retry-After, but never the run\'s owner', async () => {
    const calls = lifecycle();
    const token = newRunToken();
    calls.runs.claim('r1', token);
    calls.runs.add('r1', record(0));
    const base = await serveHttp(calls, {limits: {heavyPerSec: 2}});
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${base}/runs/r1`)).status);
    expect(statuses).toEqual([200, 200, 503, 503]);
    const shed = await fetch(`${base}/calls`);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('1');
    expect((await fetch(`${base}/runs/r1?consume=1`, {headers: {[RUN_TOKEN_HEADER]: token}})).status).toBe(200);
    expect((await fetch(`${base}/runs/r1?brief=1`)).status).toBe(404); // brief is cheap and never limited
    clock += 1000;
    expect((await fetch(`${base}/calls`)).status).toBe(200);
  });

  test('/health is 503 with the reason when serve lost its app (ApplicationReplaced)', async () => {
    let reason: string | null = null;
    const base = await serveHttp(lifecycle(), {unhealthy: () => reason});
    expect((await fetch(`${base}/health`)).status).toBe(200);
    reason = 'ApplicationReplaced: another client registered app rtpsla';
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({status: 'degraded', ari: 'connected', reason});
  });
});
