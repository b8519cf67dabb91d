import {createSocket} from 'node:dgram';
import {CallRecordSchema} from '../../src/protocol/report.js';
import {EngineCountersSchema} from '../../src/protocol/serve-api.js';
import {CliProcess, sleep} from '../helpers/cli.js';
import {ensureEngineBuilt} from '../helpers/engine.js';
import {rtpPacket} from '../helpers/rtp.js';
import {ARI_PASS, getJson, liveCalls, runOf, simFault, simStats, startEchoProc, startServeProc, startSim, startStack, until, type Stack} from '../helpers/stack.js';

const ENDPOINT = 'Local/s@rtpsla-source/n';

async function originate(stack: Stack, runId: string, index: number) {
  return stack.ari.originate({endpoint: ENDPOINT, app: 'rtpsla', appArgs: ['rtpsla-load', runId, String(index)], formats: 'ulaw', channelId: `${runId}-${index}`});
}

async function runRecords(stack: Stack, runId: string, expected: number) {
  const r = await until(async () => {
    const {status, body} = await runOf(stack.serveUrl, runId);
    return status === 200 && body.activeCalls === 0 && body.calls.length >= expected ? body : null;
  }, 15_000);
  if (!r) throw new Error(`serve did not record ${expected} calls of ${runId}`);
  return r;
}

async function emptyAsterisk(stack: Stack): Promise<boolean> {
  const ok = await until(async () => (await stack.ari.listChannels()).length === 0 && (await stack.ari.listBridges()).length === 0, 8000);
  return ok;
}

// Both engines forward and measure the same calls (the native one is built if missing).
describe.each(['native', 'node'] as const)('serve end to end with the %s engine: sim → serve → echo (real processes)', (engine) => {
  let stack: Stack;
  beforeAll(async () => {
    if (engine === 'native') ensureEngineBuilt();
    stack = await startStack({serveArgs: ['--engine', engine]});
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('one call: media flows both ways, figures agree with the sim, teardown leaves nothing', async () => {
    await originate(stack, 'one', 0);
    await until(async () => (await liveCalls(stack.serveUrl)).some((c) => c.state === 'up'), 5000);
    await sleep(2000);
    await stack.ari.hangup('one-0');
    const run = await runRecords(stack, 'one', 1);
    const rec = run.calls[0];
    expect(rec.error).toBeNull();
    expect(rec.packetsUp).toBeGreaterThan(60); // ≈ 50 pps for ~2 s
    expect(rec.packetsBack).toBeGreaterThan(60);
    expect(rec.packetsUp).toBe(rec.packetsBack + rec.lost);
    expect(rec.lost).toBe(0);
    expect(rec.rttMs?.p50).toBeGreaterThan(0);
    expect(rec.setupMs).toBeGreaterThan(0);
    expect(CallRecordSchema.safeParse(rec).success).toBe(true);
    expect((run as {engine?: string}).engine).toBe(engine);
    // the sim counted what it sent on that externalMedia channel and what came back to it
    const stats = await simStats(stack.simUrl);
    const ch = (stats.channels ?? []).find((c) => c.id === rec.externalMediaChannelId);
    if (!ch) throw new Error('the sim has no stats for the call\'s externalMedia channel');
    // a packet the sim sent in the instant of the hangup may reach a relay that has stopped forwarding
    expect(ch.packetsSent - rec.packetsUp).toBeGreaterThanOrEqual(0);
    expect(ch.packetsSent - rec.packetsUp).toBeLessThanOrEqual(1);
    expect(ch.packetsReceived).toBeGreaterThanOrEqual(rec.packetsBack - 2); // the last ones may arrive after hangup
    expect(ch.packetsReceived).toBeLessThanOrEqual(rec.packetsBack);
    expect(await emptyAsterisk(stack)).toBe(true);
    const metrics = await getJson<{portsHeld: number}>(`${stack.serveUrl}/metrics`);
    expect(metrics.body.portsHeld).toBe(0);
  });

  test('30 concurrent calls are all measured; /runs returns 30 records with the report fields', async () => {
    await Promise.all(Array.from({length: 30}, (_, i) => originate(stack, 'thirty', i)));
    await until(async () => (await liveCalls(stack.serveUrl)).filter((c) => c.state === 'up').length === 30, 10_000);
    await sleep(1500);
    await Promise.all(Array.from({length: 30}, (_, i) => stack.ari.hangup(`thirty-${i}`)));
    const run = await runRecords(stack, 'thirty', 30);
    expect(run.calls).toHaveLength(30);
    expect(run.calls.map((c) => c.index)).toEqual(Array.from({length: 30}, (_, i) => i));
    for (const c of run.calls) {
      expect(CallRecordSchema.safeParse(c).success).toBe(true);
      expect(c.error).toBeNull();
      expect(c.packetsBack).toBeGreaterThan(0);
    }
    expect(new Set(run.calls.map((c) => c.port)).size).toBe(30);
    expect(typeof run.histograms?.rttUs).toBe('string');
    expect(await emptyAsterisk(stack)).toBe(true);
  });

  test('foreign packets to a relay port are counted and not forwarded; the call figures are unaffected', async () => {
    await originate(stack, 'foreign', 0);
    const live = await until(async () => (await liveCalls(stack.serveUrl)).find((c) => c.runId === 'foreign' && c.state === 'up'), 5000);
    if (!live || live.port === null) throw new Error('the call did not come up with a relay port');
    const relayPort = live.port;
    const stranger = createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', () => r()));
    const echoed: Buffer[] = [];
    stranger.on('message', (m) => echoed.push(m));
    for (let i = 0; i < 25; i++) {
      await new Promise<void>((r) => stranger.send(rtpPacket({seq: i, ts: i * 160, ssrc: 0xbad}), relayPort, '127.0.0.1', () => r()));
      await new Promise<void>((r) => stranger.send(Buffer.from('garbage'), relayPort, '127.0.0.1', () => r()));
    }
    await sleep(1000);
    await stack.ari.hangup('foreign-0');
    const rec = (await runRecords(stack, 'foreign', 1)).calls[0];
    stranger.close();
    expect(rec.foreign).toBe(50);
    expect(echoed).toHaveLength(0);
    expect(rec.unmatchedBack).toBe(0);
    expect(rec.lost).toBe(0);
    expect(rec.packetsUp).toBe(rec.packetsBack);
  });

  test('externalMedia answering 500 → that call torn down and recorded with its error; the next call is fine', async () => {
    await simFault(stack.simUrl, {fail: {operation: 'externalMedia', status: 500, count: 1}});
    await originate(stack, 'fail500', 0);
    const first = await runRecords(stack, 'fail500', 1);
    expect(first.calls[0].error).toMatch(/500/);
    expect(await emptyAsterisk(stack)).toBe(true);
    await originate(stack, 'fail500', 1);
    await sleep(1500);
    await stack.ari.hangup('fail500-1');
    const both = await runRecords(stack, 'fail500', 2);
    expect(both.calls[1].error).toBeNull();
    expect(both.calls[1].packetsBack).toBeGreaterThan(0);
    const m = await getJson<{portsHeld: number}>(`${stack.serveUrl}/metrics`);
    expect(m.body.portsHeld).toBe(0);
  });

  test('422 "Channel not in Stasis application" on addChannel is retried, and the call is measured', async () => {
    await simFault(stack.simUrl, {fail: {operation: 'addChannel', status: 422, count: 3}});
    await originate(stack, 'race422', 0);
    const up = await until(async () => (await liveCalls(stack.serveUrl)).some((c) => c.runId === 'race422' && c.state === 'up'), 8000);
    expect(up).toBe(true);
    await sleep(1200);
    await stack.ari.hangup('race422-0');
    const rec = (await runRecords(stack, 'race422', 1)).calls[0];
    expect(rec.error).toBeNull();
    expect(rec.packetsBack).toBeGreaterThan(0);
    const m = await getJson<{addChannelRetries422: number}>(`${stack.serveUrl}/metrics`);
    expect(m.body.addChannelRetries422).toBeGreaterThanOrEqual(3);
    expect(await emptyAsterisk(stack)).toBe(true);
  });

  test('WebSocket dropped mid-run: /health goes 503 then 200, calls continue, no bridge leaks', async () => {
    await Promise.all([0, 1, 2].map((i) => originate(stack, 'wsdrop', i)));
    await until(async () => (await liveCalls(stack.serveUrl)).filter((c) => c.runId === 'wsdrop' && c.state === 'up').length === 3, 5000);
    await simFault(stack.simUrl, {dropWebSocket: true});
    const healthy = await until(async () => (await getJson(`${stack.serveUrl}/health`)).status === 200, 10_000);
    expect(healthy).toBe(true);
    // hang up after the reconnect: events flow again and teardown completes
    await Promise.all([0, 1, 2].map((i) => stack.ari.hangup(`wsdrop-${i}`)));
    const run = await runRecords(stack, 'wsdrop', 3);
    expect(run.calls).toHaveLength(3);
    expect(await emptyAsterisk(stack)).toBe(true);
  });

  test('/metrics speaks Prometheus text by default', async () => {
    const res = await fetch(`${stack.serveUrl}/metrics`);
    const text = await res.text();
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(text).toMatch(/^# TYPE rtpsla_calls_started_total counter$/m);
    expect(text).toMatch(/^rtpsla_rtt_seconds_bucket\{le="\+Inf"\} \d+$/m);
    expect(text).toMatch(/^rtpsla_ari_connected 1$/m);
    expect(text).toContain(`rtpsla_engine_info{engine="${engine}"} 1`);
    const json = await getJson<{engine: string; engineCounters: unknown}>(`${stack.serveUrl}/metrics`);
    expect(json.body.engine).toBe(engine);
    // the native engine's own counters (it has forwarded the earlier tests' packets); none from the Node engine
    if (engine === 'native') expect(EngineCountersSchema.parse(json.body.engineCounters).forwardedDatagrams).toBeGreaterThan(0);
    else expect(json.body.engineCounters).toBeNull();
  });
});

describe('serve port pool, reconciliation and shutdown (real processes)', () => {
  test('2 relay ports, 3 simultaneous calls: the third is rejected cleanly; a port held by another process is skipped', async () => {
    ensureEngineBuilt();
    const blocker = createSocket('udp4');
    // a port another process holds: if 31000 is taken already, say so instead of waiting forever
    await new Promise<void>((resolve, reject) => {
      blocker.once('error', reject);
      blocker.bind(31000, '127.0.0.1', () => resolve());
    });
    // the native engine reports the held port as EADDRINUSE and the pool skips it
    const stack = await startStack({serveArgs: ['--port-range', '31000-31002', '--engine', 'native']});
    try {
      await Promise.all([0, 1].map((i) => originate(stack, 'pool', i)));
      await until(async () => (await liveCalls(stack.serveUrl)).filter((c) => c.state === 'up').length === 2, 5000);
      await originate(stack, 'pool', 2);
      await sleep(1500);
      await Promise.all([0, 1, 2].map((i) => stack.ari.hangup(`pool-${i}`)));
      const run = await runRecords(stack, 'pool', 3);
      const [a, b, c] = run.calls;
      expect(a.error).toBeNull();
      expect(b.error).toBeNull();
      expect(a.packetsBack).toBeGreaterThan(0);
      expect(b.packetsBack).toBeGreaterThan(0);
      expect(new Set([a.port, b.port])).toEqual(new Set([31001, 31002]));
      expect(c.error).toMatch(/no free relay port/);
      expect(c.port).toBeNull();
      const m = await getJson<{portExhaustions: number; portBindFailures: number}>(`${stack.serveUrl}/metrics`);
      expect(m.body.portExhaustions).toBe(1);
      expect(m.body.portBindFailures).toBeGreaterThanOrEqual(1);
      expect(await emptyAsterisk(stack)).toBe(true);
    } finally {
      blocker.close();
      await stack.stop();
    }
  });

  test('a leaked bridge and externalMedia channel from before serve started are removed at start-up', async () => {
    const stack = await startStack({withServe: false});
    try {
      await stack.ari.createBridge({type: 'mixing', name: 'rtpsla-rtpsla-ghostcall'});
      await stack.ari.externalMedia({app: 'rtpsla', externalHost: '127.0.0.1:30555', format: 'ulaw'});
      await stack.ari.createBridge({type: 'mixing', name: 'somebody-elses-bridge'});
      expect(await stack.ari.listBridges()).toHaveLength(2);
      const {serve} = await startServeProc(stack.simUrl, stack.echoPort);
      stack.serve = serve;
      const cleaned = await until(async () => (await stack.ari.listChannels()).length === 0 && (await stack.ari.listBridges()).length === 1, 5000);
      expect(cleaned).toBe(true);
      expect((await stack.ari.listBridges())[0].name).toBe('somebody-elses-bridge');
    } finally {
      await stack.stop();
    }
  });

  test('SIGTERM with 10 live calls → every channel and bridge gone, exit 0', async () => {
    const stack = await startStack();
    try {
      await Promise.all(Array.from({length: 10}, (_, i) => originate(stack, 'term', i)));
      await until(async () => (await liveCalls(stack.serveUrl)).filter((c) => c.state === 'up').length === 10, 8000);
      const exit = await stack.serve!.stop('SIGTERM');
      expect(exit.code).toBe(0);
      expect(await stack.ari.listChannels()).toEqual([]);
      expect(await stack.ari.listBridges()).toEqual([]);
      expect(stack.serve!.stderr).not.toContain(ARI_PASS);
    } finally {
      await stack.stop();
    }
  });

  test('wrong ARI password → one clear line, exit 2, nothing on stdout', async () => {
    const {sim, simUrl} = await startSim();
    const {echo, echoPort} = await startEchoProc();
    try {
      const serve = new CliProcess(['serve', '--metrics-port', '0', '--echo-port', String(echoPort)], {ARI_URL: simUrl, ARI_USER: 'rtpsla', ARI_PASS: 'wrong-password'});
      const r = await serve.exited();
      expect(r.code).toBe(2);
      expect(serve.stdout).toBe('');
      expect(serve.stderr).toMatch(/rejected the credentials/);
      expect(serve.stderr).not.toContain('wrong-password');
      expect(serve.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await echo.stop();
      await sim.stop();
    }
  });

  test.each([
    [['--port-range', '50000-40000'], /--port-range.*inverted/],
    [['--port-range', 'lots'], /--port-range.*not a port range/],
    [['--ari-url', '127.0.0.1:8088'], /--ari-url.*scheme/],
    [['--engine', 'rust'], /--engine\/RTPSLA_ENGINE: "rust" is not one of auto, native, node/],
  ])('bad configuration %p is rejected before anything starts (exit 2)', async (args, re) => {
    const p = new CliProcess(['serve', ...args], {ARI_USER: 'u', ARI_PASS: 'p'});
    const r = await p.exited();
    expect(r.code).toBe(2);
    expect(p.stderr).toMatch(re);
  });

  test('missing credentials are a configuration error', async () => {
    const p = new CliProcess(['serve'], {ARI_USER: '', ARI_PASS: ''});
    const r = await p.exited();
    expect(r.code).toBe(2);
    expect(p.stderr).toMatch(/--ari-user\/ARI_USER is required/);
  });
});
