/**
 * Dead-peer detection: an events WebSocket whose peer stops answering pings (a half-open TCP
 * connection looks exactly like this) is dropped and reconnected. The peer here is a small
 * proxy in front of the real sim whose own WebSocket endpoint never answers pings.
 */
import http from 'node:http';
import {WebSocketServer} from 'ws';
import {AriConnection} from '../../src/ari/index.js';
import {SIM_PASS, SIM_USER, nextEvent, startTestSim, type TestSim} from './sim-harness.js';

describe('ping supervision', () => {
  let sim: TestSim;
  let proxy: http.Server;
  let proxyUrl: string;
  let upgrades = 0;
  let conn: AriConnection | undefined;

  beforeAll(async () => {
    sim = await startTestSim();
    const wss = new WebSocketServer({noServer: true, autoPong: false});
    proxy = http.createServer((req, res) => {
      void (async () => {
        const upstream = await fetch(sim.url + (req.url ?? '/'), {method: req.method, headers: {authorization: req.headers.authorization ?? ''}});
        // api-docs name their basePath: point ari-client back at the proxy
        const body = (await upstream.text()).split(sim.url).join(proxyUrl);
        res.writeHead(upstream.status, {'content-type': upstream.headers.get('content-type') ?? 'application/json'});
        res.end(body);
      })();
    });
    proxy.on('upgrade', (req, socket, head) => {
      upgrades++;
      wss.handleUpgrade(req, socket, head, () => undefined);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as {port: number}).port}`;
  });

  afterAll(async () => {
    await conn?.close();
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
    await sim.close();
  });

  it('drops a socket that answers no ping within one period and reconnects', async () => {
    conn = new AriConnection({url: proxyUrl, user: SIM_USER, pass: SIM_PASS, app: 'rtpsla-ping', pingIntervalMs: 100, reconnect: {initialMs: 20, maxMs: 50}});
    await conn.connect();
    expect(upgrades).toBe(1);
    const [down] = await nextEvent(conn, 'disconnected', () => true, 5000);
    expect(down.reason).toBe('no pong within 100 ms');
    await nextEvent(conn, 'reconnected', () => true, 5000);
    expect(upgrades).toBe(2);
  });
});
