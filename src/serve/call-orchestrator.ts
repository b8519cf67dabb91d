/**
 * The call lifecycle (docs/design.md), driven by Stasis events: on a caller's
 * StasisStart answer it, open its media leg, create a mixing bridge and add the caller while
 * externalMedia is created towards the leg, wait for the externalMedia channel's own StasisStart
 * (or retry addChannel's 422, bounded), add it: the call is up. On StasisEnd/ChannelDestroyed of
 * either channel: hang up the other, destroy the bridge, close the leg (which releases its port),
 * record the call in the ledger. Every ARI step tolerates "already gone"; a call that fails at any
 * step is torn down completely and recorded with its error; nothing of one call can break the next.
 *
 * The orchestrator holds only the state machine. The ledger keeps the books, the media leg decides
 * where externalMedia sends and what measures; time comes from an injectable clock.
 */
import {relayCallTimeline, Timeline} from '../metrics/timeline.js';
import {randomUUID} from 'node:crypto';
import type {EventEmitter} from 'node:events';
import type {AriConnectionEvents} from '../ari/connection.js';
import {addChannelWhenInStasis} from '../ari/retry.js';
import {bridgeNameFor, findZombies, isExternalMediaName} from '../ari/reconcile.js';
import {isAriHttpError, type AriRest} from '../ari/rest.js';
import type {AriChannel, StasisStartEvent} from '../ari/types.js';
import {errorMessage} from '../errors.js';
import type {Logger} from '../log/logger.js';
import type {CallMeter} from '../metrics/call-stats.js';
import {callRecordFrom} from '../metrics/call-record-from.js';
import {LateFrameLog} from '../metrics/caller-late-frames.js';
import {parseLoadAppArgs} from '../protocol/app-args.js';
import type {CallState} from '../protocol/serve-api.js';
import {realClock, type Clock} from '../runtime/clock.js';
import type {LedgerCall, ServeLedger} from './ledger.js';
import type {MediaLeg, OpenMediaLeg} from './media-leg.js';

export type AriOps = Pick<
  AriRest,
  'answer' | 'hangup' | 'createBridge' | 'addChannel' | 'removeChannel' | 'externalMedia' | 'destroyBridge' | 'listChannels' | 'listBridges'
>;

export interface OrchestratorConfig {
  /** The Stasis app (externalMedia channels are created in it). */
  app: string;
  /** externalMedia format (ulaw, alaw, slin16, g722). */
  format: string;
  /** How long closing the call drains echoed packets (in the leg, or in the bridge for a leg that does not drain itself). */
  drainMs: number;
  /** How long to wait for the externalMedia channel's own StasisStart before trying addChannel anyway. */
  emStasisWaitMs: number;
  /** How many addChannel tries a 422 "not in Stasis" gets (default 10). */
  addChannelAttempts?: number;
  /** Time and timers (tests drive them); default realClock. */
  clock?: Clock;
}

/** One call: the caller's channel, its externalMedia channel, bridge and media leg. */
export class Call implements LedgerCall {
  state: CallState = 'setup';
  readonly startedAt: Date;
  readonly tStartUs: number;
  setupMs: number | null = null;
  leg: OpenMediaLeg | null = null;
  /** The leg being opened (teardown waits for it, so a leg opened meanwhile is closed, not leaked). */
  legOpening: Promise<OpenMediaLeg | null> | null = null;
  /** The externalMedia request (teardown waits for it before hanging the channel up). */
  emRequest: Promise<unknown> | null = null;
  error: string | null = null;
  emInStasis = false;
  /** Monotonic µs at which the second channel's addChannel succeeded (0: never bridged). */
  bridgedAtUs = 0;
  /** The relay's late back frames (RTP timestamp and leg), for the caller-side join. */
  readonly lateFrames = new LateFrameLog();
  /** The relay's per-bucket lateness of the call (the record's `timeline`). */
  readonly timeline = new Timeline();
  readonly abort = new AbortController();
  /** Monotonic µs at which teardown began (0: not yet). */
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
    private readonly clock: Clock,
  ) {
    this.startedAt = new Date();
    this.tStartUs = clock.nowUs();
  }

  get port(): number | null {
    return this.leg?.port ?? null;
  }

  get meter(): CallMeter | null {
    return this.leg?.meter ?? null;
  }

  markEmInStasis(): void {
    this.emInStasis = true;
    this.emStasisWaiter?.();
  }

  /** Resolves when the externalMedia StasisStart arrived, the call ends, or `timeoutMs` passed. */
  waitEmInStasis(timeoutMs: number): Promise<void> {
    if (this.emInStasis) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.clock.clearTimer(timer);
        this.abort.signal.removeEventListener('abort', done);
        this.emStasisWaiter = null;
        resolve();
      };
      const timer = this.clock.setTimer(done, timeoutMs);
      this.emStasisWaiter = done;
      this.abort.signal.addEventListener('abort', done, {once: true});
    });
  }
}

export class CallOrchestrator {
  /** Caller channel id → its live call. */
  private readonly calls = new Map<string, Call>();
  /** Any channel id (caller or externalMedia) → its call. */
  private readonly byChannel = new Map<string, Call>();
  private accepting = true;
  private nextIndex = 0;
  private readonly clock: Clock;

  constructor(
    private readonly ari: AriOps,
    readonly ledger: ServeLedger,
    readonly leg: MediaLeg,
    private readonly config: OrchestratorConfig,
    private readonly log: Logger,
  ) {
    this.clock = config.clock ?? realClock;
  }

  /** The live call of caller channel `callerId`, if any. */
  call(callerId: string): Call | undefined {
    return this.calls.get(callerId);
  }

  /** Calls being set up, up or being torn down. */
  get liveCount(): number {
    return this.calls.size;
  }

  /** Follow a connection's events: StasisStart, StasisEnd and ChannelDestroyed drive the calls; the others need no action. */
  listen(events: Pick<EventEmitter<AriConnectionEvents>, 'on'>): void {
    events.on('StasisStart', (ev) => this.onStasisStart(ev));
    events.on('StasisEnd', (ev) => this.onChannelGone(ev.channel.id, 'left Stasis'));
    events.on('ChannelDestroyed', (ev) => this.onChannelGone(ev.channel.id, 'destroyed'));
  }

  /** Route a StasisStart. Never throws. */
  onStasisStart(ev: StasisStartEvent): void {
    const ch = ev.channel;
    const own = this.byChannel.get(ch.id);
    if (own && own.emId === ch.id) {
      own.markEmInStasis();
      return;
    }
    // an externalMedia channel is a call only when its args (externalMedia `data`) mark it as
    // load's caller; anyone else's externalMedia is never a new call
    if (isExternalMediaName(ch.name) && parseLoadAppArgs(ev.args ?? []) === null) return;
    if (own) return; // duplicate StasisStart of a known caller
    if (!this.accepting) {
      void this.ari.hangup(ch.id).catch(() => undefined);
      return;
    }
    this.startCall(ch, ev.args ?? []);
  }

  /** StasisEnd or ChannelDestroyed of any channel. Never throws. */
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
    const emId = `${this.config.app}-em-${randomUUID()}`;
    const bridgeId = randomUUID();
    const log = this.log.child({callId: ch.id, ...(runId ? {runId, index} : {})});
    const call = new Call(ch.id, emId, bridgeId, runId, index, log, this.clock);
    this.calls.set(ch.id, call);
    this.byChannel.set(ch.id, call);
    this.byChannel.set(emId, call);
    this.ledger.callStarted(call, load?.token ?? null);
    log.info('call.start', {channel: ch.name});
    void this.setup(call);
  }

  private async setup(call: Call): Promise<void> {
    const {config, ari} = this;
    const retry = {
      attempts: config.addChannelAttempts ?? 10,
      signal: call.abort.signal,
      clock: this.clock,
      onRetry: () => this.ledger.retried422(),
    };
    try {
      await ari.answer(call.callerId);
      this.assertAlive(call);
      call.legOpening = this.leg.open(call.callerId, this.ledger.sinksFor(call.runId)).then((leg) => {
        if (leg.meter) {
          leg.meter.lateFrames = call.lateFrames;
          leg.meter.timeline = call.timeline;
        }
        return (call.leg = leg);
      });
      await call.legOpening;
      this.assertAlive(call);
      const leg = call.leg!;

      const bridgeStep = (async () => {
        await ari.createBridge({type: 'mixing', bridgeId: call.bridgeId, name: bridgeNameFor(call.callerId, config.app)});
        // the caller is in Stasis already; 422 is retried all the same (bounded), as for externalMedia
        await addChannelWhenInStasis(ari, call.bridgeId, [call.callerId], retry);
      })();
      const emStep = ari.externalMedia({
        channelId: call.emId,
        app: config.app,
        externalHost: leg.externalHost,
        format: config.format,
        encapsulation: 'rtp',
        transport: 'udp',
        direction: 'both',
      });
      call.emRequest = emStep;
      const [bridgeResult, emResult] = await Promise.allSettled([bridgeStep, emStep]);
      if (bridgeResult.status === 'rejected') throw bridgeResult.reason;
      if (emResult.status === 'rejected') throw emResult.reason;
      this.assertAlive(call);
      await leg.connect({address: emResult.value.localAddress, port: emResult.value.localPort});
      this.assertAlive(call);

      await call.waitEmInStasis(config.emStasisWaitMs);
      this.assertAlive(call);
      await addChannelWhenInStasis(ari, call.bridgeId, [call.emId], retry);
      call.bridgedAtUs = this.clock.nowUs();
      this.assertAlive(call);
      call.setupMs = round3((this.clock.nowUs() - call.tStartUs) / 1000);
      call.state = 'up';
      call.log.info('call.up', {port: call.port, externalMedia: call.emId, setupMs: call.setupMs});
    } catch (err) {
      if (call.state === 'setup') {
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
    call.tEndUs = this.clock.nowUs();
    call.endReason = reason;
    call.state = 'ending';
    call.abort.abort();
    call.log.info('call.end', {reason});
    call.done = (async () => {
      const ari = this.ari;
      const warn = (err: unknown) => {
        if (!isAriHttpError(err, 404)) call.log.warn('call.teardown_step_failed', {error: errorMessage(err)});
      };
      if (wasUp && !this.leg.drainsItself && drainMs > 0) {
        // no relay holds the stream: take externalMedia out of the bridge (Asterisk stops sending
        // to it) and let the echoed packets in flight come back before hanging it up
        await ari.removeChannel(call.bridgeId, [call.emId]).catch(warn);
        await new Promise<void>((resolve) => this.clock.setTimer(resolve, drainMs));
      }
      // a leg still opening, or an externalMedia request in flight, is waited for: closed, not leaked
      const leg = call.legOpening ? await call.legOpening.catch(() => null) : null;
      const legClose = leg ? leg.close(this.leg.drainsItself ? drainMs : 0) : Promise.resolve(null);
      const emCreated = call.emRequest ? await call.emRequest.then(() => true, () => false) : false;
      const steps: Array<Promise<unknown>> = [ari.hangup(call.callerId), ari.destroyBridge(call.bridgeId)];
      if (emCreated) steps.push(ari.hangup(call.emId));
      for (const r of await Promise.allSettled(steps)) if (r.status === 'rejected') warn(r.reason);
      const stats = await legClose.catch((err: unknown) => {
        call.log.warn('call.leg_close_failed', {error: errorMessage(err)});
        return null;
      });
      if (!wasUp && call.error === null) call.error = `call ended during setup (${reason})`;
      const record = callRecordFrom(stats, {
        index: call.index,
        runId: call.runId,
        channelId: call.callerId,
        externalMediaChannelId: emCreated ? call.emId : null,
        bridgeId: call.bridgeId,
        port: leg?.port ?? null,
        startedAt: call.startedAt,
        endedAt: new Date(),
        tStartUs: call.tStartUs,
        tEndUs: call.tEndUs,
        setupMs: call.setupMs,
        endReason: call.endReason,
        error: call.error,
        bridgedAtUs: call.bridgedAtUs > 0 ? call.bridgedAtUs : null,
        lateFrames: call.lateFrames.toRecord(),
        timeline: relayCallTimeline(call.timeline),
      });
      call.log.info('call.measured', {
        packetsUp: record.packetsUp,
        packetsBack: record.packetsBack,
        lost: record.lost,
        late: record.late,
        rttP99Ms: record.rttMs?.p99 ?? null,
        error: record.error ?? undefined,
      });
      call.state = 'ended';
      this.ledger.callEnded(call, stats, record);
      this.calls.delete(call.callerId);
      this.byChannel.delete(call.callerId);
      this.byChannel.delete(call.emId);
    })();
    return call.done;
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
    const plan = findZombies({
      channels,
      bridges,
      app: this.config.app,
      liveChannelIds,
      liveBridgeIds,
      liveCallIds,
      ownChannelIds: liveChannelIds,
      ownsExternalHost: (host, port) => this.leg.ownsExternalHost(host, port),
    });
    await Promise.allSettled([...plan.channels.map((c) => this.ari.hangup(c.id)), ...plan.bridges.map((b) => this.ari.destroyBridge(b.id))]);
    const removed = plan.channels.length + plan.bridges.length;
    this.ledger.zombiesRemoved(removed);
    if (removed > 0 || callsEnded > 0)
      this.log.info('reconcile', {reason, zombieChannels: plan.channels.length, zombieBridges: plan.bridges.length, callsEnded});
    return {channels: plan.channels.length, bridges: plan.bridges.length, callsEnded};
  }

  /**
   * The media engine died: every call in flight fails with its reason ("media engine died
   * (SIGKILL) at 3.5 s", the time since the call started) and is torn down (ports released,
   * channels and bridge gone in Asterisk).
   */
  failLive(reason: string): void {
    const now = this.clock.nowUs();
    for (const call of [...this.calls.values()]) {
      if (call.state === 'ending' || call.state === 'ended') continue;
      const at = `${reason} at ${((now - call.tStartUs) / 1e6).toFixed(1)} s`;
      call.error ??= at;
      void this.teardown(call, at, 0);
    }
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

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
