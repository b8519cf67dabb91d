/**
 * A call's media leg: where the orchestrator tells Asterisk's externalMedia to send, and what
 * measures on the way. Chosen per use:
 * - RelayLeg (serve): a MeasuringRelay on a port of the pool, opened by the engine in use, between
 *   Asterisk and the echo; it measures every packet and drains itself when closed;
 * - DirectLeg (the bench's baseline): externalMedia straight to the echo, or through a route the
 *   bench sets up per call (rtpengine); nothing of ours in the path, nothing measured here.
 */
import type {CallMeter, CallStats, MeterSinks} from '../metrics/call-stats.js';
import {CallRelay, type UdpAddress} from '../media/relay/node.js';
import {PortPoolExhaustedError, type PortPool} from '../media/relay/port-pool.js';
import type {MeasuringRelay, RelayOpener} from '../media/relay/types.js';
import type {MediaServerKind} from '../protocol/media-server.js';

/** One call's open leg. */
export interface OpenMediaLeg {
  /** `host:port` externalMedia sends to. */
  readonly externalHost: string;
  /** The relay port held (null: the leg holds none). */
  readonly port: number | null;
  /** The live meter (null: the leg does not measure). */
  readonly meter: CallMeter | null;
  /** After externalMedia: the address Asterisk sends this call's media from (UNICASTRTP_LOCAL_*). */
  connect(asterisk: UdpAddress): Promise<void>;
  /** Close (idempotent), draining for `drainMs` where the leg drains itself; releases what it holds. The call's figures, or null. */
  close(drainMs: number): Promise<CallStats | null>;
}

export interface MediaLeg {
  /**
   * True when closing the leg keeps accepting echoed packets for the drain time (the relay);
   * false when the orchestrator must drain in the bridge instead: take the externalMedia channel
   * out of the bridge (Asterisk stops sending to it) and wait before hanging it up.
   */
  readonly drainsItself: boolean;
  /** Open the leg of call `callId`; its meter records into `sinks` as it measures. */
  open(callId: string, sinks: MeterSinks): Promise<OpenMediaLeg>;
  /** Whether an externalMedia channel sending to `host:port` is one of this leg's (reconcile). */
  ownsExternalHost(host: string, port: number): boolean;
}

export interface RelayLegOptions {
  bindIp: string;
  echo: UdpAddress;
  clockRateHz: number;
  lateThresholdMs: number;
  /** What the media server is: each call's meter judges the back stream by it (default echo). */
  mediaServer?: MediaServerKind;
  socketBufferBytes?: number;
  /** Opens a call's relay in the engine in use (default: the pure-Node CallRelay). */
  openRelay?: RelayOpener;
}

/** serve's leg: a measuring relay on a port of `pool`. */
export class RelayLeg implements MediaLeg {
  readonly drainsItself = true;

  constructor(
    readonly pool: PortPool,
    private readonly o: RelayLegOptions,
  ) {}

  async open(_callId: string, sinks: MeterSinks): Promise<OpenMediaLeg> {
    const o = this.o;
    const open = o.openRelay ?? openNodeRelay;
    let acquired: {port: number; value: MeasuringRelay};
    try {
      acquired = await this.pool.acquire((port) =>
        open({bindIp: o.bindIp, port, echo: o.echo, clockRateHz: o.clockRateHz, lateThresholdMs: o.lateThresholdMs, mediaServer: o.mediaServer, socketBufferBytes: o.socketBufferBytes, sinks}),
      );
    } catch (err) {
      if (err instanceof PortPoolExhaustedError) throw new Error(`rejected: ${err.message}`);
      throw err;
    }
    return new OpenRelay(this.pool, acquired.port, acquired.value, `${o.bindIp}:${acquired.port}`);
  }

  ownsExternalHost(host: string, port: number): boolean {
    const range = this.pool.range;
    return host === this.o.bindIp && port >= range.low && port <= range.high;
  }
}

class OpenRelay implements OpenMediaLeg {
  private closing: Promise<CallStats> | null = null;

  constructor(
    private readonly pool: PortPool,
    readonly port: number,
    private readonly relay: MeasuringRelay,
    readonly externalHost: string,
  ) {}

  get meter(): CallMeter {
    return this.relay.meter;
  }

  connect(asterisk: UdpAddress): Promise<void> {
    this.relay.setAsterisk(asterisk);
    return Promise.resolve();
  }

  close(drainMs: number): Promise<CallStats> {
    this.closing ??= this.relay.close(drainMs).finally(() => this.pool.release(this.port));
    return this.closing;
  }
}

/**
 * A relay set up per call by the bench between externalMedia and the echo (the rtpengine path).
 */
export interface MediaRoute {
  /** Before externalMedia: where the sim sends this call's media. */
  open(callId: string): Promise<{host: string; port: number}>;
  /** After externalMedia: the sim's own address/port for this call (UNICASTRTP_LOCAL_*). */
  connect(callId: string, sim: {address: string; port: number}): Promise<void>;
  /** After hangup. */
  close(callId: string): Promise<void>;
}

/** The bench's baseline leg: externalMedia straight to the echo (or through `route`). */
export class DirectLeg implements MediaLeg {
  readonly drainsItself = false;

  constructor(
    private readonly echo: {host: string; port: number},
    private readonly route?: MediaRoute,
  ) {}

  async open(callId: string): Promise<OpenMediaLeg> {
    const route = this.route;
    if (!route) return new OpenDirect(`${this.echo.host}:${this.echo.port}`, null, callId);
    const target = await route.open(callId);
    return new OpenDirect(`${target.host}:${target.port}`, route, callId);
  }

  ownsExternalHost(): boolean {
    return false;
  }
}

class OpenDirect implements OpenMediaLeg {
  readonly port = null;
  readonly meter = null;
  private closed = false;

  constructor(
    readonly externalHost: string,
    private readonly route: MediaRoute | null,
    private readonly callId: string,
  ) {}

  async connect(asterisk: UdpAddress): Promise<void> {
    await this.route?.connect(this.callId, asterisk);
  }

  async close(): Promise<null> {
    if (this.closed || !this.route) return null;
    this.closed = true;
    await this.route.close(this.callId).catch(() => undefined);
    return null;
  }
}

const openNodeRelay: RelayOpener = (opts) => CallRelay.open(opts);
