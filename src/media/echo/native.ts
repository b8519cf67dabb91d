import {nullLogger, type Logger} from '../../log/logger.js';
import {DEFAULT_PT_CLOCK_RATES} from './clock-rates.js';
import {
  DEFAULT_BUFFER_BYTES,
  DEFAULT_ECHO_HOST,
  DEFAULT_ECHO_PORT,
  DEFAULT_IDLE_EXPIRY_MS,
  DEFAULT_MAX_HOLD_MS,
  DEFAULT_MAX_SOURCES,
  statsFields,
  type EchoOptions,
  type EchoServer,
  type EchoStats,
} from './node.js';
import {LatencyHistogram, type PercentilesMs} from '../../metrics/histogram.js';
import {ConfigError} from '../../errors.js';
import {EngineCommandError, RecordFlag, type RecordKind, type RecordSink} from '../../engine/engine-types.js';
import {numericHost} from '../../engine/engine-select.js';
import type {NativeEngine} from '../../engine/native-engine.js';

/** How often the engine's counters are fetched for the synchronous stats(). */
const STATS_POLL_MS = 500;

/** Flag of an echo record whose packet waited in its source's hold queue (native/PROTOCOL.md). */
const FLAG_HELD = 16;

/** The echo's own figures, from the engine's per-packet records (µs). */
export interface EchoPacing {
  /** send − due of the packets it held: the echo's own pacing error. */
  pacingErrorUs: {p50: number; p99: number; max: number; count: number};
  /** kernel receive − due: how late packets arrived against their source's earliest phase. */
  arrivalLateMs: PercentilesMs;
}

/** An EchoServer whose socket and pacing live in the native engine. */
export interface NativeEchoServer extends EchoServer {
  readonly engine: 'native';
  pacing(): EchoPacing;
  /** The live histogram of t_sent − due (µs) of every held packet so far (marks encode it: mark.ts). */
  pacingHistogram(): LatencyHistogram;
}

/** The engine's echo.stats / echo.close reply: every EchoStats counter (native/PROTOCOL.md). */
type EngineEchoCounters = EchoStats;

/**
 * Start the echo (docs/measurement.md) in the native engine: the engine binds the socket, takes
 * kernel receive times, keeps each source's anchor, holds early packets for their slot and
 * reflects every RTP datagram byte-identical; this side keeps the pacing histograms from its
 * records and the counters from `echo.stats`. The host must resolve (once) to a numeric address.
 */
export async function startNativeEcho(engine: NativeEngine, options: EchoOptions = {}): Promise<NativeEchoServer> {
  const host = await numericHost(options.host ?? DEFAULT_ECHO_HOST, '--host/ECHO_HOST');
  const rates = {...DEFAULT_PT_CLOCK_RATES, ...options.ptClockRates};
  const port = options.port ?? DEFAULT_ECHO_PORT;
  const r = await engine.command('echo.open', {
    host,
    port,
    bufferBytes: options.bufferBytes ?? DEFAULT_BUFFER_BYTES,
    idleExpiryMs: options.idleExpiryMs ?? DEFAULT_IDLE_EXPIRY_MS,
    clockRateHz: options.clockRateHz ?? 8000,
    ptRates: Object.entries(rates)
      .map(([pt, hz]) => `${pt}=${hz}`)
      .join(','),
    maxSources: options.maxSources ?? DEFAULT_MAX_SOURCES,
    maxHoldMs: options.maxHoldMs ?? DEFAULT_MAX_HOLD_MS,
    mode: options.mode ?? 'echo',
  }).catch((err: unknown) => {
    if (!(err instanceof EngineCommandError)) throw err;
    const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    throw new ConfigError(`cannot bind UDP ${where}: ${err.code}`);
  });
  const echo = new NativeEcho(engine, r.echoId as number, r.address as string, r.port as number, r.recvBufferBytes as number, r.sendBufferBytes as number, options);
  engine.registerEcho(echo.echoId, echo);
  echo.startTimers();
  return echo;
}

class NativeEcho implements NativeEchoServer, RecordSink {
  readonly engine = 'native' as const;
  private readonly pacingError = new LatencyHistogram();
  private readonly arrivalLate = new LatencyHistogram();
  private counters: EngineEchoCounters = {
    packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, malformed: 0, sendErrors: 0, late: 0, arrivedLate: 0,
    maxSchedulerLagUs: 0, held: 0, anchorMoves: 0, sourcesActive: 0, sourcesTotal: 0, sourcesExpired: 0, reanchors: 0,
    queueOverflows: 0, unpaced: 0, queued: 0,
  };
  private readonly logger: Logger;
  private pollTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private closing: Promise<EchoStats> | null = null;

  constructor(
    private readonly native: NativeEngine,
    readonly echoId: number,
    readonly address: string,
    readonly port: number,
    readonly recvBufferBytes: number,
    readonly sendBufferBytes: number,
    private readonly options: EchoOptions,
  ) {
    this.logger = options.logger ?? nullLogger;
  }

  startTimers(): void {
    this.pollTimer = setInterval(() => void this.poll(), STATS_POLL_MS);
    this.pollTimer.unref();
    const sec = this.options.statsIntervalSec ?? 0;
    if (sec > 0) {
      this.statsTimer = setInterval(() => {
        const p = this.pacing().pacingErrorUs;
        this.logger.info('echo.stats', {...statsFields(this.stats()), engine: 'native', pacingErrorP99Us: p.p99, pacingErrorMaxUs: p.max});
      }, sec * 1000);
      this.statsTimer.unref();
    }
  }

  onRecord(kind: RecordKind, flags: number, pt: number, seq: number, ts: number, ssrc: number, sizeBytes: number, tRecvUs: number, tSentUs: number, aux: number): void {
    if ((flags & RecordFlag.SendFailed) !== 0) return;
    // aux = t_recv − due (µs: > 0 arrived after its slot, < 0 before it)
    if ((flags & FLAG_HELD) !== 0) this.pacingError.recordUs(tSentUs - (tRecvUs - aux));
    this.arrivalLate.recordUs(aux > 0 ? aux : 0);
  }

  pacingHistogram(): LatencyHistogram {
    return this.pacingError;
  }

  pacing(): EchoPacing {
    const e = this.pacingError;
    return {
      pacingErrorUs: {p50: e.percentileUs(50), p99: e.percentileUs(99), max: e.maxUs(), count: e.count},
      arrivalLateMs: this.arrivalLate.percentilesMs(),
    };
  }

  /** The engine's counters as of the last poll (at most 0.5 s old); exact after close(). */
  stats(): EchoStats {
    const {echoId: _echoId, ...counters} = this.counters as EchoStats & {echoId?: number};
    return counters;
  }

  close(): Promise<EchoStats> {
    this.closing ??= (async () => {
      clearInterval(this.pollTimer);
      clearInterval(this.statsTimer);
      try {
        this.counters = (await this.native.command('echo.close', {echoId: this.echoId})) as unknown as EngineEchoCounters;
      } catch {
        // the engine is gone: the last polled counters stand
      }
      this.native.unregisterEcho(this.echoId);
      return this.stats();
    })();
    return this.closing;
  }

  private async poll(): Promise<void> {
    if (this.closing !== null) return;
    try {
      this.counters = (await this.native.command('echo.stats', {echoId: this.echoId})) as unknown as EngineEchoCounters;
    } catch {
      // engine gone or closing: keep the last counters
    }
  }
}
