import type {AddressInfo} from 'node:net';
import type {Server} from 'node:http';
import {LOAD_APP_ARG, RUN_TOKEN_HEADER, loadAppArgs, newRunToken, parseLoadAppArgs} from '../../src/protocol/app-args.js';
import {callRecordFrom} from '../../src/metrics/call-record-from.js';
import {EngineCountersSchema, HealthSchema, LiveCallsSchema, RunRecordsSchema, type EngineCounters} from '../../src/protocol/serve-api.js';
import {PortPool} from '../../src/media/relay/port-pool.js';
import {createServeHttp, type HttpLimits} from '../../src/serve/http.js';
import {ServeLedger, type LedgerCall} from '../../src/serve/ledger.js';

function lifecycle(): ServeLedger {
  return new ServeLedger({engine: 'node', format: 'ulaw', pool: new PortPool({low: 40000, high: 40009})});
}

const entry = (index: number): LedgerCall => ({
  callerId: `c${index}`, emId: `em${index}`, bridgeId: `b${index}`, runId: 'r1', index, state: 'setup', startedAt: new Date(), setupMs: null, port: null, meter: null,
});

/** Call `index` of run r1 (its appArgs carrying `token`) enters and ends with a record. */
function recordCall(ledger: ServeLedger, index: number, token: string | null): void {
  const c = entry(index);
  ledger.callStarted(c, token);
  const at = new Date();
  ledger.callEnded(c, null, callRecordFrom(null, {
    index, runId: 'r1', channelId: c.callerId, externalMediaChannelId: c.emId, bridgeId: c.bridgeId, port: null,
    startedAt: at, endedAt: at, tStartUs: 0, tEndUs: 0, setupMs: null, endReason: 'caller left Stasis', error: null,
  }));
}

let server: Server | null = null;
let clock = 1_000_000;
async function serveHttp(
  calls: ServeLedger,
  o: {limits?: Partial<HttpLimits>; unhealthy?: () => string | null; engineCounters?: () => Promise<EngineCounters | null>} = {},
): Promise<string> {
  server = createServeHttp({ledger: calls, ariConnected: () => true, unhealthyReason: o.unhealthy, limits: o.limits, nowMs: () => clock, engineCounters: o.engineCounters});
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
    recordCall(calls, 0, token);
    const base = await serveHttp(calls);
    expect((await fetch(`${base}/runs/r1?consume=1`)).status).toBe(403);
    expect((await fetch(`${base}/runs/r1?consume=1`, {headers: {[RUN_TOKEN_HEADER]: newRunToken()}})).status).toBe(403);
    const kept = await fetch(`${base}/runs/r1`);
    expect(kept.status).toBe(200); // still there, in the shape load reads
    expect(RunRecordsSchema.parse(await kept.json())).toMatchObject({runId: 'r1', activeCalls: 0, engine: 'node', calls: [{index: 0, channelId: 'c0', externalMediaChannelId: 'em0'}]});
    const own = await fetch(`${base}/runs/r1?consume=1`, {headers: {[RUN_TOKEN_HEADER]: token}});
    expect(own.status).toBe(200);
    expect(((await own.json()) as {calls: unknown[]}).calls).toHaveLength(1);
    expect((await fetch(`${base}/runs/r1`)).status).toBe(404); // consumed by its owner
  });

  test('a run without a token cannot be consumed at all', async () => {
    const calls = lifecycle();
    recordCall(calls, 0, null);
    const base = await serveHttp(calls);
    expect((await fetch(`${base}/runs/r1?consume=1`, {headers: {[RUN_TOKEN_HEADER]: ''}})).status).toBe(403);
    expect((await fetch(`${base}/runs/r1`)).status).toBe(200);
  });

  test('/metrics is rendered at most once per second, however many scrapes', async () => {
    const calls = lifecycle();
    const base = await serveHttp(calls);
    const started = async () => /rtpsla_calls_started_total (\d+)/.exec(await (await fetch(`${base}/metrics`)).text())?.[1];
    expect(await started()).toBe('0');
    for (let i = 1; i <= 5; i++) calls.callStarted(entry(i), null);
    clock += 999;
    expect(await started()).toBe('0'); // the cached render
    clock += 1;
    expect(await started()).toBe('5');
  });

  test('JSON /metrics carries the engine\'s counters, read once per render; null without a native engine or when it does not answer', async () => {
    const json = async (base: string) => (await (await fetch(`${base}/metrics`, {headers: {accept: 'application/json'}})).json()) as {engineCounters: unknown; callsStarted: number};
    let reads = 0;
    const base = await serveHttp(lifecycle(), {
      engineCounters: async () => ({forwardedDatagrams: 1000 + ++reads, engineCpuUs: 5000, serveCpuUs: 700}),
    });
    expect(EngineCountersSchema.parse((await json(base)).engineCounters)).toEqual({forwardedDatagrams: 1001, engineCpuUs: 5000, serveCpuUs: 700});
    expect((await json(base)).engineCounters).toEqual({forwardedDatagrams: 1001, engineCpuUs: 5000, serveCpuUs: 700}); // the cached render
    clock += 1000;
    expect((await json(base)).engineCounters).toMatchObject({forwardedDatagrams: 1002});
    expect(reads).toBe(2);
    // the Prometheus text does not wait for the engine
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^rtpsla_calls_started_total 0$/m);
    expect(reads).toBe(2);
    server!.close();
    server!.closeAllConnections();

    const withoutEngine = await serveHttp(lifecycle());
    expect((await json(withoutEngine)).engineCounters).toBeNull();
    server!.close();
    server!.closeAllConnections();

    const gone = await serveHttp(lifecycle(), {engineCounters: () => Promise.reject(new Error('engine exited'))});
    const body = await json(gone);
    expect(body.engineCounters).toBeNull();
    expect(body.callsStarted).toBe(0);
  });

  test('record requests beyond the rate answer 503 with Retry-After, but never the run\'s owner', async () => {
    const calls = lifecycle();
    const token = newRunToken();
    recordCall(calls, 0, token);
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
    expect(HealthSchema.parse(await res.json())).toMatchObject({status: 'degraded', ari: 'connected', reason, format: 'ulaw'});
  });

  test('/calls lists the live calls in the shape load reads', async () => {
    const calls = lifecycle();
    calls.callStarted(entry(3), null);
    const base = await serveHttp(calls);
    const body = LiveCallsSchema.parse(await (await fetch(`${base}/calls`)).json());
    expect(body.calls).toEqual([expect.objectContaining({callId: 'c3', runId: 'r1', index: 3, state: 'setup', port: null, packetsUp: 0})]);
  });
});
