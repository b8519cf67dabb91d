import {createSocket, type Socket} from 'node:dgram';

/** One echoed datagram as the test client saw it. */
export interface Received {
  /** performance.now() at arrival, ms. */
  tMs: number;
  buf: Buffer;
}

/** A UDP client on 127.0.0.1 that records every datagram it gets back, with arrival times. */
export class EchoClient {
  readonly received: Received[] = [];
  private constructor(private readonly socket: Socket) {
    socket.on('message', (buf: Buffer) => this.received.push({tMs: performance.now(), buf}));
  }

  static open(): Promise<EchoClient> {
    return new Promise((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => resolve(new EchoClient(s)));
    });
  }

  send(buf: Buffer, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(buf, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }

  /** Resolves once `n` datagrams have come back (rejects after `timeoutMs`). */
  async waitFor(n: number, timeoutMs = 5000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > deadline) throw new Error(`got ${this.received.length} of ${n} echoed packets within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.received;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** A burst came back whole, in the order sent, byte-identical. */
export function expectWholeBurst(got: Received[], sent: Buffer[]): void {
  expect(got).toHaveLength(sent.length);
  got.forEach((r, i) => expect(r.buf.equals(sent[i])).toBe(true));
}
