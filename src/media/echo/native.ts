import {nullLogger, type Logger} from '../../log/logger.js';
import {DEFAULT_PT_CLOCK_RATES} from './clock-rates.js';
import {
  DEFAULT_BUFFER_BYTES,
  DEFAULT_ECHO_HOST,
  DEFAULT_ECHO_PORT,
  DEFAULT_IDLE_EXPIRY_MS,
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

/** The echo's own figures, from the engine's per-packet records (µs). */
export interface EchoPacing {
  /** send − max(due, kernel receive): the echo's own delay against the ideal send time. */
  pacingErrorUs: {p50: number; p99: number; max: number; count: number};
  /** kernel receive − due: how late packets arrived against their source's earliest phase. */
  arrivalLateMs: PercentilesMs;
}

/** An EchoServer whose socket and pacing live in the native engine. */
export interface NativeEchoServer extends EchoServer {
  readonly engine: 'native';
  pacing(): EchoPacing;
}

/** The engine's echo.stats / echo.close reply: EchoStats without the fields it has no use for, plus anchorMoves. */
type EngineEchoCounters = Omit<EchoStats, 'maxSchedulerLagUs' | 'reanchors' | 'queueOverflows' | 'queued'> & {anchorMoves: number};

/**
 * Start the echo (docs/measurement.md) in the native engine: the engine binds the socket, takes
 * kernel receive times, keeps each source's earliest-phase anchor and reflects every RTP
 * datagram byte-identical; this side keeps the pacing histograms from its records and the
 * counters from `echo.stats`. The host must resolve (once) to a numeric address.
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
    sourcesActive: 0, sourcesTotal: 0, sourcesExpired: 0, anchorMoves: 0, unpaced: 0,
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
    // aux = t_recv − due (µs, ≥ 0 when the packet arrived at or after its slot)
    const idealUs = aux < 0 ? tRecvUs - aux : tRecvUs;
    this.pacingError.recordUs(tSentUs - idealUs);
    this.arrivalLate.recordUs(aux);
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
    const c = this.counters;
    return {
      packetsIn: c.packetsIn,
      bytesIn: c.bytesIn,
      packetsOut: c.packetsOut,
      bytesOut: c.bytesOut,
      malformed: c.malformed,
      sendErrors: c.sendErrors,
      late: c.late,
      arrivedLate: c.arrivedLate,
      maxSchedulerLagUs: 0, // under the earliest-phase anchor no packet waits for a timer
      sourcesActive: c.sourcesActive,
      sourcesTotal: c.sourcesTotal,
      sourcesExpired: c.sourcesExpired,
      reanchors: 0,
      queueOverflows: 0,
      unpaced: c.unpaced,
      queued: 0,
    };
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
