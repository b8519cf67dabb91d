/**
 * The caller role in the native media engine (native/PROTOCOL.md, sources): each call's port is an
 * engine source (`source.open` in the caller range, `source.setup` with `matchBy: "ts"` so every
 * frame received carries the send time of the caller frame with its RTP timestamp, `source.start`
 * at the call's phase). Its records (kind 6 sent, kind 7 received with the kernel receive time) go
 * straight into the call's CallerMeter.
 */
import {engineRoleInfo} from '../../engine/engine-probe.js';
import type {EngineRoleInfo} from '../../protocol/report.js';
import {RecordKind, type RecordSink} from '../../engine/engine-types.js';
import type {NativeEngine} from '../../engine/native-engine.js';
import {CallerMeter} from '../../metrics/caller-meter.js';
import {CALLER_FRAME_US, CallerPortCursor, type CallerEngine, type CallerPort, type CallerStreamSetup, type PortRange} from './caller.js';
import type {FormatInfo} from './tone.js';

const SOURCE_BUFFER_BYTES = 262_144;

class NativeCallerPort implements CallerPort, RecordSink {
  private closing: Promise<void> | null = null;

  constructor(
    private readonly engine: NativeCallerEngine,
    readonly sourceId: number,
    readonly port: number,
    readonly meter: CallerMeter,
  ) {}

  onRecord(kind: RecordKind, _flags: number, _pt: number, seq: number, ts: number, ssrc: number, _size: number, tRecvUs: number, tSentUs: number): void {
    if (kind === RecordKind.SourceSent) this.meter.noteSent(ts, tSentUs);
    else if (kind === RecordKind.SourceReceived) this.meter.noteReceived(ssrc, seq, ts, tRecvUs, tSentUs);
    else if (kind === RecordKind.SourceForeign) this.meter.foreign++;
    else if (kind === RecordKind.SourceMalformed) this.meter.malformed++;
  }

  async setup(s: CallerStreamSetup): Promise<void> {
    const f = this.engine.format;
    await this.engine.native.command('source.setup', {
      sourceId: this.sourceId,
      remoteAddress: s.remoteAddress,
      remotePort: s.remotePort,
      pt: f.payloadType,
      ssrc: s.ssrc,
      firstSeq: s.firstSeq,
      firstTs: s.firstTs,
      samplesPerFrame: f.samplesPerFrame,
      frameUs: CALLER_FRAME_US,
      payloadBytes: f.payloadBytes,
      payloadHex: this.engine.payloadHex,
      matchBy: 'ts',
    });
  }

  async start(delayUs: number): Promise<void> {
    await this.engine.native.command('source.start', {sourceId: this.sourceId, delayUs: Math.max(0, Math.round(delayUs))});
  }

  async stop(): Promise<void> {
    await this.engine.native.command('source.stop', {sourceId: this.sourceId}).catch(() => undefined);
  }

  close(): Promise<void> {
    this.closing ??= this.engine.native
      .command('source.close', {sourceId: this.sourceId})
      .then(
        () => undefined,
        () => undefined, // the engine is gone: nothing left to close
      )
      .finally(() => this.engine.released(this));
    return this.closing;
  }
}

export class NativeCallerEngine implements CallerEngine {
  readonly kind = 'native' as const;
  readonly payloadHex: string;
  private readonly cursor: CallerPortCursor;
  private readonly open_ = new Set<NativeCallerPort>();

  /** Takes ownership of `native` (closed with this engine). */
  constructor(
    readonly native: NativeEngine,
    readonly format: FormatInfo,
    private readonly bindIp: string,
    range: PortRange,
    private readonly lateThresholdMs: number,
  ) {
    this.payloadHex = format.tone.toString('hex');
    this.cursor = new CallerPortCursor(range);
  }

  async open(): Promise<CallerPort> {
    const {port, value: sourceId} = await this.cursor.take(async (p) => {
      const r = await this.native.command('source.open', {bindIp: this.bindIp, port: p, bufferBytes: SOURCE_BUFFER_BYTES});
      return r.sourceId as number;
    });
    const cp = new NativeCallerPort(this, sourceId, port, new CallerMeter(this.format.clockRateHz, this.lateThresholdMs));
    this.native.registerSource(sourceId, cp);
    this.open_.add(cp);
    return cp;
  }

  released(p: NativeCallerPort): void {
    this.native.unregisterSource(p.sourceId);
    this.cursor.release(p.port);
    this.open_.delete(p);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.open_].map((p) => p.close()));
    await this.native.close();
  }

  info(): Promise<EngineRoleInfo> {
    return engineRoleInfo(this.native);
  }
}
