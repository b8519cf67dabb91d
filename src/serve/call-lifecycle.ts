import {randomUUID} from 'node:crypto';
import {addChannelWhenInStasis} from '../ari/retry.js';
import {bridgeNameFor, findZombies, isExternalMediaName} from '../ari/reconcile.js';
import {isAriHttpError, type AriRest} from '../ari/rest.js';
import type {AriChannel, StasisStartEvent} from '../ari/types.js';
import {errorMessage} from '../errors.js';
import type {Logger} from '../log/logger.js';
import type {CallStats} from '../metrics/call-stats.js';
import {LatencyHistogram, ZERO_PERCENTILES_MS} from '../metrics/histogram.js';
import type {EngineKind} from '../engine/engine-types.js';
import {CallRelay, type UdpAddress} from '../relay/call-relay.js';
import type {MeasuringRelay, RelayOpener} from '../relay/relay-types.js';
import {PortPool, PortPoolExhaustedError} from '../relay/port-pool.js';
import {clockRateFor} from '../rtp/formats.js';
import {nowUs} from '../rtp/clock.js';
import {parseLoadAppArgs} from '../protocol/app-args.js';
import {RunStore, type ServeCallRecord} from './run-store.js';


export type AriOps = Pick<
  AriRest,
  'answer' | 'hangup' | 'createBridge' | 'addChannel' | 'externalMedia' | 'destroyBridge' | 'listChannels' | 'listBridges'
>;

export interface CallLifecycleConfig {
  app: string;
  bindIp: string;
  echo: UdpAddress;
  /** externalMedia format (ulaw, alaw, slin16, g722). */
  format: string;
  /** Opens a call's relay in the engine in use (default: the pure-Node CallRelay). */
  openRelay?: RelayOpener;
  /** Which engine forwards and measures (default node). */
  engine?: EngineKind;
  lateThresholdMs: number;
  /** How long a closing relay still accepts echoed packets (not counted as lost). */
  drainMs: number;
  /** How long to wait for the externalMedia channel's own StasisStart before trying addChannel anyway. */
  emStasisWaitMs: number;
  socketBufferBytes?: number;
}

export type CallState = 'setup' | 'up' | 'ending' | 'ended';

/** One call in serve: the caller's channel, its externalMedia channel, bridge and relay. */
export class Call {
  state: CallState = 'setup';
  readonly startedAt = new Date();
  readonly tStartUs = nowUs();
  setupMs: number | null = null;
  port: number | null = null;
  relay: MeasuringRelay | null = null;
  error: string | null = null;
  emCreated = false;
  emInStasis = false;
  readonly abort = new AbortController();
  /** Monotonic µs at which serve began tearing the call down (0: not yet). */
  tEndUs = 0;
  endReason = '';
  done: Promise<void> | null = null;
  private emStasisWaiter: (() => void) | null = null;

  constructor(
    readonly callerId: string,
    readonly emId: string,
    readonly bridgeId: string,
    readonly runId: string | null,
    readonly index: number,
    readonly log: Logger,
  ) {}

  markEmInStasis(): void {
    this.emInStasis = true;
    this.emStasisWaiter?.();
  }

  /** Resolves when the externalMedia StasisStart arrived, the call ends, or `timeoutMs` passed. */
  waitEmInStasis(timeoutMs: number): Promise<void> {
    if (this.emInStasis) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        this.emStasisWaiter = null;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emStasisWaiter = done;
      this.abort.signal.addEventListener('abort', done, {once: true});
    });
  }
}

/** Totals over every finished call since serve started. */
export interface FinishedTotals {
  calls: number;
  failed: number;
  packetsUp: number;
  packetsBack: number;
  lost: number;
  late: number;
  foreign: number;
  malformed: number;
  maxConsecutiveLate: number;
  /** Late packets by the leg that contributed most (SPEC §4). */
  lateBy: {asterisk: number; relay: number; mediaServer: number};
}

export interface LiveCallView {
  callId: string;
  runId: string | null;
  index: number;
  state: CallState;
  port: number | null;
  externalMediaChannelId: string;
  bridgeId: string;
  startedAt: string;
  setupMs: number | null;
  packetsUp: number;
  packetsBack: number;
  late: number;
}

/**
 * The call lifecycle of SPEC §3, driven by Stasis events. Every ARI step tolerates
 * "already gone"; a call that fails at any step is torn down completely and recorded with
 * its error; nothing of one call can break the next.
 */
export class CallLifecycle {
  readonly calls = new Map<string, Call>();
  /** Any channel id (caller or externalMedia) → its call. */
  private readonly byChannel = new Map<string, Call>();
  readonly runs = new RunStore();
  readonly finished: FinishedTotals = {
    calls: 0,
    failed: 0,
    packetsUp: 0,
    packetsBack: 0,
    lost: 0,
    late: 0,
    foreign: 0,
    malformed: 0,
    maxConsecutiveLate: 0,
    lateBy: {asterisk: 0, relay: 0, mediaServer: 0},
  };
  /** Every packet measured since serve started (fed live by the call meters). */
  readonly globalLateness = new LatencyHistogram();
  readonly globalRtt = new LatencyHistogram();
  readonly globalUpLateness = new LatencyHistogram();
  readonly globalRelayHold = new LatencyHistogram();
  callsStarted = 0;
  retries422 = 0;
  zombiesRemoved = 0;
  private accepting = true;
  private nextIndex = 0;
  private readonly clockRateHz: number;

  constructor(
    private readonly ari: AriOps,
    readonly pool: PortPool,
    private readonly config: CallLifecycleConfig,
    private readonly log: Logger,
  ) {
    this.clockRateHz = clockRateFor(config.format);
  }

  /** The externalMedia format serve asks Asterisk for (what load must originate with). */
  get format(): string {
    return this.config.format;
  }

  /** The engine that forwards and measures the calls' media. */
  get engine(): EngineKind {
    return this.config.engine ?? 'node';
  }

  /** Route a Stasis event. Never throws. */
  onStasisStart(ev: StasisStartEvent): void {
    const ch = ev.channel;
    const own = this.byChannel.get(ch.id);
    if (own && own.emId === ch.id) {
      own.markEmInStasis();
      return;
    }
    if (isExternalMediaName(ch.name)) return; // someone's externalMedia, never a new call
    if (own) return; // duplicate StasisStart of a known caller
    if (!this.accepting) {
      void this.ari.hangup(ch.id).catch(() => undefined);
      return;
    }
    this.startCall(ch, ev.args ?? []);
  }

  /** StasisEnd or ChannelDestroyed of any channel. */
  onChannelGone(channelId: string, why: string): void {
    const call = this.byChannel.get(channelId);
    if (!call) return;
    const who = channelId === call.callerId ? 'caller' : 'externalMedia';
    void this.teardown(call, `${who} ${why}`);
  }

  private startCall(ch: AriChannel, args: readonly string[]): void {
    const load = parseLoadAppArgs(args);
    const runId = load?.runId ?? null;
    const index = load ? load.index : this.nextIndex++;
    if (load?.token) this.runs.claim(load.runId, load.token);
    const emId = `${this.config.app}-em-${randomUUID()}`;
    const bridgeId = randomUUID();
    const log = this.log.child({callId: ch.id, ...(runId ? {runId, index} : {})});
    const call = new Call(ch.id, emId, bridgeId, runId, index, log);
    this.calls.set(ch.id, call);
    this.byChannel.set(ch.id, call);
    this.byChannel.set(emId, call);
    this.callsStarted++;
    log.info('call.start', {channel: ch.name});
    void this.setup(call);
  }

  private async setup(call: Call): Promise<void> {
    const {config, ari} = this;
    try {
      await ari.answer(call.callerId);
      this.assertAlive(call);
      let acquired: {port: number; value: MeasuringRelay};
      const run = call.runId !== null ? this.runs.histogramsFor(call.runId) : null;
      const sinks = {
        lateness: run ? [this.globalLateness, run.lateness] : [this.globalLateness],
        rtt: run ? [this.globalRtt, run.rtt] : [this.globalRtt],
        upLateness: run ? [this.globalUpLateness, run.upLateness] : [this.globalUpLateness],
        relayHold: run ? [this.globalRelayHold, run.relayHold] : [this.globalRelayHold],
      };
      try {
        acquired = await this.pool.acquire((port) =>
          (config.openRelay ?? openNodeRelay)({
            bindIp: config.bindIp,
            port,
            echo: config.echo,
            clockRateHz: this.clockRateHz,
            lateThresholdMs: config.lateThresholdMs,
            socketBufferBytes: config.socketBufferBytes,
            sinks,
          }),
        );
      } catch (err) {
        if (err instanceof PortPoolExhaustedError) throw new Error(`rejected: ${err.message}`);
        throw err;
      }
      call.port = acquired.port;
      call.relay = acquired.value;
      this.assertAlive(call);

      const bridgeStep = (async () => {
        await ari.createBridge({type: 'mixing', bridgeId: call.bridgeId, name: bridgeNameFor(call.callerId, config.app)});
        // the caller is in Stasis already; 422 is retried all the same (bounded), as for externalMedia
        await addChannelWhenInStasis(ari, call.bridgeId, [call.callerId], {attempts: 10, signal: call.abort.signal, onRetry: () => this.retries422++});
      })();
      const emStep = (async () => {
        call.emCreated = true;
        return ari.externalMedia({
          channelId: call.emId,
          app: config.app,
          externalHost: `${config.bindIp}:${call.port}`,
          format: config.format,
          encapsulation: 'rtp',
          transport: 'udp',
          direction: 'both',
        });
      })();
      const [bridgeResult, emResult] = await Promise.allSettled([bridgeStep, emStep]);
      if (bridgeResult.status === 'rejected') throw bridgeResult.reason;
      if (emResult.status === 'rejected') throw emResult.reason;
      call.relay.setAsterisk({address: emResult.value.localAddress, port: emResult.value.localPort});
      this.assertAlive(call);

      await call.waitEmInStasis(config.emStasisWaitMs);
      this.assertAlive(call);
      await addChannelWhenInStasis(ari, call.bridgeId, [call.emId], {
        attempts: 10,
        signal: call.abort.signal,
        onRetry: () => this.retries422++,
      });
      this.assertAlive(call);
      call.setupMs = round3((nowUs() - call.tStartUs) / 1000);
      call.state = 'up';
      call.log.info('call.up', {port: call.port, externalMedia: call.emId, setupMs: call.setupMs});
    } catch (err) {
      if (call.state === 'setup' || call.state === 'up') {
        call.error = errorMessage(err);
        call.log.warn('call.failed', {error: call.error});
        await this.teardown(call, 'setup failed');
      }
    }
  }

  private assertAlive(call: Call): void {
    if (call.state !== 'setup') throw new CallEndedDuringSetup();
  }

  /** Tear a call down completely (idempotent). Resolves when its record is final. */
  teardown(call: Call, reason: string, drainMs = this.config.drainMs): Promise<void> {
    if (call.done) return call.done;
    const wasUp = call.state === 'up';
    call.tEndUs = nowUs();
    call.endReason = reason;
    call.state = 'ending';
    call.abort.abort();
    call.log.info('call.end', {reason});
    call.done = (async () => {
      const ari = this.ari;
      const steps: Array<Promise<unknown>> = [ari.hangup(call.callerId), ari.destroyBridge(call.bridgeId)];
      if (call.emCreated) steps.push(ari.hangup(call.emId));
      const relayClose = call.relay ? call.relay.close(drainMs) : Promise.resolve(null);
      const results = await Promise.allSettled(steps);
      for (const r of results) {
        if (r.status === 'rejected' && !isAriHttpError(r.reason, 404)) call.log.warn('call.teardown_step_failed', {error: errorMessage(r.reason)});
      }
      const stats = await relayClose;
      if (call.port !== null) this.pool.release(call.port);
      if (!wasUp && call.error === null) call.error = `call ended during setup (${reason})`;
      this.finish(call, stats);
      call.state = 'ended';
      this.calls.delete(call.callerId);
      this.byChannel.delete(call.callerId);
      this.byChannel.delete(call.emId);
    })();
    return call.done;
  }

  private finish(call: Call, stats: CallStats | null): void {
    const s = stats;
    const f = this.finished;
    f.calls++;
    if (call.error !== null) f.failed++;
    if (s) {
      f.packetsUp += s.packetsUp;
      f.packetsBack += s.packetsBack;
      f.lost += s.lost;
      f.late += s.late;
      f.foreign += s.foreign;
      f.malformed += s.malformed;
      if (s.maxConsecutiveLate > f.maxConsecutiveLate) f.maxConsecutiveLate = s.maxConsecutiveLate;
      f.lateBy.asterisk += s.lateBy.asterisk;
      f.lateBy.relay += s.lateBy.relay;
      f.lateBy.mediaServer += s.lateBy.mediaServer;
    }
    const record: ServeCallRecord = {
      index: call.index,
      runId: call.runId,
      channelId: call.callerId,
      callerChannelId: call.callerId,
      externalMediaChannelId: call.emCreated ? call.emId : null,
      bridgeId: call.bridgeId,
      port: call.port,
      startedAt: call.startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      setupMs: call.setupMs,
      firstMediaMs: s && s.firstUpUs > 0 ? round3(Math.max(0, s.firstUpUs - call.tStartUs) / 1000) : null,
      packetsUp: s?.packetsUp ?? 0,
      packetsBack: s?.packetsBack ?? 0,
      lost: s?.lost ?? 0,
      late: s?.late ?? 0,
      maxConsecutiveLate: s?.maxConsecutiveLate ?? 0,
      latenessMs: s?.latenessMs ?? {...ZERO_PERCENTILES_MS},
      worstLateAtMs: s && s.worstLateAtUs > 0 ? round3(Math.max(0, s.worstLateAtUs - call.tStartUs) / 1000) : null,
      upLatenessMs: s?.upLatenessMs ?? {...ZERO_PERCENTILES_MS},
      relayHoldMs: s?.relayHoldMs ?? {...ZERO_PERCENTILES_MS},
      lateBy: s?.lateBy ?? {asterisk: 0, relay: 0, mediaServer: 0},
      payloadType: s?.seen.payloadType ?? null,
      packetBytes: s?.seen.packetBytes ?? null,
      otherFormatPackets: s?.seen.otherPackets ?? 0,
      endReason: call.endReason,
      endMs: round3(Math.max(0, call.tEndUs - call.tStartUs) / 1000),
      ...upGap(s, call.tStartUs),
      rttMs: s?.rttMs ?? {...ZERO_PERCENTILES_MS},
      jitterMs: s?.jitterBackMs ?? 0,
      jitterUpMs: s?.jitterUpMs ?? 0,
      expected: s?.expected ?? 0,
      uplinkGaps: s?.uplinkGaps ?? 0,
      duplicatesUp: s?.duplicatesUp ?? 0,
      duplicatesBack: s?.duplicatesBack ?? 0,
      reorderedUp: s?.reorderedUp ?? 0,
      reorderedBack: s?.reorderedBack ?? 0,
      unmatchedBack: s?.unmatchedBack ?? 0,
      malformed: s?.malformed ?? 0,
      foreign: s?.foreign ?? 0,
      ssrcChanges: s?.ssrcChanges ?? 0,
      error: call.error,
    };
    call.log.info('call.measured', {
      packetsUp: record.packetsUp,
      packetsBack: record.packetsBack,
      lost: record.lost,
      late: record.late,
      rttP99Ms: record.rttMs.p99,
      error: record.error ?? undefined,
    });
    if (call.runId !== null) this.runs.add(call.runId, record);
  }

  /** Calls of `runId` still being set up or measured. */
  activeCallsOfRun(runId: string): number {
    let n = 0;
    for (const c of this.calls.values()) if (c.runId === runId) n++;
    return n;
  }

  liveCalls(): LiveCallView[] {
    const out: LiveCallView[] = [];
    for (const c of this.calls.values()) {
      const m = c.relay?.meter;
      out.push({
        callId: c.callerId,
        runId: c.runId,
        index: c.index,
        state: c.state,
        port: c.port,
        externalMediaChannelId: c.emId,
        bridgeId: c.bridgeId,
        startedAt: c.startedAt.toISOString(),
        setupMs: c.setupMs,
        packetsUp: m?.packetsUp ?? 0,
        packetsBack: m?.packetsBack ?? 0,
        late: m?.late ?? 0,
      });
    }
    return out;
  }

  /**
   * Reconcile with Asterisk (start-up, periodically, after a reconnect): tear down calls whose
   * channels are gone (their events were missed), destroy the app's bridges and externalMedia
   * channels that belong to no live call. Returns how many zombies were removed.
   */
  async reconcile(reason: string): Promise<{channels: number; bridges: number; callsEnded: number}> {
    const [channels, bridges] = await Promise.all([this.ari.listChannels(), this.ari.listBridges()]);
    const present = new Set(channels.map((c) => c.id));
    let callsEnded = 0;
    for (const call of [...this.calls.values()]) {
      if (call.state === 'up' && (!present.has(call.callerId) || !present.has(call.emId))) {
        callsEnded++;
        void this.teardown(call, 'channel gone (event missed)');
      }
    }
    const liveChannelIds = new Set<string>();
    const liveBridgeIds = new Set<string>();
    const liveCallIds = new Set<string>();
    for (const c of this.calls.values()) {
      if (c.state === 'ending' || c.state === 'ended') continue;
      liveChannelIds.add(c.callerId).add(c.emId);
      liveBridgeIds.add(c.bridgeId);
      liveCallIds.add(c.callerId);
    }
    const range = this.pool.range;
    const plan = findZombies({
      channels,
      bridges,
      app: this.config.app,
      liveChannelIds,
      liveBridgeIds,
      liveCallIds,
      ownChannelIds: liveChannelIds,
      ownsExternalHost: (host, port) => host === this.config.bindIp && port >= range.low && port <= range.high,
    });
    await Promise.allSettled([
      ...plan.channels.map((c) => this.ari.hangup(c.id)),
      ...plan.bridges.map((b) => this.ari.destroyBridge(b.id)),
    ]);
    const removed = plan.channels.length + plan.bridges.length;
    this.zombiesRemoved += removed;
    if (removed > 0 || callsEnded > 0)
      this.log.info('reconcile', {reason, zombieChannels: plan.channels.length, zombieBridges: plan.bridges.length, callsEnded});
    return {channels: plan.channels.length, bridges: plan.bridges.length, callsEnded};
  }

  /** Stop accepting calls and tear down every live call (no drain). */
  async shutdown(): Promise<void> {
    this.accepting = false;
    await Promise.allSettled([...this.calls.values()].map((c) => this.teardown(c, 'serve shutting down', 0)));
  }
}

class CallEndedDuringSetup extends Error {
  constructor() {
    super('call ended during setup');
  }
}

/**
 * When the up stream went quiet: the longest stretch between two up packets (and when it began)
 * and the last up packet, in ms after the call started. Whether the stream stopped while the call
 * was up (up to teardown, or to load's hangup) is load's to judge (src/load/call-outcome.ts).
 */
function upGap(s: CallStats | null, tStartUs: number): {upGapMaxMs: number; upGapAtMs: number | null; lastUpMs: number | null} {
  if (!s || s.firstUpUs === 0) return {upGapMaxMs: 0, upGapAtMs: null, lastUpMs: null};
  const since = (tUs: number) => round3(Math.max(0, tUs - tStartUs) / 1000);
  return {
    upGapMaxMs: round3(s.upGapMaxUs / 1000),
    upGapAtMs: s.upGapMaxUs > 0 ? since(s.upGapAtUs) : null,
    lastUpMs: since(s.lastUpUs),
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

const openNodeRelay: RelayOpener = (opts) => CallRelay.open(opts);
