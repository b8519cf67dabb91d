/**
 * How AriRest opens its connections to ARI: at most one the server has not answered on yet.
 *
 * Why: a server whose HTTP side is one Node event loop (the sim) accepts one new connection per
 * loop turn and reads its first request in the next turn (libuv 1.45 and later, so Node 20); a
 * loaded one's turns are long. At the teardown of 600 calls the sim's turns took about a second
 * (its Node thread waiting for CPU behind the media engines), and load's agent opened 16
 * connections at once (it had closed 16 idle ones after the originates, maxFreeSockets 16 of
 * maxSockets 32): the DELETEs on the 12th to 16th of them waited more than 10 s to be read at all
 * ("no answer within 10000 ms"), while the sim answered the DELETEs on the connections already
 * open within a turn, and each of the late ones within 1 ms of reading it. Opening one connection
 * at a time, each once the ones before it have been answered on, keeps at most one of ours in the
 * server's accept queue; the other requests wait for a connection that is answered (here, where
 * no request timeout runs yet). With a server that accepts at once the pool grows by one
 * connection per round trip.
 *
 * A connection that fails before any answer (refused, timed out) suspends the pacing until the
 * next answer: requests to a server that is down or unreachable fail side by side, not one
 * connection timeout after another.
 */
import type {Agent} from 'node:http';
import type {Socket} from 'node:net';

interface Waiter {
  go: () => void;
  fail: (err: Error) => void;
}

export class ConnectionPacing {
  /** Sockets that have carried an answer (a response of any status). */
  private readonly answered = new WeakSet<Socket>();
  /** …and are still open. */
  private answeredOpen = 0;
  /** Requests sent (given to the agent) and not over yet. */
  private inFlight = 0;
  private readonly waiting: Waiter[] = [];
  /** A connection failed before any answer: no pacing until the next answer. */
  private unpaced = false;

  /** `agent` is the one every request goes through; `max` the most connections it may open. */
  constructor(
    private readonly agent: Agent,
    private readonly max: number,
  ) {
    this.apply();
  }

  /** Requests that may be on the wire now: one per answered connection, and one more. */
  private get capacity(): number {
    return this.unpaced ? this.max : Math.min(this.max, this.answeredOpen + 1);
  }

  /** The agent opens a new connection only while fewer than `capacity` are open. */
  private apply(): void {
    this.agent.maxSockets = this.capacity;
  }

  /** Requests waiting for their turn to be sent. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves when a request may be sent; it must call `done()` once it is over. */
  acquire(): Promise<void> {
    if (this.waiting.length === 0 && this.inFlight < this.capacity) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise<void>((go, fail) => this.waiting.push({go, fail}));
  }

  /** A response arrived on `socket`: it is a connection the server serves. */
  answeredOn(socket: Socket): void {
    this.unpaced = false;
    if (!this.answered.has(socket)) {
      this.answered.add(socket);
      this.answeredOpen++;
      socket.once('close', () => {
        this.answeredOpen--;
        this.apply();
      });
    }
    this.apply();
    this.pump();
  }

  /** The request is over: answered, failed or timed out (`socket`: the one it had, if any). */
  done(failedSocket?: Socket): void {
    this.inFlight--;
    if (failedSocket !== undefined && !this.answered.has(failedSocket)) {
      this.unpaced = true;
      this.apply();
    }
    this.pump();
  }

  /** Requests still waiting fail with `err` (the client is closing). */
  abortWaiting(err: Error): void {
    for (const w of this.waiting.splice(0)) w.fail(err);
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.inFlight < this.capacity) {
      this.inFlight++;
      this.waiting.shift()!.go();
    }
  }
}
