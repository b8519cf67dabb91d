/**
 * The caller role in Node (no native engine): one dgram socket per call, frames sent on absolute
 * deadlines of an injectable clock (src/runtime/clock.ts), receive times taken when the datagram
 * is handled (the report says `tool.engines.caller: node`). The frame's header is written in place
 * into one buffer per port; the send times of the last RING frames are kept by frame number, so a
 * received frame finds the send time of the caller frame with its RTP timestamp without a map.
 */
import {NODE_ENGINE_INFO} from '../../engine/engine-probe.js';
import type {EngineRoleInfo} from '../../protocol/report.js';
import {createSocket, type Socket} from 'node:dgram';
import {CallerMeter} from '../../metrics/caller-meter.js';
import {newRtpPacket, parseRtp, RtpParse, RTP_HEADER_BYTES, writeRtpHeader} from '../../rtp/packet.js';
import {tsDiff} from '../../rtp/clock.js';
import {mediaSocketOptions} from '../../rtp/udp-lookup.js';
import {realClock, type Clock, type ClockTimer} from '../../runtime/clock.js';
import {CALLER_FRAME_US, CallerPortCursor, type CallerEngine, type CallerPort, type CallerStreamSetup, type PortRange} from './caller.js';
import type {FormatInfo} from './tone.js';

/** Frames whose send time a received frame can still find (≈ 20 s). */
const RING = 1024;

class NodeCallerPort implements CallerPort {
  private readonly buf: Buffer;
  private readonly sentAt = new Float64Array(RING).fill(-1);
  private readonly pkt = newRtpPacket();
  private setupDone: CallerStreamSetup | null = null;
  private frame = 0;
  private firstDeadlineUs = 0;
  private timer: ClockTimer | null = null;
  private closed = false;

  constructor(
    private readonly engine: NodeCallerEngine,
    private readonly socket: Socket,
    readonly port: number,
    readonly meter: CallerMeter,
  ) {
    this.buf = Buffer.alloc(RTP_HEADER_BYTES + engine.format.payloadBytes);
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    const t = this.engine.clock.nowUs();
    const s = this.setupDone;
    if (s === null || address !== s.remoteAddress || port !== s.remotePort) {
      this.meter.foreign++;
      return;
    }
    if (parseRtp(msg, this.pkt) !== RtpParse.Ok) {
      this.meter.malformed++;
      return;
    }
    const p = this.pkt;
    const n = tsDiff(p.timestamp, s.firstTs) / this.engine.format.samplesPerFrame;
    const slot = Number.isInteger(n) && n >= 0 && n < this.frame && this.frame - n <= RING ? n % RING : -1;
    this.meter.noteReceived(p.ssrc, p.sequence, p.timestamp, t, slot >= 0 ? this.sentAt[slot] : -1);
  }

  setup(s: CallerStreamSetup): Promise<void> {
    this.setupDone = s;
    return Promise.resolve();
  }

  start(delayUs: number): Promise<void> {
    if (this.setupDone === null || this.timer !== null || this.closed) return Promise.resolve();
    this.firstDeadlineUs = this.engine.clock.nowUs() + delayUs;
    this.arm();
    return Promise.resolve();
  }

  private arm(): void {
    const due = this.firstDeadlineUs + this.frame * CALLER_FRAME_US;
    this.timer = this.engine.clock.setTimer(() => this.sendDue(), Math.max(0, (due - this.engine.clock.nowUs()) / 1000));
  }

  /** Send every frame that is due (a late timer sends the frames it missed at once), then re-arm. */
  private sendDue(): void {
    const s = this.setupDone!;
    const f = this.engine.format;
    const now = this.engine.clock.nowUs();
    while (this.firstDeadlineUs + this.frame * CALLER_FRAME_US <= now) {
      const ts = (s.firstTs + this.frame * f.samplesPerFrame) >>> 0;
      writeRtpHeader(this.buf, {payloadType: f.payloadType, sequence: (s.firstSeq + this.frame) & 0xffff, timestamp: ts, ssrc: s.ssrc});
      const off = ((this.frame % f.frameCount) * f.payloadBytes) | 0;
      f.tone.copy(this.buf, RTP_HEADER_BYTES, off, off + f.payloadBytes);
      const tSent = this.engine.clock.nowUs();
      this.socket.send(this.buf, s.remotePort, s.remoteAddress);
      this.sentAt[this.frame % RING] = tSent;
      this.meter.noteSent(ts, tSent);
      this.frame++;
    }
    this.arm();
  }

  stop(): Promise<void> {
    if (this.timer !== null) this.engine.clock.clearTimer(this.timer);
    this.timer = null;
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    this.engine.released(this);
  }
}

export class NodeCallerEngine implements CallerEngine {
  readonly kind = 'node' as const;
  private readonly cursor: CallerPortCursor;
  private readonly open_ = new Set<NodeCallerPort>();

  constructor(
    readonly format: FormatInfo,
    private readonly bindIp: string,
    range: PortRange,
    private readonly lateThresholdMs: number,
    readonly clock: Clock = realClock,
  ) {
    this.cursor = new CallerPortCursor(range);
  }

  async open(): Promise<CallerPort> {
    const {port, value: socket} = await this.cursor.take((p) => bindSocket(this.bindIp, p));
    const cp = new NodeCallerPort(this, socket, port, new CallerMeter(this.format.clockRateHz, this.lateThresholdMs));
    this.open_.add(cp);
    return cp;
  }

  released(p: NodeCallerPort): void {
    this.cursor.release(p.port);
    this.open_.delete(p);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.open_].map((p) => p.close()));
  }

  async info(): Promise<EngineRoleInfo> {
    return {...NODE_ENGINE_INFO};
  }
}

function bindSocket(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(mediaSocketOptions('udp4'));
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, address, () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined); // send errors (ICMP unreachable) are not fatal
      resolve(socket);
    });
  });
}
