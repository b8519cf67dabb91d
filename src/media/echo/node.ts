/**
 * The RTP echo (docs/measurement.md, the echo): one UDP socket that sends every RTP datagram back to its sender,
 * byte-identical, and counts how late each one is against its source's RTP timestamps.
 *
 * Model. A source is (remote address, remote port, SSRC). Its anchor is (t0', ts0) (src/media/echo/anchor.ts):
 * t0' starts as the arrival time of its first packet and only ever moves earlier, to the earliest
 * phase seen (docs/measurement.md, the echo). A packet with timestamp ts is due at
 *   due = t0' + tsDiff(ts, ts0) / clock_rate        (src/rtp/clock.ts playoutUs)
 * Because t0' follows the earliest phase, a packet is never due after its arrival, so none
 * waits: each is sent back at once, and counted late when it arrived more than 1 ms after its
 * slot. Clock rate comes from the payload type of the source's first packet (the codec table of
 * src/rtp/formats.ts: 0/3/8/9/18 → 8000, 118 → 16000; other → --clock-rate). A source silent for
 * --idle-expiry-ms is forgotten; if it comes back it re-anchors. An anchor that moves earlier by
 * more than --max-hold-ms (a timestamp jump) is counted in `reanchors`.
 *
 * Cost per packet: parse, source lookup (Map address → Map<(port·2^32 + ssrc), Source>, with
 * the last address's inner map cached; no string built per packet), one send with the
 * synchronous numeric lookup (src/rtp/udp-lookup.ts) and one shared completion callback that
 * counts send errors. Time comes from an injectable Clock (src/runtime/clock.ts): the arrival
 * time of each packet and the idle-expiry sweep.
 */
import {createSocket, type RemoteInfo, type Socket} from 'node:dgram';
import {lookup as dnsLookup} from 'node:dns/promises';
import {isIP} from 'node:net';
import {ConfigError, errorMessage} from '../../errors.js';
import {nullLogger, type Logger} from '../../log/logger.js';
import {newRtpPacket, parseRtp, RtpParse} from '../../rtp/packet.js';
import {mediaSocketOptions} from '../../rtp/udp-lookup.js';
import {realClock, type Clock, type ClockTimer} from '../../runtime/clock.js';
import {anchorDueUs} from './anchor.js';
import {usPerTickTable} from './clock-rates.js';

export const DEFAULT_ECHO_HOST = '127.0.0.1';
export const DEFAULT_ECHO_PORT = 4000;
export const DEFAULT_BUFFER_BYTES = 2 * 1024 * 1024;
export const DEFAULT_IDLE_EXPIRY_MS = 10_000;
export const DEFAULT_MAX_HOLD_MS = 2_000;
export const DEFAULT_MAX_SOURCES = 100_000;

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
  /** Sources tracked at once; packets of further sources are echoed unpaced (default 100000). */
  maxSources?: number;
  /** Requested SO_RCVBUF / SO_SNDBUF (default 2 MiB). */
  bufferBytes?: number;
  /** Seconds between `echo.stats` log lines; 0 = none (default 0). */
  statsIntervalSec?: number;
  /** Where stats and warnings go (default: nowhere). */
  logger?: Logger;
  /** Arrival times and the idle-expiry/stats timers (default: the real clock; tests drive one). */
  clock?: Clock;
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
  /** Arrived more than 1 ms after their slot (sent at once). */
  late: number;
  /** Subset of `late`: already past their slot on arrival (all of them: no packet waits). */
  arrivedLate: number;
  /** Worst delay (µs) of a waiting packet behind its slot: always 0, no packet waits (docs/measurement.md, the echo). */
  maxSchedulerLagUs: number;
  sourcesActive: number;
  sourcesTotal: number;
  sourcesExpired: number;
  /** Timestamp jumps beyond --max-hold-ms: the anchor moved earlier by more than that. */
  reanchors: number;
  /** Packets sent before their slot because their source's queue was full: always 0 (no queue). */
  queueOverflows: number;
  /** Packets echoed unpaced because the source table was full. */
  unpaced: number;
  /** Packets waiting for their slot right now: always 0 (none waits). */
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
  /** Stop: close the socket, stop timers. Returns the final counters. */
  close(): Promise<EchoStats>;
}

interface Source {
  readonly address: string;
  readonly port: number;
  t0Us: number;
  ts0: number;
  usPerTick: number;
  lastSeenUs: number;
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
  private readonly maxSources: number;
  private readonly sweepMs: number;
  private readonly clock: Clock;
  private readonly statsIntervalSec: number;

  private readonly byAddress = new Map<string, Map<number, Source>>();
  private lastAddress = '';
  private lastBucket: Map<number, Source> | undefined;
  private readonly pkt = newRtpPacket();

  private sweepTimer: ClockTimer | undefined;
  private statsTimer: ClockTimer | undefined;
  private closed = false;

  private packetsIn = 0;
  private bytesIn = 0;
  private packetsOut = 0;
  private bytesOut = 0;
  private malformed = 0;
  private sendErrors = 0;
  private late = 0;
  private sourcesActive = 0;
  private sourcesTotal = 0;
  private sourcesExpired = 0;
  private reanchors = 0;
  private unpaced = 0;

  constructor(options: EchoOptions, type: 'udp4' | 'udp6') {
    this.logger = options.logger ?? nullLogger;
    this.clock = options.clock ?? realClock;
    this.usPerTick = usPerTickTable(options.clockRateHz ?? 8000, options.ptClockRates);
    this.idleExpiryUs = (options.idleExpiryMs ?? DEFAULT_IDLE_EXPIRY_MS) * 1000;
    this.maxHoldUs = (options.maxHoldMs ?? DEFAULT_MAX_HOLD_MS) * 1000;
    this.maxSources = Math.max(0, options.maxSources ?? DEFAULT_MAX_SOURCES);
    this.statsIntervalSec = options.statsIntervalSec ?? 0;
    this.sweepMs = Math.max(20, Math.min(1000, Math.floor(this.idleExpiryUs / 4000)));
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
        this.armSweep();
        this.armStats();
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
      arrivedLate: this.late,
      maxSchedulerLagUs: 0,
      sourcesActive: this.sourcesActive,
      sourcesTotal: this.sourcesTotal,
      sourcesExpired: this.sourcesExpired,
      reanchors: this.reanchors,
      queueOverflows: 0,
      unpaced: this.unpaced,
      queued: 0,
    };
  }

  close(): Promise<EchoStats> {
    if (this.closed) return Promise.resolve(this.stats());
    this.closed = true;
    if (this.sweepTimer !== undefined) this.clock.clearTimer(this.sweepTimer);
    if (this.statsTimer !== undefined) this.clock.clearTimer(this.statsTimer);
    this.sweepTimer = this.statsTimer = undefined;
    this.socket.off('message', this.onMessage);
    return new Promise((resolve) => {
      this.socket.close(() => resolve(this.stats()));
    });
  }

  // ---- hot path ------------------------------------------------------------------------------

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const now = this.clock.nowUs();
    this.packetsIn++;
    this.bytesIn += msg.length;
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
    // a timestamp jump: under the old anchor it would have been held beyond --max-hold-ms
    if (t0BeforeUs - src.t0Us > this.maxHoldUs) this.reanchors++;
    if (now - dueUs > LATE_TOLERANCE_US) this.late++;
    this.send(msg, src.port, src.address);
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
      src = {address, port: rinfo.port, t0Us: now, ts0: timestamp, usPerTick: this.usPerTick[payloadType], lastSeenUs: now};
      bucket.set(key, src);
      this.sourcesActive++;
      this.sourcesTotal++;
    }
    return src;
  }

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

  private armSweep(): void {
    this.sweepTimer = this.clock.setTimer(this.sweep, this.sweepMs);
    this.sweepTimer.unref();
  }

  private armStats(): void {
    if (this.statsIntervalSec <= 0) return;
    this.statsTimer = this.clock.setTimer(this.logStats, this.statsIntervalSec * 1000);
    this.statsTimer.unref();
  }

  private readonly sweep = (): void => {
    if (this.closed) return;
    const cutoff = this.clock.nowUs() - this.idleExpiryUs;
    for (const [address, bucket] of this.byAddress) {
      for (const [key, src] of bucket) {
        if (src.lastSeenUs < cutoff) {
          bucket.delete(key);
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
    this.armSweep();
  };

  private readonly logStats = (): void => {
    if (this.closed) return;
    this.logger.info('echo.stats', {...statsFields(this.stats()), intervalMaxLagMs: 0});
    this.armStats();
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
