/**
 * How AriRest opens its connections (src/ari/pacing.ts), against a real HTTP server on 127.0.0.1
 * that counts connections and answers when the test says so. No clock: the assertions count
 * connections and requests.
 *
 * The bug: at a 600-call teardown load's agent opened 16 connections at once to the sim, which
 * accepts one per event-loop turn; the DELETEs on the last of them were read after more than 10 s
 * ("no answer within 10000 ms"), while those on connections already open were answered.
 */
import http from 'node:http';
import type {Socket} from 'node:net';
import {afterEach, describe, expect, it} from '@jest/globals';
import {AriRest} from '../../src/ari/rest.js';

interface Held {
  socket: Socket;
  answer: () => void;
}

/** Counts connections and requests; `hold(req, socket)` decides whether a request waits for `release`. */
class TestServer {
  readonly server: http.Server;
  connections = 0;
  closes = 0;
  requests = 0;
  /** Requests on each connection so far. */
  readonly perSocket = new Map<Socket, number>();
  readonly held: Held[] = [];
  hold: (socket: Socket) => boolean = () => false;
  private waiters: Array<{n: number; resolve: () => void}> = [];

  constructor() {
    this.server = http.createServer((req, res) => {
      req.resume();
      const socket = req.socket;
      this.requests++;
      this.perSocket.set(socket, (this.perSocket.get(socket) ?? 0) + 1);
      const answer = (): void => {
        res.writeHead(200, {'content-type': 'application/json'});
        res.end('{}');
      };
      if (this.hold(socket)) this.held.push({socket, answer});
      else answer();
      this.waiters = this.waiters.filter((w) => (this.requests >= w.n ? (w.resolve(), false) : true));
    });
    this.server.on('connection', (s: Socket) => {
      this.connections++;
      s.on('close', () => this.closes++);
    });
  }

  listen(): Promise<string> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(this.server.address() as {port: number}).port}`)));
  }

  /** Resolves once `n` requests have arrived in all. */
  requestsSeen(n: number): Promise<void> {
    if (this.requests >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({n, resolve}));
  }

  releaseAll(): void {
    for (const h of this.held.splice(0)) h.answer();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Let the event loop go round `n` times (the server accepts one connection a turn). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe('AriRest connections', () => {
  let srv: TestServer;
  let rest: AriRest | undefined;

  afterEach(async () => {
    rest?.close();
    rest = undefined;
    await srv.close();
  });

  it('opens one connection at a time: while the first is unanswered the other requests wait, then the pool grows', async () => {
    srv = new TestServer();
    const url = await srv.listen();
    rest = new AriRest({url, user: 'u', pass: 'p', maxSockets: 8});
    srv.hold = () => srv.requests === 1; // the first answer waits for the test
    const all = Promise.all(Array.from({length: 6}, () => rest!.info()));
    await srv.requestsSeen(1);
    await turns(20);
    // before: 6 connections at once, each request on its own
    expect(srv.connections).toBe(1);
    expect(srv.requests).toBe(1);
    srv.releaseAll();
    await all;
    expect(srv.requests).toBe(6);
    expect(srv.connections).toBeLessThanOrEqual(6);
  });

  it('keeps every connection it opened: a second burst opens none', async () => {
    srv = new TestServer();
    const url = await srv.listen();
    rest = new AriRest({url, user: 'u', pass: 'p', maxSockets: 20});
    // each connection's first request is answered at once (it is served), later ones wait: a
    // request that finds every connection busy opens a new one, until there are 20
    srv.hold = (socket) => (srv.perSocket.get(socket) ?? 0) > 1;
    const first: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40; i++) {
      first.push(rest.info());
      await srv.requestsSeen(i + 1);
    }
    expect(srv.connections).toBe(20);
    expect(srv.held).toHaveLength(20);
    srv.releaseAll(); // all 20 are idle at once (the agent used to keep 16 of them)
    await Promise.all(first);
    await turns(20);
    expect(srv.closes).toBe(0);
    srv.hold = () => false;
    await Promise.all(Array.from({length: 20}, () => rest!.info()));
    expect(srv.connections).toBe(20);
  });

  it('a connection that is never answered does not make the others wait for its timeout', async () => {
    srv = new TestServer();
    const url = await srv.listen();
    rest = new AriRest({url, user: 'u', pass: 'p', maxSockets: 8, requestTimeoutMs: 300});
    srv.hold = () => true; // nothing is ever answered
    const results = Promise.allSettled(Array.from({length: 5}, () => rest!.info()));
    // the first request's connection times out unanswered: the 4 others then go out side by side
    await srv.requestsSeen(5);
    expect(srv.connections).toBe(5);
    const settled = await results;
    expect(settled.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
    expect(String((settled[0] as PromiseRejectedResult).reason)).toMatch(/no answer within 300 ms/);
  });

  it('requests waiting for a connection fail when the client is closed', async () => {
    srv = new TestServer();
    const url = await srv.listen();
    rest = new AriRest({url, user: 'u', pass: 'p', maxSockets: 8});
    srv.hold = () => true;
    const results = Promise.allSettled(Array.from({length: 3}, () => rest!.info()));
    await srv.requestsSeen(1);
    rest.close();
    const settled = await results;
    expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(settled.map((r) => (r as PromiseRejectedResult).reason)).toEqual(Array(3).fill(expect.objectContaining({status: 0})));
  });
});
