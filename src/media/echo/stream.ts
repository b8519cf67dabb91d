/**
 * The stand-in media servers that are no echo (`rtpsla echo --mode stream|sink`), in Node; the
 * native engine's echo role does the same (native/echo_stream.c).
 *
 * - stream: a stand-in voice bot. A source is (address, port, SSRC); from its first packet on it
 *   gets its OWN paced 20 ms RTP stream sent back to its address: its own SSRC (never the
 *   source's), a random first sequence number and timestamp, the source's payload type, a
 *   timestamp step of the source's own (learned from its first two consecutive packets; 20 ms at
 *   the PT's clock rate until then) and a fixed payload (0xff) making datagrams of the size of the
 *   source's first one. Frame k is due at t_first_seen + k × 20 ms (absolute deadlines, on the
 *   injectable Clock's timer); what the source sends is otherwise ignored. Behind by more than
 *   MAX_CATCH_UP_FRAMES (a stalled process resumed), it skips ahead: the timestamp jumps by the
 *   frames missed and the next frame has the marker; else the frames due go at once. A frame sent
 *   more than 1 ms after its deadline counts `late`; `maxSchedulerLagUs` is the worst.
 * - sink: receives and counts (packets, bytes, sources, malformed); sends nothing.
 * A source silent for --idle-expiry-ms stops (its stream ends) and is forgotten.
 *
 * Per packet: parse, one lookup (Map address → Map<port·2^32 + ssrc>); per frame: the header
 * written into one of the source's few preallocated datagrams, one send. Nothing else allocated.
 */
import {createSocket, type RemoteInfo, type Socket} from 'node:dgram';
import {randomInt} from 'node:crypto';
import {ConfigError, errorMessage} from '../../errors.js';
import {nullLogger, type Logger} from '../../log/logger.js';
import {newRtpPacket, parseRtp, RtpParse} from '../../rtp/packet.js';
import {mediaSocketOptions} from '../../rtp/udp-lookup.js';
import {realClock, type Clock, type ClockTimer} from '../../runtime/clock.js';
import {usPerTickTable} from './clock-rates.js';
import type {EchoOptions, EchoServer, EchoStats} from './types.js';

export const FRAME_US = 20_000;
/** Behind by more than this many frames, a stream skips ahead instead of bursting (as the sim's sources). */
export const MAX_CATCH_UP_FRAMES = 8;
/** Datagrams a source cycles through (a send completes long before its buffer comes round again). */
const SEND_RING = 8;
const FILL = 0xff;
const LATE_TOLERANCE_US = 1000;

interface Source {
  readonly address: string;
  readonly port: number;
  lastSeenUs: number;
  /** stream mode: */
  readonly startUs: number;
  frame: number;
  readonly ssrc: number;
  readonly pt: number;
  seq: number;
  ts: number;
  step: number;
  stepKnown: boolean;
  lastInSeq: number;
  lastInTs: number;
  marker: boolean;
  readonly bufs: Buffer[];
  timer: ClockTimer | undefined;
  readonly tick: () => void;
}

/** The server of `echo --mode stream|sink` on a socket bound by the caller. */
export class NotEcho implements EchoServer {
  address = '';
  port = 0;
  recvBufferBytes = 0;
  sendBufferBytes = 0;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly usPerTick: Float64Array;
  private readonly idleExpiryUs: number;
  private readonly maxSources: number;
  private readonly byAddress = new Map<string, Map<number, Source>>();
  private readonly pkt = newRtpPacket();
  private sweepTimer: ClockTimer | undefined;
  private closed = false;
  private readonly s: EchoStats = {
    packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, malformed: 0, sendErrors: 0, late: 0, arrivedLate: 0,
    maxSchedulerLagUs: 0, held: 0, anchorMoves: 0, sourcesActive: 0, sourcesTotal: 0, sourcesExpired: 0, reanchors: 0,
    queueOverflows: 0, unpaced: 0, queued: 0,
  };

  constructor(
    private readonly socket: Socket,
    readonly mode: 'stream' | 'sink',
    options: EchoOptions,
  ) {
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? nullLogger;
    this.usPerTick = usPerTickTable(options.clockRateHz ?? 8000, options.ptClockRates);
    this.idleExpiryUs = (options.idleExpiryMs ?? 10_000) * 1000;
    this.maxSources = Math.max(0, options.maxSources ?? 100_000);
  }

  /** Bound: start receiving and expiring idle sources. */
  start(bound: {address: string; port: number; recvBufferBytes: number; sendBufferBytes: number}): void {
    Object.assign(this, bound);
    this.socket.on('error', (err) => this.logger.warn('echo.socket_error', {error: err}));
    this.socket.on('message', this.onMessage);
    this.armSweep();
  }

  stats(): EchoStats {
    return {...this.s, maxSchedulerLagUs: Math.round(this.s.maxSchedulerLagUs)};
  }

  close(): Promise<EchoStats> {
    if (this.closed) return Promise.resolve(this.stats());
    this.closed = true;
    if (this.sweepTimer !== undefined) this.clock.clearTimer(this.sweepTimer);
    for (const bucket of this.byAddress.values()) for (const src of bucket.values()) this.stop(src);
    this.socket.off('message', this.onMessage);
    return new Promise((resolve) => this.socket.close(() => resolve(this.stats())));
  }

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const now = this.clock.nowUs();
    this.s.packetsIn++;
    this.s.bytesIn += msg.length;
    const pkt = this.pkt;
    if (parseRtp(msg, pkt) !== RtpParse.Ok) {
      this.s.malformed++;
      return;
    }
    const bucket = this.byAddress.get(rinfo.address);
    const key = rinfo.port * 4294967296 + pkt.ssrc;
    let src = bucket?.get(key);
    if (src === undefined) {
      if (this.s.sourcesActive >= this.maxSources) {
        this.s.unpaced++;
        return;
      }
      src = this.newSource(rinfo, key, msg.length, now);
    } else if (this.mode === 'stream') {
      this.learnStep(src, pkt.sequence, pkt.timestamp);
    }
    src.lastSeenUs = now;
  };

  /** The source's timestamp step, from its first two consecutive packets. */
  private learnStep(src: Source, seq: number, ts: number): void {
    const d = (ts - src.lastInTs) >>> 0;
    if (!src.stepKnown && ((seq - src.lastInSeq) & 0xffff) === 1 && d > 0 && d < 48_000) {
      src.step = d;
      src.stepKnown = true;
    }
    src.lastInSeq = seq;
    src.lastInTs = ts;
  }

  private newSource(rinfo: RemoteInfo, key: number, size: number, now: number): Source {
    const p = this.pkt;
    let bucket = this.byAddress.get(rinfo.address);
    if (bucket === undefined) this.byAddress.set(rinfo.address, (bucket = new Map()));
    const len = Math.max(12, Math.min(1500, size));
    const stream = this.mode === 'stream';
    let ssrc = randomInt(0, 2 ** 32 - 1);
    if (ssrc === p.ssrc) ssrc = (ssrc ^ 0x5a5a5a5a) >>> 0;
    const src: Source = {
      address: rinfo.address,
      port: rinfo.port,
      lastSeenUs: now,
      startUs: now,
      frame: 0,
      ssrc,
      pt: p.payloadType,
      seq: randomInt(0, 65536),
      ts: randomInt(0, 2 ** 32 - 1),
      step: Math.round(FRAME_US / this.usPerTick[p.payloadType]),
      stepKnown: false,
      lastInSeq: p.sequence,
      lastInTs: p.timestamp,
      marker: false,
      bufs: stream ? Array.from({length: SEND_RING}, () => Buffer.alloc(len, FILL)) : [],
      timer: undefined,
      tick: () => this.sendDue(src),
    };
    bucket.set(key, src);
    this.s.sourcesActive++;
    this.s.sourcesTotal++;
    if (stream) this.sendDue(src);
    return src;
  }

  /** Send the source's frames that are due (skipping ahead when far behind), then wait for the next deadline. */
  private sendDue(src: Source): void {
    src.timer = undefined;
    const now = this.clock.nowUs();
    if (this.closed || now - src.lastSeenUs > this.idleExpiryUs) return; // idle: its stream ends
    let next = src.startUs + src.frame * FRAME_US;
    if (now - next > MAX_CATCH_UP_FRAMES * FRAME_US) {
      const skip = Math.floor((now - next) / FRAME_US) + 1;
      src.frame += skip;
      src.ts = (src.ts + skip * src.step) >>> 0;
      src.marker = true;
      next = src.startUs + src.frame * FRAME_US;
    }
    while (next <= now) {
      this.sendFrame(src, now - next);
      next += FRAME_US;
    }
    src.timer = this.clock.setTimer(src.tick, (next - now) / 1000);
  }

  private sendFrame(src: Source, lagUs: number): void {
    const buf = src.bufs[src.frame % SEND_RING];
    buf[0] = 0x80;
    buf[1] = (src.marker ? 0x80 : 0) | (src.pt & 0x7f);
    buf.writeUInt16BE(src.seq, 2);
    buf.writeUInt32BE(src.ts, 4);
    buf.writeUInt32BE(src.ssrc, 8);
    if (lagUs > this.s.maxSchedulerLagUs) this.s.maxSchedulerLagUs = lagUs;
    if (lagUs > LATE_TOLERANCE_US) this.s.late++;
    try {
      this.socket.send(buf, src.port, src.address, this.onSent);
    } catch {
      this.s.sendErrors++;
    }
    src.seq = (src.seq + 1) & 0xffff;
    src.ts = (src.ts + src.step) >>> 0;
    src.marker = false;
    src.frame++;
  }

  private readonly onSent = (err: Error | null, bytes: number): void => {
    if (err) {
      this.s.sendErrors++;
      return;
    }
    this.s.packetsOut++;
    this.s.bytesOut += bytes;
  };

  private stop(src: Source): void {
    if (src.timer !== undefined) this.clock.clearTimer(src.timer);
    src.timer = undefined;
  }

  private armSweep(): void {
    const everyMs = Math.max(20, Math.min(1000, Math.floor(this.idleExpiryUs / 4000)));
    this.sweepTimer = this.clock.setTimer(this.sweep, everyMs);
    this.sweepTimer.unref();
  }

  /** Idle sources stop and are forgotten. */
  private readonly sweep = (): void => {
    if (this.closed) return;
    const cutoff = this.clock.nowUs() - this.idleExpiryUs;
    for (const [address, bucket] of this.byAddress) {
      for (const [key, src] of bucket) {
        if (src.lastSeenUs >= cutoff) continue;
        this.stop(src);
        bucket.delete(key);
        this.s.sourcesActive--;
        this.s.sourcesExpired++;
      }
      if (bucket.size === 0) this.byAddress.delete(address);
    }
    this.armSweep();
  };
}

/** Bind `socket` to address:port; rejects with ConfigError when it cannot. */
export function bindSocket(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      socket.close();
      const where = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
      reject(new ConfigError(`cannot bind UDP ${where}: ${err.code ?? errorMessage(err)}`));
    };
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/** A NotEcho on a new socket of `type` bound to address:port. */
export async function startNotEcho(mode: 'stream' | 'sink', type: 'udp4' | 'udp6', address: string, options: EchoOptions, buffers: (s: Socket) => {recvBufferBytes: number; sendBufferBytes: number}): Promise<NotEcho> {
  const socket = createSocket(mediaSocketOptions(type));
  await bindSocket(socket, address, options.port ?? 4000);
  const server = new NotEcho(socket, mode, options);
  const a = socket.address();
  server.start({address: a.address, port: a.port, ...buffers(socket)});
  return server;
}
