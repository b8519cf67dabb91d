/**
 * One externalMedia stream of the sim (either engine): its identity (port, external_host, SSRC,
 * first sequence number), its counters and histograms, and, for the Node engine, the packet
 * work: preallocated packet buffers holding the precomputed tone frames (a send writes only the
 * header fields), pacing from absolute deadlines, and what comes back to the port.
 *
 * What comes back is accepted from the learned source (external_host at first; like Asterisk's
 * strictrtp a new source is learned after 4 consecutive packets from it, which are counted as
 * foreign). A packet back whose SSRC and sequence number match one we sent gives one round-trip
 * sample (send time of that seq → receive time).
 */
import type {Socket} from 'node:dgram';
import {LatencyHistogram, type PercentilesWithCount} from '../../metrics/histogram.js';
import {newRtpPacket, parseRtp, RtpParse, RTP_HEADER_BYTES} from '../../rtp/packet.js';
import {SendRing} from '../../rtp/send-ring.js';
import {FRAME_MS} from '../../rtp/formats.js';
import {formatInfo, type FormatInfo, type SimMediaFormat} from './tone.js';

/**
 * Which way a forwarded packet goes in the sim's RTP-caller bridge: `toRelay` = caller → sim →
 * relay (what the caller's channel receives), `toCaller` = relay → sim → caller.
 */
export type ForwardDirection = 'toRelay' | 'toCaller';

/** The Node engine's queue of one forwarding direction (forwarder.ts). */
export interface ForwardQueue {
  /** A packet the stream received from its peer at `tRecvUs`. Hot path. */
  push(msg: Buffer, tRecvUs: number): void;
  /** For `durationUs` from now, packets received get `extraUs` more delay (a fault). */
  delay(extraUs: number, durationUs: number): void;
  /** Ends the link: what is still queued is dropped. */
  close(): void;
}

export const FRAME_US = FRAME_MS * 1000;
/** First packet this long after the stream becomes active (recorded: 10 ms after addChannel). */
export const FIRST_PACKET_DELAY_US = 10_000;
/** Behind by more than this many frames: skip ahead (timestamp jump + marker) instead of bursting. */
export const MAX_CATCH_UP_FRAMES = 8;
/** Packets from a new source needed before it is learned (strictrtp probation). */
export const STRICT_RTP_PROBATION = 4;
const SEND_RING = 1024; // ≈ 20 s of send times per stream, by sequence number
/**
 * Each stream owns one packet buffer per frame of the tone period (25), payload written once:
 * a send only writes the header. The rotation also matters because a send libuv cannot complete
 * at once (socket buffer full) is queued with a reference to the buffer, so a stream that sends
 * several frames in one scheduler pass (catching up, at most MAX_CATCH_UP_FRAMES + 1) must not
 * reuse a buffer within that pass.
 */
const MIN_PACKET_BUFFERS = MAX_CATCH_UP_FRAMES + 2;

/** Percentiles in µs (same shape as the report's ms percentiles, plus the count). */
export type PercentilesUs = PercentilesWithCount;

export interface MediaChannelStats {
  id: string;
  name: string;
  /** UNICASTRTP_LOCAL_PORT: the sim's own port. */
  port: number;
  localAddress: string;
  /** Where the sim sends (external_host as given). */
  external_host: string;
  format: string;
  live: boolean;
  /** True while frames are being sent. */
  sending: boolean;
  packetsSent: number;
  packetsReceived: number;
  foreignPackets: number;
  malformedPackets: number;
  sendErrors: number;
  /** Round trip per packet (send of seq → receive of the same seq), µs. */
  rttUs: PercentilesUs;
  /** Actual send time − absolute deadline, µs. */
  sendJitterUs: PercentilesUs;
  ssrc: number;
  firstSeq: number;
  /** Set while this channel's received packets are forwarded to its bridge peer. */
  forwardDirection: ForwardDirection | null;
  /** Packets received here and sent on out of the peer channel. */
  forwarded: number;
  /** Forwarded at once because the link's queue was full (or the datagram too large). */
  queueFull: number;
  /** Forwarded with a forwardDelay fault's extra delay. */
  delayedByFault: number;
  /** The hold of the first frames given by the lateFirstPackets fault (µs, 0 = none). */
  holdFirstUs: number;
}

export interface MediaStreamOptions {
  id: string;
  name: string;
  format: SimMediaFormat;
  localAddress: string;
  port: number;
  remoteAddress: string;
  remotePort: number;
  externalHost: string;
  ssrc: number;
  firstSeq: number;
  /** Start phase offset (µs, may be negative) added to every start: see src/sim/phase.ts. */
  startOffsetUs?: number;
}

export class MediaStream {
  readonly id: string;
  readonly name: string;
  readonly info: FormatInfo;
  readonly localAddress: string;
  readonly port: number;
  readonly externalHost: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly ssrc: number;
  readonly firstSeq: number;
  readonly startOffsetUs: number;
  socket: Socket | undefined;

  /** Wanted by the bridge topology (the engine may still hold it stopped). */
  wanted = false;
  running = false;
  heapIndex = -1;
  nextDeadlineUs = 0;
  /** No frame before this (µs): the first frames' hold (lateFirstPackets fault); 0 = none. */
  holdUntilUs = 0;
  /** The first catch-up after a hold may be this much further behind before it skips (µs). */
  holdAllowanceUs = 0;
  /** The hold given to this stream's first frames (µs; decided once, at its first start). */
  holdFirstUs = 0;
  /** True once the stream has been started (the hold applies to the first start only). */
  startedOnce = false;
  /** Node engine: frames sent in the current scheduler pass (bounded by the buffer rotation). */
  passSends = 0;
  passId = -1;

  /** The stream this one's received packets are forwarded out of (linked), if any. */
  linkedTo: MediaStream | undefined;
  forwardDirection: ForwardDirection | null = null;
  /** Node engine: the queue of that forwarding direction. */
  forwarder: ForwardQueue | undefined;
  forwarded = 0;
  queueFull = 0;
  delayedByFault = 0;
  /** The engine's per-direction histogram of forward delays (receive → send, µs). */
  aggForward: LatencyHistogram | undefined;

  /** bufs[i] carries tone frame i % frameCount. */
  private readonly bufs: Buffer[];
  private seq: number;
  private ts: number;
  private frameIndex = 0;
  private marker = false;
  private sentAny = false;
  private lastDeadlineUs = 0;
  private lastTs = 0;
  private readonly sent = new SendRing(SEND_RING);
  private readonly pkt = newRtpPacket();

  private srcAddress: string;
  private srcPort: number;
  private candAddress = '';
  private candPort = -1;
  private candCount = 0;

  packetsSent = 0;
  packetsReceived = 0;
  foreignPackets = 0;
  malformedPackets = 0;
  sendErrors = 0;
  readonly rtt = LatencyHistogram.perStream();
  readonly sendJitter = LatencyHistogram.perStream();
  /** The engine's run-wide histograms (3 digits); every value goes to both. */
  aggRtt: LatencyHistogram | undefined;
  aggJitter: LatencyHistogram | undefined;

  constructor(o: MediaStreamOptions) {
    this.id = o.id;
    this.name = o.name;
    this.info = formatInfo(o.format);
    this.localAddress = o.localAddress;
    this.port = o.port;
    this.externalHost = o.externalHost;
    this.remoteAddress = o.remoteAddress;
    this.remotePort = o.remotePort;
    this.ssrc = o.ssrc >>> 0;
    this.firstSeq = o.firstSeq & 0xffff;
    this.startOffsetUs = o.startOffsetUs ?? 0;
    this.seq = this.firstSeq;
    this.ts = this.info.samplesPerFrame; // first timestamp: one frame (recorded)
    this.srcAddress = o.remoteAddress;
    this.srcPort = o.remotePort;
    this.bufs = [];
    const info = this.info;
    const count = Math.ceil(MIN_PACKET_BUFFERS / info.frameCount) * info.frameCount;
    for (let i = 0; i < count; i++) {
      const b = Buffer.alloc(RTP_HEADER_BYTES + info.payloadBytes);
      b[0] = 0x80;
      b.writeUInt32BE(this.ssrc, 8);
      const off = (i % info.frameCount) * info.payloadBytes;
      info.tone.copy(b, RTP_HEADER_BYTES, off, off + info.payloadBytes);
      this.bufs.push(b);
    }
  }

  /** Deadline of the first frame of a start at `now`: FIRST_PACKET_DELAY_US + the phase offset. */
  firstDeadlineUs(now: number): number {
    return now + FIRST_PACKET_DELAY_US + this.startOffsetUs;
  }

  /** One frame sent at `tSentUs` for the deadline `dueUs` (either engine). */
  noteSent(tSentUs: number, dueUs: number): void {
    const jitter = tSentUs - dueUs;
    this.sendJitter.recordUs(jitter);
    this.aggJitter?.recordUs(jitter);
    this.packetsSent++;
  }

  /** One round-trip sample: a frame sent came back (either engine). */
  noteRtt(rttUs: number): void {
    this.rtt.recordUs(rttUs);
    this.aggRtt?.recordUs(rttUs);
  }

  /** Number of packet buffers: how many frames one scheduler pass may send (Node engine). */
  get bufferCount(): number {
    return this.bufs.length;
  }

  /** When the next frame may go: its deadline, or the end of the first frames' hold. */
  get sendAtUs(): number {
    return this.nextDeadlineUs < this.holdUntilUs ? this.holdUntilUs : this.nextDeadlineUs;
  }

  /** A forwarded packet went out of the peer stream: receive → send took `delayUs`. */
  noteForwarded(delayUs: number): void {
    this.forwarded++;
    this.aggForward?.recordUs(delayUs);
  }

  /**
   * Sends a packet `from` received (Node engine's forwarding) with this stream's SSRC and next
   * sequence number; timestamp, payload type, marker and payload as received. Hot path.
   */
  sendForwarded(b: Buffer, len: number, from: MediaStream, tRecvUs: number, tSentUs: number): void {
    b.writeUInt16BE(this.seq, 2);
    b.writeUInt32BE(this.ssrc, 8);
    const socket = this.socket;
    if (socket !== undefined) {
      try {
        socket.send(b, 0, len, this.remotePort, this.remoteAddress);
      } catch {
        from.sendErrors++;
      }
    }
    this.seq = (this.seq + 1) & 0xffff;
    from.noteForwarded(tSentUs - tRecvUs);
  }

  /** Starts the deadline clock (Node engine; first frame at firstDeadlineUs(now), after any hold). */
  start(now: number): void {
    this.running = true;
    this.nextDeadlineUs = this.firstDeadlineUs(now);
    if (!this.startedOnce && this.holdFirstUs > 0) {
      this.holdUntilUs = this.nextDeadlineUs + this.holdFirstUs;
      this.holdAllowanceUs = this.holdFirstUs;
    }
    this.startedOnce = true;
    if (this.sentAny) {
      // resumed after a pause: seq continues, ts jumps by the wall-clock gap, marker set (probe B)
      const frames = Math.max(1, Math.round((this.nextDeadlineUs - this.lastDeadlineUs) / FRAME_US));
      this.ts = (this.lastTs + frames * this.info.samplesPerFrame) >>> 0;
      this.marker = true;
    }
  }

  /** Sends the frame due at `nextDeadlineUs` (now is `tSentUs`) and advances the deadline. Hot path. */
  sendDue(tSentUs: number): void {
    const b = this.bufs[this.frameIndex];
    const info = this.info;
    b[1] = (this.marker ? 0x80 : 0) | info.payloadType;
    b.writeUInt16BE(this.seq, 2);
    b.writeUInt32BE(this.ts, 4);
    const socket = this.socket;
    if (socket !== undefined) {
      try {
        socket.send(b, this.remotePort, this.remoteAddress);
      } catch {
        this.sendErrors++;
      }
    }
    this.sent.record(this.seq, tSentUs);
    this.noteSent(tSentUs, this.nextDeadlineUs);
    this.sentAny = true;
    this.marker = false;
    this.lastDeadlineUs = this.nextDeadlineUs;
    this.lastTs = this.ts;
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + info.samplesPerFrame) >>> 0;
    if (++this.frameIndex === this.bufs.length) this.frameIndex = 0;
    this.nextDeadlineUs += FRAME_US;
    if (this.holdAllowanceUs > 0 && this.nextDeadlineUs > tSentUs) this.holdAllowanceUs = 0; // caught up
  }

  /** Far behind (event loop stalled): skip the missed frames like a timestamp jump. */
  skipTo(now: number): void {
    const frames = Math.floor((now - this.nextDeadlineUs) / FRAME_US) + 1;
    this.nextDeadlineUs += frames * FRAME_US;
    this.ts = (this.ts + frames * this.info.samplesPerFrame) >>> 0;
    this.marker = true;
  }

  /** A datagram arrived on the stream's port at `tRecvUs`. Hot path. */
  onMessage(msg: Buffer, address: string, port: number, tRecvUs: number): void {
    if (port !== this.srcPort || address !== this.srcAddress) {
      if (port === this.candPort && address === this.candAddress) this.candCount++;
      else {
        this.candAddress = address;
        this.candPort = port;
        this.candCount = 1;
      }
      if (this.candCount < STRICT_RTP_PROBATION) {
        this.foreignPackets++;
        return;
      }
      this.srcAddress = address;
      this.srcPort = port;
      this.candPort = -1;
      this.candCount = 0;
    }
    const pkt = this.pkt;
    if (parseRtp(msg, pkt) !== RtpParse.Ok) {
      this.malformedPackets++;
      return;
    }
    this.packetsReceived++;
    if (this.forwarder !== undefined) this.forwarder.push(msg, tRecvUs);
    if (pkt.ssrc !== this.ssrc) return;
    const slot = this.sent.take(pkt.sequence);
    if (slot < 0) return;
    this.noteRtt(tRecvUs - this.sent.sentAtUs(slot));
  }

  stats(live: boolean): MediaChannelStats {
    return {
      id: this.id,
      name: this.name,
      port: this.port,
      localAddress: this.localAddress,
      external_host: this.externalHost,
      format: this.info.format,
      live,
      sending: this.running,
      packetsSent: this.packetsSent,
      packetsReceived: this.packetsReceived,
      foreignPackets: this.foreignPackets,
      malformedPackets: this.malformedPackets,
      sendErrors: this.sendErrors,
      rttUs: this.rtt.percentilesUs(),
      sendJitterUs: this.sendJitter.percentilesUs(),
      ssrc: this.ssrc,
      firstSeq: this.firstSeq,
      forwardDirection: this.forwardDirection,
      forwarded: this.forwarded,
      queueFull: this.queueFull,
      delayedByFault: this.delayedByFault,
      holdFirstUs: this.holdFirstUs,
    };
  }
}
