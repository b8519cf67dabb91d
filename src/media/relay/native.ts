import {isIP} from 'node:net';
import {CallMeter, type CallStats} from '../../metrics/call-stats.js';
import type {CallRelayOptions, UdpAddress} from './node.js';
import type {MeasuringRelay} from './types.js';
import {EngineCommandError, RecordFlag, RecordKind, type RecordSink} from '../../engine/engine-types.js';
import type {NativeEngine} from '../../engine/native-engine.js';

/**
 * One call's relay in the native engine: the engine owns the socket, forwards Asterisk ↔ echo
 * and stamps each datagram with its kernel receive time and its send time; this object feeds
 * the engine's records to the call's CallMeter. Same surface as CallRelay (MeasuringRelay).
 */
export class NativeCallRelay implements MeasuringRelay, RecordSink {
  readonly meter: CallMeter;
  readonly port: number;
  sendErrors = 0;
  private asterisk: UdpAddress | null = null;
  private open = true;
  private closing: Promise<CallStats> | null = null;

  private constructor(
    private readonly engine: NativeEngine,
    private readonly relayId: number,
    port: number,
    opts: CallRelayOptions,
  ) {
    this.port = port;
    this.meter = new CallMeter(opts.clockRateHz, opts.lateThresholdMs, opts.sinks, undefined, opts.mediaServer);
    this.meter.mediaServerUnreachable = 0;
    this.meter.mediaServerAt = `${opts.echo.address}:${opts.echo.port}`;
  }

  /**
   * Bind `opts.port` in the engine. Rejects with EngineCommandError (`code` EADDRINUSE when the
   * port is taken) without leaving anything open. The echo address must be numeric.
   */
  static async open(engine: NativeEngine, opts: CallRelayOptions): Promise<NativeCallRelay> {
    if (isIP(opts.echo.address) === 0) throw new EngineCommandError('relay.open', 'EINVAL', `echo address "${opts.echo.address}" is not numeric`);
    const r = await engine.command('relay.open', {
      bindIp: opts.bindIp,
      port: opts.port,
      echoAddress: opts.echo.address,
      echoPort: opts.echo.port,
      bufferBytes: opts.socketBufferBytes ?? 262144,
    });
    const relay = new NativeCallRelay(engine, r.relayId as number, r.port as number, opts);
    engine.registerRelay(relay.relayId, relay);
    return relay;
  }

  setAsterisk(addr: UdpAddress): void {
    this.asterisk = {address: addr.address, port: addr.port};
    if (!this.open) return;
    // A non-numeric address is refused by the engine: its packets then stay foreign (counted).
    this.engine.command('relay.setAsterisk', {relayId: this.relayId, address: addr.address, port: addr.port}).catch(() => undefined);
  }

  get asteriskAddress(): UdpAddress | null {
    return this.asterisk;
  }

  onRecord(kind: RecordKind, flags: number, pt: number, seq: number, ts: number, ssrc: number, sizeBytes: number, tRecvUs: number, tSentUs: number, _aux: number): void {
    const marker = (flags & RecordFlag.Marker) !== 0;
    const failed = (flags & RecordFlag.SendFailed) !== 0;
    switch (kind) {
      case RecordKind.Up:
        this.meter.upFields(ssrc, seq, ts, pt, marker, sizeBytes, tRecvUs, tSentUs);
        if (failed) this.sendErrors++;
        return;
      case RecordKind.Back: {
        const forwarded = (flags & RecordFlag.NotForwarded) === 0;
        this.meter.backFields(ssrc, seq, ts, pt, marker, sizeBytes, tRecvUs, forwarded ? tSentUs : -1);
        if (forwarded && failed) this.sendErrors++;
        return;
      }
      case RecordKind.Foreign:
        this.meter.foreignPacket();
        return;
      case RecordKind.Malformed:
        this.meter.malformedPacket();
        return;
      default:
        return;
    }
  }

  stats(): CallStats {
    return this.meter.snapshot();
  }

  /**
   * Stop forwarding, keep receiving echoed packets for `drainMs`, then close the engine's socket.
   * Every record of this relay comes before the close reply, so the snapshot is complete.
   */
  close(drainMs = 0): Promise<CallStats> {
    this.closing ??= (async () => {
      this.open = false;
      try {
        if (drainMs > 0) {
          await this.engine.command('relay.drain', {relayId: this.relayId});
          await new Promise((r) => setTimeout(r, drainMs));
        }
        const closed = await this.engine.command('relay.close', {relayId: this.relayId});
        if (typeof closed.unreachable === 'number') this.meter.mediaServerUnreachable = closed.unreachable;
      } catch {
        // the engine is gone: its socket went with it; the figures so far stand
      }
      this.engine.unregisterRelay(this.relayId);
      return this.meter.snapshot();
    })();
    return this.closing;
  }

  get isOpen(): boolean {
    return this.open;
  }
}
