/**
 * The RTP echo (docs/measurement.md, the echo): one UDP socket that sends every RTP datagram back
 * to its sender, byte-identical, paced to its source's RTP timestamps.
 *
 * Model. A source is (remote address, remote port, SSRC). Its anchor (src/media/echo/anchor.ts,
 * the rule of native/pace.c): t0' starts as the phase of its first packet and moves earlier only
 * when two consecutive packets settle earlier. A packet with timestamp ts is due at
 *   due = t0' + tsDiff(ts, ts0) / clock_rate        (src/rtp/clock.ts playoutUs)
 * A packet before its slot waits in its source's queue (at most HOLD_QUEUE of them; a full queue
 * sends at once and counts `queueOverflows`) and goes when its slot comes, on the injectable
 * Clock's timer; one at or after its slot goes at once, counted late when more than 1 ms after it.
 * The slot of a waiting packet follows the anchor, so an anchor that moves earlier releases what
 * it held. A packet that would wait more than --max-hold-ms re-anchors its source (`reanchors`).
 * Clock rate comes from the payload type of the source's first packet (the codec table of
 * src/rtp/formats.ts: 0/3/8/9/18 → 8000, 118 → 16000; other → --clock-rate). A source silent for
 * --idle-expiry-ms (and holding nothing) is forgotten; if it comes back it re-anchors.
 *
 * Cost per packet: parse, source lookup (Map address → Map<(port·2^32 + ssrc), Source>, with
 * the last address's inner map cached; no string built per packet), one send with the
 * synchronous numeric lookup (src/rtp/udp-lookup.ts) and one shared completion callback that
 * counts send errors. A held packet keeps the datagram Node handed over (no copy).
 */
import {createSocket, type RemoteInfo, type Socket} from 'node:dgram';
import {lookup as dnsLookup} from 'node:dns/promises';
import {isIP} from 'node:net';
import {ConfigError, errorMessage} from '../../errors.js';
import {nullLogger, type Logger} from '../../log/logger.js';
import {newRtpPacket, parseRtp, RtpParse} from '../../rtp/packet.js';
import {mediaSocketOptions} from '../../rtp/udp-lookup.js';
import {realClock, type Clock, type ClockTimer} from '../../runtime/clock.js';
import {AnchorMove, anchorDueUs, newAnchor, slotUs, type PacingAnchor} from './anchor.js';
import {usPerTickTable} from './clock-rates.js';
import {startNotEcho} from './stream.js';
import type {EchoOptions, EchoServer, EchoStats} from './types.js';

export const DEFAULT_ECHO_HOST = '127.0.0.1';
export const DEFAULT_ECHO_PORT = 4000;
export const DEFAULT_BUFFER_BYTES = 2 * 1024 * 1024;
export const DEFAULT_IDLE_EXPIRY_MS = 10_000;
export const DEFAULT_MAX_HOLD_MS = 2_000;
export const DEFAULT_MAX_SOURCES = 100_000;

/** A packet sent more than this after its slot counts as late. */
export const LATE_TOLERANCE_US = 1000;
/** Packets a source may hold for their slots (1.28 s of 20 ms frames, as the native engine). */
export const HOLD_QUEUE = 64;

export type {EchoOptions, EchoServer, EchoStats} from './types.js';

interface Source {
  readonly address: string;
  readonly port: number;
  readonly anchor: PacingAnchor;
  lastSeenUs: number;
  /** Datagrams waiting for their slot, oldest first from `head`, and their RTP timestamps. */
  readonly held: Buffer[];
  readonly heldTs: number[];
  head: number;
  /** The timer of the oldest one's slot. */
  timer: ClockTimer | undefined;
  /** Sends what is due (bound once per source). */
  readonly release: () => void;
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
  const mode = options.mode ?? 'echo';
  if (mode !== 'echo') {
    const bytes = options.bufferBytes ?? DEFAULT_BUFFER_BYTES;
    return startNotEcho(mode, family === 6 ? 'udp6' : 'udp4', bindAddress, options, (s) => ({
      recvBufferBytes: setBuffer(() => s.setRecvBufferSize(bytes), () => s.getRecvBufferSize()),
      sendBufferBytes: setBuffer(() => s.setSendBufferSize(bytes), () => s.getSendBufferSize()),
    }));
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
  private anchorMoves = 0;
  private heldTotal = 0;
  private queued = 0;
  private queueOverflows = 0;
  private maxLagUs = 0;

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
      maxSchedulerLagUs: Math.round(this.maxLagUs),
      held: this.heldTotal,
      anchorMoves: this.anchorMoves,
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
    if (this.sweepTimer !== undefined) this.clock.clearTimer(this.sweepTimer);
    if (this.statsTimer !== undefined) this.clock.clearTimer(this.statsTimer);
    this.sweepTimer = this.statsTimer = undefined;
    for (const bucket of this.byAddress.values()) for (const src of bucket.values()) this.dropHeld(src);
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
    const a = src.anchor;
    const dueUs = anchorDueUs(a, pkt.timestamp, now, this.maxHoldUs);
    if (a.move !== AnchorMove.Kept) {
      if (a.move === AnchorMove.Moved) this.anchorMoves++;
      else this.reanchors++;
      if (src.head < src.held.length) this.releaseDue(src, now, now); // the older ones first, due to leave now
    }
    if (dueUs > now) {
      if (src.held.length - src.head < HOLD_QUEUE) return this.hold(src, msg, pkt.timestamp);
      this.queueOverflows++;
    } else if (now - dueUs > LATE_TOLERANCE_US) {
      this.late++;
    }
    this.send(msg, src.port, src.address);
  };

  /** Keep the datagram until its slot. */
  private hold(src: Source, msg: Buffer, ts: number): void {
    src.held.push(msg);
    src.heldTs.push(ts);
    this.heldTotal++;
    this.queued++;
    if (src.held.length - src.head === 1) this.arm(src, this.clock.nowUs());
  }

  /**
   * Send the held packets whose slot has come (in arrival order), then wait for the next one's.
   * `floorUs`: when they were due to leave at the earliest (now, when a settling anchor releases them).
   */
  private releaseDue(src: Source, now: number, floorUs = -Infinity): void {
    const a = src.anchor;
    while (src.head < src.held.length) {
      const dueUs = slotUs(a, src.heldTs[src.head]);
      if (dueUs > now) break;
      const lagUs = now - Math.max(dueUs, floorUs);
      if (lagUs > this.maxLagUs) this.maxLagUs = lagUs;
      this.send(src.held[src.head], src.port, src.address);
      src.head++;
      this.queued--;
    }
    if (src.head === src.held.length) {
      src.held.length = 0;
      src.heldTs.length = 0;
      src.head = 0;
    }
    this.arm(src, now);
  }

  /** (Re)arm the source's timer for its oldest held packet's slot. */
  private arm(src: Source, now: number): void {
    if (src.timer !== undefined) this.clock.clearTimer(src.timer);
    src.timer = undefined;
    if (src.head === src.held.length || this.closed) return;
    const waitUs = slotUs(src.anchor, src.heldTs[src.head]) - now;
    src.timer = this.clock.setTimer(src.release, Math.max(0, waitUs) / 1000);
  }

  /** Forget what the source holds (closing). */
  private dropHeld(src: Source): void {
    this.queued -= src.held.length - src.head;
    src.held.length = 0;
    src.heldTs.length = 0;
    src.head = 0;
    if (src.timer !== undefined) this.clock.clearTimer(src.timer);
    src.timer = undefined;
  }

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
      const s: Source = {
        address,
        port: rinfo.port,
        anchor: newAnchor(timestamp, now, this.usPerTick[payloadType]),
        lastSeenUs: now,
        held: [],
        heldTs: [],
        head: 0,
        timer: undefined,
        release: () => this.releaseDue(s, this.clock.nowUs()),
      };
      src = s;
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
        if (src.lastSeenUs < cutoff && src.head === src.held.length) {
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
