/**
 * A client of rtpengine's ng control protocol over UDP: each request is `<cookie> <bencoded
 * dictionary>`, the reply carries the same cookie. Requests are retried on silence (UDP), and a
 * reply whose `result` is `error` rejects with rtpengine's `error-reason`.
 */
import {createSocket, type Socket} from 'node:dgram';
import {randomBytes} from 'node:crypto';
import {bdecode, bencode, type BValue} from './bencode.js';

export type NgDict = {[key: string]: BValue};

export class NgError extends Error {
  override name = 'NgError';
}

export interface NgClientOptions {
  host: string;
  port: number;
  /** Per attempt; the request is sent again after this long without a reply. */
  timeoutMs?: number;
  attempts?: number;
}

interface Pending {
  resolve: (d: NgDict) => void;
  reject: (e: Error) => void;
}

/** Split `<cookie> <bencode>` (the cookie has no space). */
export function parseNgMessage(msg: Buffer): {cookie: string; body: BValue} {
  const sp = msg.indexOf(0x20);
  if (sp <= 0) throw new NgError('ng: message without "<cookie> "');
  return {cookie: msg.toString('ascii', 0, sp), body: bdecode(msg.subarray(sp + 1))};
}

export function formatNgMessage(cookie: string, body: NgDict): Buffer {
  return Buffer.concat([Buffer.from(`${cookie} `, 'ascii'), bencode(body)]);
}

export class NgClient {
  private readonly socket: Socket;
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = randomBytes(4).toString('hex');
  private seq = 0;
  private closed = false;
  private readonly bound: Promise<void>;

  constructor(private readonly o: NgClientOptions) {
    this.socket = createSocket('udp4');
    this.socket.on('message', (msg) => this.onMessage(msg));
    this.socket.on('error', () => undefined);
    this.bound = new Promise((resolve) => this.socket.bind(0, '127.0.0.1', () => resolve()));
  }

  private onMessage(msg: Buffer): void {
    let parsed: {cookie: string; body: BValue};
    try {
      parsed = parseNgMessage(msg);
    } catch {
      return;
    }
    const p = this.pending.get(parsed.cookie);
    if (!p) return;
    this.pending.delete(parsed.cookie);
    const body = parsed.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return p.reject(new NgError('ng: reply is not a dictionary'));
    if (body.result === 'error') return p.reject(new NgError(`ng: ${String(body['error-reason'] ?? 'error without a reason')}`));
    p.resolve(body);
  }

  /** Send `command` with `args`; resolve with the reply dictionary (`result` ok/pong/…). */
  async request(command: string, args: NgDict = {}): Promise<NgDict> {
    if (this.closed) throw new NgError('ng: client closed');
    await this.bound;
    const cookie = `${this.prefix}_${++this.seq}`;
    const msg = formatNgMessage(cookie, {...args, command});
    const timeoutMs = this.o.timeoutMs ?? 1000;
    const attempts = this.o.attempts ?? 3;
    return new Promise<NgDict>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let tries = 0;
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(cookie);
      };
      this.pending.set(cookie, {
        resolve: (d) => {
          done();
          resolve(d);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      const send = () => {
        if (tries++ >= attempts) {
          done();
          reject(new NgError(`ng: no reply to "${command}" from ${this.o.host}:${this.o.port} after ${attempts} × ${timeoutMs} ms`));
          return;
        }
        this.socket.send(msg, this.o.port, this.o.host);
        timer = setTimeout(send, timeoutMs);
      };
      send();
    });
  }

  async ping(): Promise<boolean> {
    const r = await this.request('ping');
    return r.result === 'pong';
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new NgError('ng: client closed'));
    this.pending.clear();
    this.socket.close();
  }
}
