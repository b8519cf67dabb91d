/**
 * The RTP echo (SPEC §5): one UDP socket that sends every RTP datagram back to its sender,
 * byte-identical, re-paced by its RTP timestamp.
 *
 * Model. A source is (remote address, remote port, SSRC). Its anchor is (t0', ts0) (src/echo/anchor.ts):
 * t0' starts as the arrival time of its first packet and only ever moves earlier, to the earliest
 * phase seen (SPEC §5). A packet with timestamp ts is due at
 *   due = t0' + tsDiff(ts, ts0) / clock_rate        (signed 32-bit difference, so wrap is fine)
 * and is sent at max(now, due); late ones go at once and are counted late. Because t0' follows
 * the earliest phase, a packet is never due after its arrival: a first packet delayed by a stall
 * no longer holds the stream back, and a burst is echoed as it comes. Clock rate comes from
 * the payload type of the source's first packet (0/3/8/9/18 → 8000, 118 → 16000, other →
 * --clock-rate). A source silent for --idle-expiry-ms is forgotten; if it comes back it
 * re-anchors. An anchor that moves earlier by more than --max-hold-ms (a timestamp jump) is
 * counted in `reanchors`.
 *
 * Design (cost per packet). No timer per packet:
 *  - source lookup: Map address → Map<(port·2^32 + ssrc), Source>, with the last address's
 *    inner map cached; no string is built per packet. O(1).
 *  - each source owns a PacketQueue: a ring buffer of the received Buffers (never copied) kept
 *    sorted by due time; in-order arrival is an O(1) append.
 *  - one scheduler for all sources: an indexed binary min-heap of the sources that have queued
 *    packets, keyed by the due time of their queue head, and ONE setTimeout armed for the
 *    earliest due time (ceil of the remaining ms, so no systematic extra delay; anything due within
 *    0.5 ms is sent immediately). When it fires, every packet due by now+0.5 ms is sent and the
 *    timer re-armed for the new top. Arrivals also drain whatever is due, so a busy event loop
 *    does not wait for the timers phase.
 *  - cost: a packet that is due on arrival (the steady state for a paced sender) is parsed and
 *    sent, O(1). A packet that has to wait costs one queue append and, when it becomes the head
 *    of its source's queue, one heap push/update, O(log S) for S waiting sources (≈10 compares
 *    for 1000 sources); dispatch is one heap update per source per wake-up. Memory is O(sources
 *    + packets held), bounded by idle expiry, --max-hold-ms and a per-source queue cap.
 *  - sends use the synchronous numeric lookup (src/rtp/udp-lookup.ts: replies go to the numeric
 *    address the packet came from) and one shared completion callback that counts send errors.
 */
import {createSocket, type RemoteInfo, type Socket} from 'node:dgram';
import {lookup as dnsLookup} from 'node:dns/promises';
import {isIP} from 'node:net';
import {ConfigError, errorMessage} from '../errors.js';
import {nullLogger, type Logger} from '../log/logger.js';
import {nowUs} from '../rtp/clock.js';
import {newRtpPacket, parseRtp, RtpParse} from '../rtp/packet.js';
import {mediaSocketOptions} from '../rtp/udp-lookup.js';
import {anchorDueUs} from './anchor.js';
import {usPerTickTable} from './clock-rates.js';
import {PacketQueue} from './packet-queue.js';
import {SourceHeap, type HeapItem} from './source-heap.js';

export const DEFAULT_ECHO_HOST = '127.0.0.1';
export const DEFAULT_ECHO_PORT = 4000;
export const DEFAULT_BUFFER_BYTES = 2 * 1024 * 1024;
export const DEFAULT_IDLE_EXPIRY_MS = 10_000;
export const DEFAULT_MAX_HOLD_MS = 2_000;
export const DEFAULT_MAX_QUEUE_PER_SOURCE = 4096;
export const DEFAULT_MAX_SOURCES = 100_000;

/** Packets due within this much of now are sent immediately. */
const SEND_EARLY_US = 500;
/** A packet sent more than this after its slot counts as late. */
export const LATE_TOLERANCE_US = 1000;

export interface EchoOptions {
  /** Address to bind (default 127.0.0.1). A hostname is resolved once at start. */
  host?: string;
  /** UDP port (default 4000; 0 = any free port, see `EchoServer.port`). */
  port?: number;
  /** Clock rate (Hz) for payload types not in the built-in map (default 8000). */
  clockRateHz?: number;
  /** Extra/overriding PT → clock rate (Hz) entries. */
  ptClockRates?: Readonly<Record<number, number>>;
  /** A source silent this long is forgotten (default 10000). */
  idleExpiryMs?: number;
  /** An anchor moving earlier by more than this counts as a re-anchor (a timestamp jump; default 2000). */
  maxHoldMs?: number;
  /** Packets a source may have waiting; beyond it the oldest goes early (default 4096). */
  maxQueuePerSource?: number;
  /** Sources tracked at once; packets of further sources are echoed unpaced (default 100000). */
  maxSources?: number;
  /** Requested SO_RCVBUF / SO_SNDBUF (default 2 MiB). */
  bufferBytes?: number;
  /** Seconds between `echo.stats` log lines; 0 = none (default 0). */
  statsIntervalSec?: number;
  /** Where stats and warnings go (default: nowhere). */
  logger?: Logger;
}

export interface EchoStats {
  packetsIn: number;
  bytesIn: number;
  /** Datagrams whose send completed without error. */
  packetsOut: number;
  bytesOut: number;
  /** Not RTP v2 (per parseRtp): counted, never echoed. */
  malformed: number;
  sendErrors: number;
  /** Sent more than 1 ms after their slot (arrived late, or the scheduler ran late). */
  late: number;
  /** Subset of `late`: already past their slot on arrival, sent at once. */
  arrivedLate: number;
  /** Worst delay (µs) of a waiting packet behind its slot: the scheduler's own lag. */
  maxSchedulerLagUs: number;
  sourcesActive: number;
  sourcesTotal: number;
  sourcesExpired: number;
  /** Timestamp jumps beyond --max-hold-ms: the anchor moved earlier by more than that. */
  reanchors: number;
  /** Packets sent before their slot because their source's queue was full. */
  queueOverflows: number;
  /** Packets echoed unpaced because the source table was full. */
  unpaced: number;
  /** Packets waiting for their slot right now. */
  queued: number;
}

export interface EchoServer {
  /** Bound address and port (the real port when 0 was asked for). */
  readonly address: string;
  readonly port: number;
  /** Effective receive/send buffer sizes in bytes (as requested, or what the OS capped them to). */
  readonly recvBufferBytes: number;
  readonly sendBufferBytes: number;
  stats(): EchoStats;
  /** Stop: close the socket, drop waiting packets, stop timers. Returns the final counters. */
  close(): Promise<EchoStats>;
}

interface Source extends HeapItem {
  readonly key: number;
  readonly address: string;
  readonly port: number;
  readonly ssrc: number;
  t0Us: number;
  ts0: number;
  usPerTick: number;
  lastSeenUs: number;
  readonly queue: PacketQueue;
}

/** Bind the echo socket and start reflecting. Rejects with ConfigError when it cannot bind. */
export async function startEcho(options: EchoOptions = {}): Promise<EchoServer> {
  const host = options.host ?? DEFAULT_ECHO_HOST;
  let bindAddress = host;
  let family = isIP(host);
  if (family === 0) {
    try {
      const r = await dnsLookup(host);
      bindAddress = r.address;
      family = r.family;
    } catch (err) {
      throw new ConfigError(`--host: cannot resolve "${host}": ${errorMessage(err)}`);
    }
  }
  const echo = new Echo(options, family === 6 ? 'udp6' : 'udp4');
  await echo.bind(bindAddress, options.port ?? DEFAULT_ECHO_PORT, options.bufferBytes ?? DEFAULT_BUFFER_BYTES);
  return echo;
}

class Echo implements EchoServer {
  address = '';
  port = 0;
  recvBufferBytes = 0;
  sendBufferBytes = 0;

  private readonly socket: Socket;
  private readonly logger: Logger;
  private readonly usPerTick: Float64Array;
  private readonly idleExpiryUs: number;
  private readonly maxHoldUs: number;
  private readonly maxQueue: number;
  private readonly maxSources: number;
  private readonly statsIntervalSec: number;

  private readonly byAddress = new Map<string, Map<number, Source>>();
  private lastAddress = '';
  private lastBucket: Map<number, Source> | undefined;
  private readonly heap = new SourceHeap<Source>();
  private readonly pkt = newRtpPacket();

  private timer: NodeJS.Timeout | undefined;
  private timerFireUs = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private packetsIn = 0;
  private bytesIn = 0;
  private packetsOut = 0;
  private bytesOut = 0;
  private malformed = 0;
  private sendErrors = 0;
  private late = 0;
  private arrivedLate = 0;
  private maxSchedulerLagUs = 0;
  private intervalMaxLagUs = 0;
  private sourcesActive = 0;
  private sourcesTotal = 0;
  private sourcesExpired = 0;
  private reanchors = 0;
  private queueOverflows = 0;
  private unpaced = 0;
  private queued = 0;

  constructor(options: EchoOptions, type: 'udp4' | 'udp6') {
    this.logger = options.logger ?? nullLogger;
    this.usPerTick = usPerTickTable(options.clockRateHz ?? 8000, options.ptClockRates);
    this.idleExpiryUs = (options.idleExpiryMs ?? DEFAULT_IDLE_EXPIRY_MS) * 1000;
    this.maxHoldUs = (options.maxHoldMs ?? DEFAULT_MAX_HOLD_MS) * 1000;
    this.maxQueue = Math.max(1, options.maxQueuePerSource ?? DEFAULT_MAX_QUEUE_PER_SOURCE);
    this.maxSources = Math.max(0, options.maxSources ?? DEFAULT_MAX_SOURCES);
    this.statsIntervalSec = options.statsIntervalSec ?? 0;
    this.socket = createSocket(mediaSocketOptions(type));
  }

  bind(address: string, port: number, bufferBytes: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.socket.close();
        const where = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
        reject(new ConfigError(`cannot bind UDP ${where}: ${err.code ?? errorMessage(err)}`));
      };
      this.socket.once('error', onError);
      this.socket.bind(port, address, () => {
        this.socket.off('error', onError);
        this.socket.on('error', (err) => this.logger.warn('echo.socket_error', {error: err}));
        this.socket.on('message', this.onMessage);
        const a = this.socket.address();
        this.address = a.address;
        this.port = a.port;
        this.recvBufferBytes = setBuffer(() => this.socket.setRecvBufferSize(bufferBytes), () => this.socket.getRecvBufferSize());
        this.sendBufferBytes = setBuffer(() => this.socket.setSendBufferSize(bufferBytes), () => this.socket.getSendBufferSize());
        const sweepMs = Math.max(20, Math.min(1000, Math.floor(this.idleExpiryUs / 4000)));
        this.sweepTimer = setInterval(this.sweep, sweepMs);
        this.sweepTimer.unref();
        if (this.statsIntervalSec > 0) {
          this.statsTimer = setInterval(this.logStats, this.statsIntervalSec * 1000);
          this.statsTimer.unref();
        }
        resolve();
      });
    });
  }

  stats(): EchoStats {
    return {
      packetsIn: this.packetsIn,
      bytesIn: this.bytesIn,
      packetsOut: this.packetsOut,
      bytesOut: this.bytesOut,
      malformed: this.malformed,
      sendErrors: this.sendErrors,
      late: this.late,
      arrivedLate: this.arrivedLate,
      maxSchedulerLagUs: Math.round(this.maxSchedulerLagUs),
      sourcesActive: this.sourcesActive,
      sourcesTotal: this.sourcesTotal,
      sourcesExpired: this.sourcesExpired,
      reanchors: this.reanchors,
      queueOverflows: this.queueOverflows,
      unpaced: this.unpaced,
      queued: this.queued,
    };
  }

  close(): Promise<EchoStats> {
    if (this.closed) return Promise.resolve(this.stats());
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    if (this.statsTimer !== undefined) clearInterval(this.statsTimer);
    this.timer = this.sweepTimer = this.statsTimer = undefined;
    this.socket.off('message', this.onMessage);
    return new Promise((resolve) => {
      this.socket.close(() => {
        // Waiting packets are dropped; they stay visible in `queued` of the final counters.
        this.heap.clear();
        for (const bucket of this.byAddress.values()) for (const src of bucket.values()) src.queue.clear();
        resolve(this.stats());
      });
    });
  }

  // ---- hot path ------------------------------------------------------------------------------

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const now = nowUs();
    this.packetsIn++;
    this.bytesIn += msg.length;
    const top = this.heap.peek();
    if (top !== undefined && top.headDueUs <= now + SEND_EARLY_US) this.dispatchDue(now);

    const pkt = this.pkt;
    if (parseRtp(msg, pkt) !== RtpParse.Ok) {
      this.malformed++;
      return;
    }
    const src = this.sourceFor(rinfo, pkt.ssrc, pkt.payloadType, pkt.timestamp, now);
    if (src === undefined) {
      this.unpaced++;
      this.send(msg, rinfo.port, rinfo.address);
      return;
    }
    src.lastSeenUs = now;
    const t0BeforeUs = src.t0Us;
    const dueUs = anchorDueUs(src, pkt.timestamp, now);
    if (t0BeforeUs - src.t0Us > this.maxHoldUs) {
      // a timestamp jump: under the old anchor it would have been held beyond --max-hold-ms
      this.flushSource(src, now);
      this.reanchors++;
    }
    if (dueUs <= now + SEND_EARLY_US) {
      // Due now, or past its slot: it goes at once. Everything still queued for this source is
      // due later than now + 0.5 ms (dispatchDue above), so order by slot is kept.
      if (now - dueUs > LATE_TOLERANCE_US) {
        this.late++;
        this.arrivedLate++;
      }
      this.send(msg, src.port, src.address);
      return;
    }
    const q = src.queue;
    if (q.length >= this.maxQueue) {
      this.queueOverflows++;
      this.queued--;
      this.send(q.shift(), src.port, src.address);
    }
    q.insert(msg, dueUs);
    this.queued++;
    const headDue = q.headDue();
    if (src.heapIndex < 0) {
      src.headDueUs = headDue;
      this.heap.push(src);
    } else if (headDue !== src.headDueUs) {
      src.headDueUs = headDue;
      this.heap.update(src);
    } else {
      return; // the head did not change: the armed timer already covers it
    }
    this.arm(now);
  };

  private sourceFor(rinfo: RemoteInfo, ssrc: number, payloadType: number, timestamp: number, now: number): Source | undefined {
    const address = rinfo.address;
    let bucket: Map<number, Source> | undefined;
    if (address === this.lastAddress && this.lastBucket !== undefined) {
      bucket = this.lastBucket;
    } else {
      bucket = this.byAddress.get(address);
      if (bucket === undefined) {
        if (this.sourcesActive >= this.maxSources) return undefined;
        bucket = new Map();
        this.byAddress.set(address, bucket);
      }
      this.lastAddress = address;
      this.lastBucket = bucket;
    }
    const key = rinfo.port * 4294967296 + ssrc;
    let src = bucket.get(key);
    if (src === undefined) {
      if (this.sourcesActive >= this.maxSources) return undefined;
      src = {
        key,
        address,
        port: rinfo.port,
        ssrc,
        t0Us: now,
        ts0: timestamp,
        usPerTick: this.usPerTick[payloadType],
        lastSeenUs: now,
        queue: new PacketQueue(),
        headDueUs: Infinity,
        heapIndex: -1,
      };
      bucket.set(key, src);
      this.sourcesActive++;
      this.sourcesTotal++;
    }
    return src;
  }

  /** Send every waiting packet that is due by now + 0.5 ms, earliest source first. */
  private dispatchDue(now: number): void {
    const limit = now + SEND_EARLY_US;
    const heap = this.heap;
    for (;;) {
      const src = heap.peek();
      if (src === undefined || src.headDueUs > limit) break;
      const q = src.queue;
      do {
        const lagUs = now - q.headDue();
        if (lagUs > LATE_TOLERANCE_US) this.late++;
        if (lagUs > this.maxSchedulerLagUs) this.maxSchedulerLagUs = lagUs;
        if (lagUs > this.intervalMaxLagUs) this.intervalMaxLagUs = lagUs;
        this.queued--;
        this.send(q.shift(), src.port, src.address);
      } while (q.length > 0 && q.headDue() <= limit);
      if (q.length === 0) {
        heap.pop();
        src.headDueUs = Infinity;
      } else {
        src.headDueUs = q.headDue();
        heap.update(src);
      }
    }
  }

  /** Send all of one source's waiting packets now, in order (before a re-anchor). */
  private flushSource(src: Source, now: number): void {
    const q = src.queue;
    while (q.length > 0) {
      if (now - q.headDue() > LATE_TOLERANCE_US) this.late++;
      this.queued--;
      this.send(q.shift(), src.port, src.address);
    }
    this.heap.remove(src);
    src.headDueUs = Infinity;
  }

  /** Make sure one timer fires in time for the earliest waiting packet. */
  private arm(now: number): void {
    const top = this.heap.peek();
    if (top === undefined || this.closed) return;
    const delayMs = Math.max(1, Math.ceil((top.headDueUs - now - SEND_EARLY_US) / 1000));
    const fireUs = now + delayMs * 1000;
    if (this.timer !== undefined) {
      if (this.timerFireUs <= fireUs) return;
      clearTimeout(this.timer);
    }
    this.timerFireUs = fireUs;
    this.timer = setTimeout(this.onTimer, delayMs);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.closed) return;
    const now = nowUs();
    this.dispatchDue(now);
    this.arm(now);
  };

  private send(buf: Buffer, port: number, address: string): void {
    try {
      this.socket.send(buf, port, address, this.onSent);
    } catch {
      this.sendErrors++;
    }
  }

  private readonly onSent = (err: Error | null, bytes: number): void => {
    if (err) {
      this.sendErrors++;
      return;
    }
    this.packetsOut++;
    this.bytesOut += bytes;
  };

  // ---- housekeeping --------------------------------------------------------------------------

  private readonly sweep = (): void => {
    const cutoff = nowUs() - this.idleExpiryUs;
    for (const [address, bucket] of this.byAddress) {
      for (const [key, src] of bucket) {
        if (src.lastSeenUs < cutoff && src.queue.length === 0) {
          bucket.delete(key);
          this.heap.remove(src);
          this.sourcesActive--;
          this.sourcesExpired++;
        }
      }
      if (bucket.size === 0) {
        this.byAddress.delete(address);
        if (this.lastBucket === bucket) {
          this.lastBucket = undefined;
          this.lastAddress = '';
        }
      }
    }
  };

  private readonly logStats = (): void => {
    const s = this.stats();
    this.logger.info('echo.stats', {...statsFields(s), intervalMaxLagMs: round1(this.intervalMaxLagUs / 1000)});
    this.intervalMaxLagUs = 0;
  };
}

/** Log-friendly view of the counters (lag in ms). */
export function statsFields(s: EchoStats): Record<string, number> {
  const {maxSchedulerLagUs, ...rest} = s;
  return {...rest, maxSchedulerLagMs: round1(maxSchedulerLagUs / 1000)};
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/**
 * Ask for `bytes` and report what we got, in the units we asked in. Linux doubles the value on
 * set (bookkeeping overhead) and reports the doubled value; it also silently caps at
 * net.core.[rw]mem_max. Halving on Linux makes "asked 2097152, got 2097152" read as such and a
 * cap read as the cap.
 */
function setBuffer(set: () => void, get: () => number): number {
  try {
    set();
  } catch {
    // Over the OS limit on some platforms: keep the current size, reported below.
  }
  let size = 0;
  try {
    size = get();
  } catch {
    return 0;
  }
  return process.platform === 'linux' ? Math.floor(size / 2) : size;
}
