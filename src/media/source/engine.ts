/**
 * The streams of one sim and everything both media engines share (the Node engine in node.ts,
 * the native one in native.ts): start/stop as the bridge topology and the stopMedia fault want,
 * counters, per-stream and run-wide histograms, stats; forwarding between two linked streams
 * (the RTP-caller bridge) and the hold of a stream's first frames (lateFirstPackets fault).
 */
import {NODE_ENGINE_INFO} from '../../engine/engine-probe.js';
import type {EngineRoleInfo} from '../../protocol/report.js';
import {LatencyHistogram} from '../../metrics/histogram.js';
import type {EngineKind} from '../../engine/engine-types.js';
import {realClock, type Clock} from '../../runtime/clock.js';
import {ForwardAccounts, type ForwardTotals} from './forward-stats.js';
import type {ForwardDirection, MediaChannelStats, MediaStream} from './stream.js';

/** Fault switch: this share of the streams that start sending get their first frames held. */
export interface LateFirstPacketsRule {
  /** Share of streams held (0..1). */
  share: number;
  /** Each held stream's hold is a uniform draw in (minUs, maxUs] (exactly maxUs when they are equal). */
  maxUs: number;
  minUs: number;
}

export interface LateFirstPacketsCounts {
  streamsHeld: number;
  maxHoldUs: number;
}

export interface MediaTotals {
  streamsCreated: number;
  streamsLive: number;
  streamsSending: number;
  packetsSent: number;
  packetsReceived: number;
  foreignPackets: number;
  malformedPackets: number;
  sendErrors: number;
  /** Times the scheduler skipped frames because it was too far behind. */
  skips: number;
  /** Forwarding between linked streams, per direction. */
  forwarded: ForwardTotals;
}

/** Keeps finished channels' figures (without their histograms) for /_sim/stats. */
const MAX_FINISHED = 10_000;

/** A stream's bound RTP port before and while the engine uses it (a dgram socket, or an engine source). */
export interface MediaPort {
  close(): void;
}

/**
 * The streams of one sim and everything both engines share: start/stop as the bridge topology
 * and the stopMedia fault want, counters, per-stream and run-wide histograms, stats. Subclasses
 * do the packet I/O: bind a port, start and stop sending, release the port.
 */
export abstract class MediaEngine {
  /** Which engine sends and receives the packets. */
  abstract readonly kind: EngineKind;
  /** How it measures (scheduling, pinning, timestamps), as of the last refreshStats(). */
  engineInfo: EngineRoleInfo = {...NODE_ENGINE_INFO};
  protected readonly streams = new Map<string, MediaStream>();
  private readonly finished: MediaChannelStats[] = [];
  private stopped = false;
  protected closed = false;
  /** Time and timers for the schedulers (a driven clock in tests). */
  constructor(protected readonly clock: Clock = realClock) {}

  private readonly aggRtt = new LatencyHistogram();
  private readonly aggJitter = new LatencyHistogram();
  private readonly retired = {packetsSent: 0, packetsReceived: 0, foreignPackets: 0, malformedPackets: 0, sendErrors: 0};
  private created = 0;
  /** Times a stream skipped frames because it was too far behind. */
  protected skips = 0;
  private readonly fwd = new ForwardAccounts();
  private lateFirst: LateFirstPacketsRule | null = null;
  private uniform: () => number = Math.random;
  readonly lateFirstCounts: LateFirstPacketsCounts = {streamsHeld: 0, maxHoldUs: 0};

  /** Bind an RTP port on `address:port` (rejects on EADDRINUSE etc.). */
  abstract bind(address: string, port: number): Promise<MediaPort>;
  /** The stream now owns `port` (from bind()). */
  protected abstract attach(stream: MediaStream, port: MediaPort): void;
  /** Start sending (first frame at stream.firstDeadlineUs(now)). */
  protected abstract startSending(stream: MediaStream, now: number): void;
  protected abstract stopSending(stream: MediaStream): void;
  /** Close the stream's port; resolves when its figures are complete. */
  protected abstract release(stream: MediaStream): Promise<void>;
  /** Free what the engine holds once every stream is gone. */
  protected abstract shutdown(): Promise<void>;
  /** Forward what `from` receives out of `to` (delay drawn from "q0,…,qN" µs). */
  protected abstract startForwarding(from: MediaStream, to: MediaStream, quantilesUs: string): void;
  protected abstract stopForwarding(from: MediaStream): void;
  /** Fault: for `durationUs` from now, what `from` forwards gets `extraUs` more delay. */
  protected abstract delayForwarding(from: MediaStream, extraUs: number, durationUs: number): void;

  /**
   * The sim's malformedMedia fault: send each of `datagrams` from every live stream's own port to
   * its remote (not from the caller side of an RTP-caller bridge); resolves with how many were
   * sent. Only an engine whose sockets live in this process can; the others refuse.
   */
  sendFromStreams(_datagrams: readonly Buffer[]): Promise<number> {
    return Promise.reject(new Error(`the ${this.kind} media engine cannot send from its streams' ports (start the sim with --engine node)`));
  }

  /** Brings figures kept in the engine up to date (the native engine's per-source counters). */
  refreshStats(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * What `from` receives from its peer leaves from `to` (its SSRC and sequence numbers), after a
   * delay drawn from `quantilesUs`; counted under `direction`. Linking again to the same target is
   * a no-op.
   */
  link(from: MediaStream, to: MediaStream, direction: ForwardDirection, quantilesUs: string): void {
    if (from.linkedTo === to || this.closed) return;
    if (from.linkedTo !== undefined) this.unlink(from);
    from.linkedTo = to;
    from.forwardDirection = direction;
    from.aggForward = this.fwd.histogram(direction);
    this.startForwarding(from, to, quantilesUs);
  }

  /** Ends `from`'s forwarding (what is still queued is dropped). */
  unlink(from: MediaStream): void {
    if (from.linkedTo === undefined) return;
    from.linkedTo = undefined;
    this.stopForwarding(from);
  }

  /** Fault switch on a linked stream (see delayForwarding). */
  delayForward(from: MediaStream, extraUs: number, durationUs: number): void {
    if (from.linkedTo !== undefined) this.delayForwarding(from, extraUs, durationUs);
  }

  /** Fault switch lateFirstPackets (null = off); `uniform` draws in [0, 1). */
  setLateFirstPackets(rule: LateFirstPacketsRule | null, uniform: () => number): void {
    this.lateFirst = rule;
    this.uniform = uniform;
  }

  /** At a stream's first start: held (with a share's chance) for a uniform draw in (0, maxUs]. */
  private decideHold(s: MediaStream): void {
    const rule = this.lateFirst;
    if (s.startedOnce || rule === null || rule.share <= 0 || this.uniform() >= rule.share) return;
    const hold = Math.max(1, Math.round(rule.minUs + (1 - this.uniform()) * (rule.maxUs - rule.minUs)));
    s.holdFirstUs = hold;
    this.lateFirstCounts.streamsHeld++;
    if (hold > this.lateFirstCounts.maxHoldUs) this.lateFirstCounts.maxHoldUs = hold;
  }

  add(stream: MediaStream, port: MediaPort): void {
    stream.aggRtt = this.aggRtt;
    stream.aggJitter = this.aggJitter;
    this.streams.set(stream.id, stream);
    this.created++;
    this.attach(stream, port);
  }

  get(id: string): MediaStream | undefined {
    return this.streams.get(id);
  }

  /** externalMedia streams that exist now (sending or not). */
  get liveStreams(): number {
    return this.streams.size;
  }

  /** The bridge topology says whether this stream should be sending. */
  setWanted(stream: MediaStream, wanted: boolean): void {
    stream.wanted = wanted;
    this.apply(stream);
  }

  /** Fault switch: hold every stream silent (true) or let them run again (false). */
  setStopped(stopped: boolean): void {
    this.stopped = stopped;
    for (const s of this.streams.values()) this.apply(s);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private apply(s: MediaStream): void {
    const run = s.wanted && !this.stopped && !this.closed;
    if (run && !s.running) {
      s.running = true;
      this.decideHold(s);
      this.startSending(s, this.clock.nowUs());
      s.startedOnce = true;
    } else if (!run && s.running) {
      s.running = false;
      this.stopSending(s);
    }
  }

  /** Stops the stream, closes its port, folds its figures into the totals. */
  async destroy(id: string): Promise<void> {
    const s = this.streams.get(id);
    if (!s) return;
    this.streams.delete(id);
    const peer = s.linkedTo;
    if (peer !== undefined && peer.linkedTo === s) this.unlink(peer);
    this.unlink(s);
    if (s.running) {
      s.running = false;
      this.stopSending(s);
    }
    await this.release(s);
    this.retire(s);
  }

  private retire(s: MediaStream): void {
    this.retired.packetsSent += s.packetsSent;
    this.retired.packetsReceived += s.packetsReceived;
    this.retired.foreignPackets += s.foreignPackets;
    this.retired.malformedPackets += s.malformedPackets;
    this.retired.sendErrors += s.sendErrors;
    this.fwd.retire(s);
    this.finished.push(s.stats(false));
    if (this.finished.length > MAX_FINISHED) this.finished.splice(0, this.finished.length - MAX_FINISHED);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.streams.keys()].map((id) => this.destroy(id)));
    await this.shutdown();
  }

  totals(): MediaTotals {
    const t = {...this.retired};
    let sending = 0;
    for (const s of this.streams.values()) {
      t.packetsSent += s.packetsSent;
      t.packetsReceived += s.packetsReceived;
      t.foreignPackets += s.foreignPackets;
      t.malformedPackets += s.malformedPackets;
      t.sendErrors += s.sendErrors;
      if (s.running) sending++;
    }
    return {
      streamsCreated: this.created, streamsLive: this.streams.size, streamsSending: sending, ...t, skips: this.skips,
      forwarded: this.fwd.totals(this.streams.values()),
    };
  }

  /** Live channels first, then finished ones (most recent last). */
  channelStats(): MediaChannelStats[] {
    const live = [...this.streams.values()].map((s) => s.stats(true));
    return [...live, ...this.finished];
  }

  /** Run-wide histograms over every stream ever created (3 significant digits). */
  merged(): {rtt: LatencyHistogram; sendJitter: LatencyHistogram} {
    return {rtt: this.aggRtt, sendJitter: this.aggJitter};
  }
}
