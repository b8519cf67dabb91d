/**
 * The sim's RTP media in pure Node: one dgram socket per externalMedia channel (bound on
 * UNICASTRTP_LOCAL_PORT, like chan_rtp), one scheduler for all streams.
 *
 * Two engines share everything but the packet I/O: `MediaEngine` (engine.ts) keeps the streams,
 * their start/stop, counters, histograms and stats; `NodeMediaEngine` (here) sends and receives
 * with dgram sockets and one timer of an injectable Clock (src/runtime/clock.ts),
 * `NativeMediaEngine` (native.ts) with the native media engine's sources (native/source.c, the
 * same pacing in C with kernel receive times).
 *
 * Pacing is from absolute deadlines (deadline_n = start + n × 20 ms, never drifting): a single
 * timer wakes for the earliest deadline of a min-heap of running streams and sends every frame
 * that is due (MediaStream in stream.ts writes only the header fields of preallocated packets).
 * Nothing is allocated by our code and nothing is logged per packet (Node's dgram still
 * allocates its own send request).
 */
import {createSocket, type Socket} from 'node:dgram';
import {mediaSocketOptions} from '../../rtp/udp-lookup.js';
import {IndexedMinHeap} from '../../runtime/indexed-heap.js';
import {realClock, type Clock, type ClockTimer} from '../../runtime/clock.js';
import {DelayDistribution} from './delay-dist.js';
import {MediaEngine, type MediaPort} from './engine.js';
import {Forwarder} from './forwarder.js';
import {FRAME_US, MAX_CATCH_UP_FRAMES, type MediaStream} from './stream.js';

export * from './stream.js';
export * from './engine.js';

/** Bind a UDP socket on `address:port`; rejects on EADDRINUSE etc. */
export function bindUdp(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(mediaSocketOptions('udp4'));
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({port, address, exclusive: true}, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** The pure-Node engine: dgram sockets, one timer for the earliest deadline of a min-heap of streams. */
export class NodeMediaEngine extends MediaEngine {
  readonly kind = 'node' as const;
  private readonly heap = new IndexedMinHeap<MediaStream>((s) => s.sendAtUs);
  private timer: ClockTimer | undefined;
  private timerAtUs = Infinity;
  private readonly onTimer = (): void => this.tick();
  private pass = 0;

  /** `uniform` draws the forwarding delays' quantiles (Math.random unless a test drives it). */
  constructor(
    clock: Clock = realClock,
    private readonly drawUniform: () => number = Math.random,
  ) {
    super(clock);
  }

  protected startForwarding(from: MediaStream, to: MediaStream, quantilesUs: string): void {
    from.forwarder?.close();
    from.forwarder = new Forwarder(from, to, DelayDistribution.parse(quantilesUs), this.clock, this.drawUniform);
  }

  protected stopForwarding(from: MediaStream): void {
    from.forwarder?.close();
    from.forwarder = undefined;
  }

  protected delayForwarding(from: MediaStream, extraUs: number, durationUs: number): void {
    from.forwarder?.delay(extraUs, durationUs);
  }

  override async sendFromStreams(datagrams: readonly Buffer[]): Promise<number> {
    const sends: Array<Promise<boolean>> = [];
    for (const s of this.streams.values()) {
      const socket = s.socket;
      if (socket === undefined || s.forwardDirection === 'toRelay') continue;
      for (const d of datagrams) sends.push(new Promise((r) => socket.send(d, s.remotePort, s.remoteAddress, (err) => r(!err))));
    }
    return (await Promise.all(sends)).filter(Boolean).length;
  }

  bind(address: string, port: number): Promise<Socket> {
    return bindUdp(address, port);
  }

  protected attach(stream: MediaStream, port: MediaPort): void {
    const socket = port as Socket;
    stream.socket = socket;
    socket.on('message', (msg, rinfo) => stream.onMessage(msg, rinfo.address, rinfo.port, this.clock.nowUs()));
    socket.on('error', () => {
      stream.sendErrors++;
    });
  }

  protected startSending(s: MediaStream, now: number): void {
    s.start(now);
    this.heap.push(s);
    this.arm();
  }

  protected stopSending(s: MediaStream): void {
    this.heap.remove(s);
    if (this.heap.size === 0) this.arm();
  }

  protected async release(s: MediaStream): Promise<void> {
    const socket = s.socket;
    s.socket = undefined;
    if (socket) await new Promise<void>((r) => socket.close(() => r()));
  }

  protected shutdown(): Promise<void> {
    this.disarm();
    return Promise.resolve();
  }

  // ---- scheduler ----

  private tick(): void {
    this.timer = undefined;
    this.timerAtUs = Infinity;
    const heap = this.heap;
    const clock = this.clock;
    // one clock reading per pass: a stream is sent at most MAX_CATCH_UP_FRAMES + 1 times in a
    // pass (then it skips ahead), which its buffer rotation (MIN_PACKET_BUFFERS) allows for
    // (more in the catch-up burst after a first frames' hold: bounded by the buffer rotation,
    // the rest goes in the next pass)
    const now = clock.nowUs();
    const pass = ++this.pass;
    for (let s = heap.peek(); s !== undefined && s.sendAtUs <= now; s = heap.peek()) {
      if (s.passId !== pass) {
        s.passId = pass;
        s.passSends = 0;
      }
      if (++s.passSends >= s.bufferCount) {
        this.arm(true);
        return;
      }
      if (now - s.nextDeadlineUs > MAX_CATCH_UP_FRAMES * FRAME_US + s.holdAllowanceUs) {
        s.skipTo(now);
        this.skips++;
      } else s.sendDue(clock.nowUs());
      heap.update(s);
    }
    this.arm();
  }

  /** Timer for the earliest send (`now`: at once, the rest of a burst). */
  private arm(now = false): void {
    const top = this.heap.peek();
    if (this.closed || top === undefined) {
      this.disarm();
      return;
    }
    const at = now ? this.clock.nowUs() : top.sendAtUs;
    if (this.timer !== undefined && this.timerAtUs <= at) return;
    this.disarm();
    const delayMs = Math.max(0, (at - this.clock.nowUs()) / 1000);
    this.timerAtUs = at;
    this.timer = this.clock.setTimer(this.onTimer, delayMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAtUs = Infinity;
  }
}
