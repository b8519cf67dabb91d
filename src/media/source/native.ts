/**
 * The sim's RTP media sent and received by the native media engine (native/source.c): each
 * stream is an engine "source" (its own UDP socket in the engine, paced from absolute deadlines by
 * the engine's one timerfd, strict-RTP learning, kernel receive times). This side only turns the
 * engine's per-packet records into the same counters and histograms the Node engine keeps
 * (MediaStream.noteSent / noteRtt): send jitter = send time − deadline, rtt = kernel receive time
 * − send time of the same SSRC+seq, both taken in the engine. Forwarding between two linked
 * streams (source.link) and its fault (source.delay) run in the engine too; a forwarded record
 * gives the forward delay (send − kernel receive time of the same packet).
 */
import {engineRoleInfo} from '../../engine/engine-probe.js';
import {EngineCommandError, EngineUnavailableError, RecordFlag, RecordKind, type EngineChoice, type EngineKind, type RecordSink} from '../../engine/engine-types.js';
import {selectEngine} from '../../engine/engine-select.js';
import type {NativeEngine} from '../../engine/native-engine.js';
import {MediaEngine, type MediaPort} from './engine.js';
import {NodeMediaEngine} from './node.js';
import {FRAME_US, STRICT_RTP_PROBATION, type MediaStream} from './stream.js';
import type {SimMediaFormat} from './tone.js';

/** Socket buffers of a source (as the Node engine's sockets get by default: small, one call's media). */
const SOURCE_BUFFER_BYTES = 262_144;

/** A bound engine source: the MediaPort of a stream, and the sink of its records. */
class NativeSource implements MediaPort, RecordSink {
  stream: MediaStream | undefined;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly owner: NativeMediaEngine,
    readonly sourceId: number,
  ) {}

  onRecord(kind: RecordKind, flags: number, _pt: number, _seq: number, _ts: number, _ssrc: number, _size: number, tRecvUs: number, tSentUs: number, aux: number): void {
    const s = this.stream;
    if (s === undefined) return;
    switch (kind) {
      case RecordKind.SourceSent:
        // tRecvUs carries the frame's deadline; aux the frames skipped just before it
        s.noteSent(tSentUs, tRecvUs);
        if ((flags & RecordFlag.SendFailed) !== 0) s.sendErrors++;
        if (aux > 0) this.owner.noteSkip();
        break;
      case RecordKind.SourceReceived:
        s.packetsReceived++;
        if (tSentUs >= 0) s.noteRtt(tRecvUs - tSentUs);
        break;
      case RecordKind.SourceForeign:
        s.foreignPackets++;
        break;
      case RecordKind.SourceMalformed:
        s.malformedPackets++;
        break;
      case RecordKind.Forwarded:
        s.noteForwarded(tSentUs - tRecvUs);
        if ((flags & RecordFlag.SendFailed) !== 0) s.sendErrors++;
        break;
      default:
        break;
    }
  }

  /** The engine's counters of forwarding (from a source.stats or source.close reply). */
  noteCounters(r: Record<string, unknown>): void {
    const s = this.stream;
    if (s === undefined) return;
    if (typeof r.delayedByFault === 'number') s.delayedByFault = r.delayedByFault;
    if (typeof r.queueFull === 'number') s.queueFull = r.queueFull;
  }

  /** Close the engine's socket; resolves once its last records are in (the reply follows them). */
  closeAndWait(): Promise<void> {
    this.closing ??= this.owner.native
      .command('source.close', {sourceId: this.sourceId})
      .then(
        (r) => this.noteCounters(r),
        () => undefined, // the engine is gone: nothing left to close
      )
      .finally(() => this.owner.native.unregisterSource(this.sourceId));
    return this.closing;
  }

  close(): void {
    void this.closeAndWait();
  }
}

const payloadHex = new Map<SimMediaFormat, string>();

/** The native engine: streams are engine sources; this side keeps their figures from the records. */
export class NativeMediaEngine extends MediaEngine {
  readonly kind = 'native' as const;
  private readonly sources = new Map<MediaStream, NativeSource>();

  /** Takes ownership of `native` (closed with this engine). */
  constructor(readonly native: NativeEngine) {
    super();
  }

  noteSkip(): void {
    this.skips++;
  }

  async bind(address: string, port: number): Promise<MediaPort> {
    try {
      const r = await this.native.command('source.open', {bindIp: address, port, bufferBytes: SOURCE_BUFFER_BYTES});
      const source = new NativeSource(this, r.sourceId as number);
      this.native.registerSource(source.sourceId, source);
      return source;
    } catch (err) {
      // the same shape as a dgram bind error: core tries the next port
      if (err instanceof EngineCommandError) throw Object.assign(new Error(`bind ${err.code} ${address}:${port}`), {code: err.code});
      throw err;
    }
  }

  protected attach(stream: MediaStream, port: MediaPort): void {
    const source = port as NativeSource;
    source.stream = stream;
    this.sources.set(stream, source);
    const info = stream.info;
    let hex = payloadHex.get(info.format);
    if (hex === undefined) {
      hex = info.tone.toString('hex');
      payloadHex.set(info.format, hex);
    }
    this.native
      .command('source.setup', {
        sourceId: source.sourceId,
        remoteAddress: stream.remoteAddress,
        remotePort: stream.remotePort,
        pt: info.payloadType,
        ssrc: stream.ssrc,
        firstSeq: stream.firstSeq,
        firstTs: info.samplesPerFrame, // first timestamp: one frame (recorded)
        samplesPerFrame: info.samplesPerFrame,
        frameUs: FRAME_US,
        payloadBytes: info.payloadBytes,
        payloadHex: hex,
        probation: STRICT_RTP_PROBATION,
      })
      .catch(() => {
        stream.sendErrors++; // refused or engine gone: this stream sends nothing
      });
  }

  protected startSending(stream: MediaStream, now: number): void {
    const source = this.sources.get(stream);
    if (source === undefined) return;
    // the deadline in the engine's CLOCK_MONOTONIC µs (nowUs() base + offset)
    const startAtUs = Math.round(stream.firstDeadlineUs(now) + this.native.offsetUs);
    const args: Record<string, number> = {sourceId: source.sourceId, startAtUs};
    if (!stream.startedOnce && stream.holdFirstUs > 0) args.holdFirstUs = Math.min(10_000_000, stream.holdFirstUs);
    this.native.command('source.start', args).catch(() => {
      stream.sendErrors++;
    });
  }

  protected stopSending(stream: MediaStream): void {
    const source = this.sources.get(stream);
    if (source === undefined) return;
    this.native.command('source.stop', {sourceId: source.sourceId}).catch(() => undefined);
  }

  protected async release(stream: MediaStream): Promise<void> {
    const source = this.sources.get(stream);
    if (source === undefined) return;
    this.sources.delete(stream);
    await source.closeAndWait();
  }

  protected startForwarding(from: MediaStream, to: MediaStream, quantilesUs: string): void {
    const a = this.sources.get(from);
    const b = this.sources.get(to);
    if (a === undefined || b === undefined) return;
    this.native.command('source.link', {sourceId: a.sourceId, toSourceId: b.sourceId, delayQuantilesUs: quantilesUs}).catch(() => {
      from.sendErrors++; // refused or engine gone: nothing is forwarded
    });
  }

  protected stopForwarding(from: MediaStream): void {
    const a = this.sources.get(from);
    if (a === undefined) return;
    this.native.command('source.unlink', {sourceId: a.sourceId}).catch(() => undefined);
  }

  protected delayForwarding(from: MediaStream, extraUs: number, durationUs: number): void {
    const a = this.sources.get(from);
    if (a === undefined) return;
    const us = (v: number): number => Math.min(60_000_000, Math.max(0, Math.round(v)));
    this.native.command('source.delay', {sourceId: a.sourceId, extraUs: us(extraUs), durationUs: Math.max(0, Math.round(durationUs))}).catch(() => undefined);
  }

  /** The engine's delayedByFault / queueFull of every source that forwards, and how the engine measures. */
  override async refreshStats(): Promise<void> {
    this.engineInfo = await engineRoleInfo(this.native);
    const linked = [...this.sources.values()].filter((x) => x.stream?.forwardDirection != null);
    await Promise.all(
      linked.map((x) =>
        this.native.command('source.stats', {sourceId: x.sourceId}).then(
          (r) => x.noteCounters(r),
          () => undefined, // closed meanwhile: its close reply has the figures
        ),
      ),
    );
  }

  protected async shutdown(): Promise<void> {
    await this.native.close();
  }
}

export interface SelectedMediaEngine {
  media: MediaEngine;
  kind: EngineKind;
  /** Why `auto` fell back to the Node engine (null otherwise). */
  fallbackReason: string | null;
}

/** The sim's media engine for --engine / RTPSLA_ENGINE (EngineUnavailableError for `native` when it cannot run). */
export async function createMediaEngine(choice: EngineChoice): Promise<SelectedMediaEngine> {
  const selected = await selectEngine(choice, 'sim');
  if (selected.native === null) return {media: new NodeMediaEngine(), kind: 'node', fallbackReason: selected.fallbackReason};
  // an engine built before sources existed answers "unknown command" (EINVAL), a current one ENOENT
  const probe = await selected.native.command('source.stats', {sourceId: 0}).catch((err: unknown) => err);
  if (probe instanceof EngineCommandError && probe.code === 'ENOENT') return {media: new NativeMediaEngine(selected.native), kind: 'native', fallbackReason: null};
  await selected.native.close();
  const reason = 'the built engine has no sim sources (built from older sources): run npm install';
  if (choice === 'native') throw new EngineUnavailableError(reason);
  return {media: new NodeMediaEngine(), kind: 'node', fallbackReason: reason};
}
