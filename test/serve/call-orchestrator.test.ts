/**
 * The call orchestrator driven through a fake ARI (no process, no socket), with the event orderings
 * recorded from a real Asterisk 22.10.1 (test/sim/fixtures, see its README): the events are the
 * recorded messages (ids mapped onto this call's), delivered where the recordings place them
 * relative to the REST calls. The media leg is serve's RelayLeg on a real PortPool with a relay
 * that opens no socket; time is a DrivenClock.
 */
import {EventEmitter} from 'node:events';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import type {AriConnectionEvents} from '../../src/ari/connection.js';
import {AriHttpError} from '../../src/ari/rest.js';
import type {AriAnyEvent, AriBridge, AriChannel} from '../../src/ari/types.js';
import type {ExternalMediaParams, ExternalMediaResult} from '../../src/ari/rest.js';
import {nullLogger} from '../../src/log/logger.js';
import {CallMeter, type MeterSinks} from '../../src/metrics/call-stats.js';
import {loadAppArgs, newRunToken} from '../../src/protocol/app-args.js';
import {RunRecordsSchema, ServeCallRecordSchema} from '../../src/protocol/serve-api.js';
import type {UdpAddress} from '../../src/media/relay/node.js';
import {PortPool} from '../../src/media/relay/port-pool.js';
import type {MeasuringRelay, RelayOpener} from '../../src/media/relay/types.js';
import {DrivenClock} from '../../src/runtime/clock.js';
import {CallOrchestrator, type AriOps} from '../../src/serve/call-orchestrator.js';
import {ServeLedger} from '../../src/serve/ledger.js';
import {RelayLeg} from '../../src/serve/media-leg.js';

const FIXTURES = path.join(import.meta.dirname, '../sim/fixtures');
const APP = 'rtpsla';
const RUN = 'run-1';

/** Recorded events of a fixture (`ari-events-call.jsonl`: one message per line; the core-stop file: {t_ms, event}). */
function recorded(file: string): AriAnyEvent[] {
  const out: AriAnyEvent[] = [];
  for (const line of readFileSync(path.join(FIXTURES, file), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as {type?: string; event?: AriAnyEvent | string};
    if (row.type) out.push(row as AriAnyEvent);
    else if (row.event) out.push(typeof row.event === 'string' ? (JSON.parse(row.event) as AriAnyEvent) : row.event);
  }
  return out;
}

/** The recording's ids replaced by this test's (caller, externalMedia, bridge), in every field. */
function remap(events: readonly AriAnyEvent[], ids: Record<string, string>): AriAnyEvent[] {
  let text = JSON.stringify(events);
  for (const [from, to] of Object.entries(ids)) text = text.split(`"${from}"`).join(`"${to}"`);
  return JSON.parse(text) as AriAnyEvent[];
}

function channelOf(ev: AriAnyEvent): AriChannel | undefined {
  return (ev.channel ?? ev.peer) as AriChannel | undefined;
}

type Hook = () => void | Promise<void>;

/**
 * Asterisk as the orchestrator sees it: REST answers (recorded in `rest`) and the events
 * WebSocket (an AriConnection emits each Stasis event by its type, as `deliver` does). A channel
 * is in Stasis from its StasisStart to its StasisEnd; addChannel of one that is not answers 422
 * "Channel not in Stasis application", as Asterisk does. `before[op]` runs before an answer
 * (events Asterisk sends before the response); `down` makes every request fail like a stopped Asterisk.
 */
class FakeAsterisk implements AriOps {
  readonly events = new EventEmitter<AriConnectionEvents>();
  readonly rest: string[] = [];
  readonly inStasis = new Set<string>();
  readonly bridges = new Map<string, Set<string>>();
  readonly before: Partial<Record<'answer' | 'addChannel' | 'externalMedia' | 'hangup' | 'destroyBridge', Hook>> = {};
  down = false;

  deliver(events: readonly AriAnyEvent[]): void {
    for (const ev of events) {
      const ch = channelOf(ev);
      if (ev.type === 'StasisStart' && ch) this.inStasis.add(ch.id);
      if (ev.type === 'StasisEnd' && ch) this.inStasis.delete(ch.id);
      (this.events.emit as (type: string, ...args: unknown[]) => boolean)(ev.type, ev);
    }
  }

  private async op(line: string, hook?: Hook): Promise<void> {
    this.rest.push(line);
    await hook?.();
    if (this.down) throw new AriHttpError(line.split(' ')[0], line.split(' ')[1], 0, 'connect ECONNREFUSED 127.0.0.1:8088');
  }

  async answer(id: string): Promise<void> {
    await this.op(`POST /channels/${id}/answer`, this.before.answer);
  }
  async hangup(id: string): Promise<boolean> {
    await this.op(`DELETE /channels/${id}`, this.before.hangup);
    return true;
  }
  async createBridge(p: {bridgeId?: string; name?: string}): Promise<AriBridge> {
    await this.op(`POST /bridges ${p.bridgeId}`);
    this.bridges.set(p.bridgeId!, new Set());
    return {id: p.bridgeId!, name: p.name ?? '', technology: 'simple_bridge', bridge_type: 'mixing', channels: []};
  }
  async addChannel(bridgeId: string, ids: readonly string[]): Promise<void> {
    await this.op(`POST /bridges/${bridgeId}/addChannel ${ids.join(',')}`, this.before.addChannel);
    if (ids.some((id) => !this.inStasis.has(id))) throw new AriHttpError('POST', `/bridges/${bridgeId}/addChannel`, 422, 'Channel not in Stasis application');
    for (const id of ids) this.bridges.get(bridgeId)?.add(id);
  }
  async removeChannel(bridgeId: string, ids: readonly string[]): Promise<void> {
    await this.op(`POST /bridges/${bridgeId}/removeChannel ${ids.join(',')}`);
  }
  async externalMedia(p: ExternalMediaParams): Promise<ExternalMediaResult> {
    await this.op(`POST /channels/externalMedia ${p.channelId} ${p.externalHost} ${p.format}`, this.before.externalMedia);
    const channel: AriChannel = {id: p.channelId!, name: `UnicastRTP/${p.externalHost}-0x7fbcac01d040`, state: 'Up'};
    return {channel, localAddress: '127.0.0.1', localPort: 11124};
  }
  async destroyBridge(id: string): Promise<boolean> {
    await this.op(`DELETE /bridges/${id}`, this.before.destroyBridge);
    return this.bridges.delete(id);
  }
  listChannels(): Promise<AriChannel[]> {
    return Promise.resolve([]);
  }
  listBridges(): Promise<AriBridge[]> {
    return Promise.resolve([]);
  }
}

/** A relay that opens no socket: its meter measures what the test feeds it; close reports the drain asked. */
class FakeRelay implements MeasuringRelay {
  readonly meter: CallMeter;
  asteriskAddress: UdpAddress | null = null;
  isOpen = true;
  closedWithDrainMs: number | null = null;
  readonly sendErrors = 0;
  constructor(
    readonly port: number,
    sinks: MeterSinks,
  ) {
    this.meter = new CallMeter(8000, 20, sinks);
  }
  setAsterisk(addr: UdpAddress): void {
    this.asteriskAddress = addr;
  }
  stats() {
    return this.meter.snapshot();
  }
  close(drainMs = 0) {
    this.isOpen = false;
    this.closedWithDrainMs ??= drainMs;
    return Promise.resolve(this.meter.snapshot());
  }
}

/** Let every pending promise chain run (no time passes on the driven clock). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

function setUp(o: {drainMs?: number} = {}) {
  const clock = new DrivenClock();
  const ari = new FakeAsterisk();
  const pool = new PortPool({low: 40000, high: 40003});
  const relays: FakeRelay[] = [];
  const open: RelayOpener = (opts) => {
    const r = new FakeRelay(opts.port, opts.sinks!);
    relays.push(r);
    return Promise.resolve(r);
  };
  const ledger = new ServeLedger({engine: 'node', format: 'ulaw', pool});
  const leg = new RelayLeg(pool, {bindIp: '127.0.0.1', echo: {address: '127.0.0.1', port: 4000}, clockRateHz: 8000, lateThresholdMs: 20, openRelay: open});
  const calls = new CallOrchestrator(ari, ledger, leg, {app: APP, format: 'ulaw', drainMs: o.drainMs ?? 200, emStasisWaitMs: 2000, clock}, nullLogger);
  calls.listen(ari.events);
  return {clock, ari, pool, relays, ledger, calls};
}

const CALLER = `${RUN}-0`;
const token = newRunToken();

/** ari-events-call.jsonl with its ids mapped onto this call's; StasisStart carries load's appArgs. */
function callEvents(emId: string, bridgeId: string): AriAnyEvent[] {
  const evs = remap(recorded('ari-events-call.jsonl'), {'1795314087.0': CALLER, '1795314087.2': emId, 'c877db99-5716-471c-b2d5-fa64ddb037fc': bridgeId});
  evs[6].args = loadAppArgs(RUN, 0, token);
  return evs;
}

/** The recorded caller events up to its StasisStart (events 1-7), before serve chose any id. */
function callerStart(): AriAnyEvent[] {
  const evs = remap(recorded('ari-events-call.jsonl').slice(0, 7), {'1795314087.0': CALLER});
  evs[6].args = loadAppArgs(RUN, 0, token);
  return evs;
}

/** Feed the call's meter 50 packets (1 s of 20 ms frames), each back 2 ms later; the driven clock moves along. */
function media(clock: DrivenClock, relay: FakeRelay): void {
  for (let i = 0; i < 50; i++) {
    const t = clock.nowUs();
    relay.meter.upFields(0x1234, 100 + i, 160 * (i + 1), 0, false, 172, t, t + 10);
    clock.advanceMs(2);
    relay.meter.backFields(0x1234, 100 + i, 160 * (i + 1), 0, false, 172, clock.nowUs(), clock.nowUs() + 10);
    clock.advanceMs(18);
  }
}

/** The ids the orchestrator chose, read off its externalMedia and bridge requests. */
function chosenIds(ari: FakeAsterisk): {emId: string; bridgeId: string} {
  const em = ari.rest.find((l) => l.startsWith('POST /channels/externalMedia'))!.split(' ')[2];
  const bridge = ari.rest.find((l) => l.startsWith('POST /bridges '))!.split(' ')[2];
  return {emId: em, bridgeId: bridge};
}

function only<T>(xs: readonly T[]): T {
  expect(xs).toHaveLength(1);
  return xs[0];
}

function runRecord(ledger: ServeLedger) {
  const run = RunRecordsSchema.parse(JSON.parse(JSON.stringify(ledger.runRecords(RUN, false))));
  return ServeCallRecordSchema.parse(only(run.calls));
}

describe('call orchestrator on the recorded Asterisk orderings', () => {
  test('a normal call (ari-events-call.jsonl order): answer, port, bridge + caller, externalMedia, its StasisStart, addChannel; up; torn down on the caller\'s hangup with its record', async () => {
    const {clock, ari, pool, relays, ledger, calls} = setUp();
    // externalMedia's own StasisStart comes just after the REST response (0.3 ms in the serve trace)
    ari.before.externalMedia = () => {
      const call = calls.call(CALLER)!;
      queueMicrotask(() => queueMicrotask(() => ari.deliver(callEvents(call.emId, call.bridgeId).slice(7, 12))));
    };
    ari.deliver(callerStart());
    await settle();
    const {emId, bridgeId} = chosenIds(ari);
    const evs = callEvents(emId, bridgeId);
    expect(ari.rest).toEqual([
      `POST /channels/${CALLER}/answer`,
      `POST /bridges ${bridgeId}`,
      `POST /channels/externalMedia ${emId} 127.0.0.1:40000 ulaw`,
      `POST /bridges/${bridgeId}/addChannel ${CALLER}`,
      `POST /bridges/${bridgeId}/addChannel ${emId}`,
    ]);
    expect(emId).toMatch(/^rtpsla-em-/);
    const call = calls.call(CALLER)!;
    expect(call.state).toBe('up');
    expect(relays[0].asteriskAddress).toEqual({address: '127.0.0.1', port: 11124});
    expect(pool.held).toBe(1);
    expect(ledger.liveCalls()).toEqual([expect.objectContaining({callId: CALLER, runId: RUN, index: 0, state: 'up', port: 40000})]);

    ari.deliver(evs.slice(12, 17)); // ChannelEnteredBridge ×2, BRIDGEPEER: nothing to do
    media(clock, relays[0]);
    ari.rest.length = 0;
    ari.deliver(evs.slice(17, 26)); // load hung the caller up: its StasisEnd, ChannelDestroyed
    await settle();
    expect(ari.rest).toEqual([`DELETE /channels/${CALLER}`, `DELETE /bridges/${bridgeId}`, `DELETE /channels/${emId}`]);
    ari.deliver(evs.slice(26)); // the externalMedia channel's hangup, then BridgeDestroyed
    await settle();

    expect(calls.liveCount).toBe(0);
    expect(call.state).toBe('ended');
    expect(relays[0].closedWithDrainMs).toBe(200); // the relay drains echoed packets itself
    expect(pool.held).toBe(0);
    const r = runRecord(ledger);
    expect(r).toMatchObject({
      index: 0, runId: RUN, channelId: CALLER, externalMediaChannelId: emId, bridgeId, port: 40000,
      packetsUp: 50, packetsBack: 50, expected: 50, lost: 0, late: 0, error: null, endReason: 'caller left Stasis',
      payloadType: 0, packetBytes: 172, upGapMaxMs: 20, lastUpMs: 980, endMs: 1000,
    });
    expect(r.rttMs?.max).toBeCloseTo(2, 1); // every packet back 2 ms after it went out (histogram resolution)
    expect(r.setupMs).toBe(0); // no time passed on the driven clock during setup
    expect(ledger.callsFinished).toBe(1);
    expect(ledger.callsFailed).toBe(0);
    expect(ledger.addChannelRetries422).toBe(0);
    expect(ledger.mediaTotals()).toMatchObject({packetsUp: 50, packetsBack: 50, lost: 0});
  });

  test('the 422 race: externalMedia\'s StasisStart after the first addChannel → 422, retried on the clock, then 204', async () => {
    const {clock, ari, pool, ledger, calls} = setUp();
    ari.deliver([{type: 'StasisStart', args: loadAppArgs(RUN, 0, token), channel: {id: CALLER, name: 'Local/s@rtpsla-source-00000000;1', state: 'Up'}}]);
    await settle();
    const {emId, bridgeId} = chosenIds(ari);
    const evs = callEvents(emId, bridgeId);
    // no StasisStart in time: after emStasisWaitMs the orchestrator tries addChannel anyway
    expect(clock.pendingTimers).toBe(1);
    clock.advanceMs(2000);
    await settle();
    expect(ari.rest.filter((l) => l.endsWith(`addChannel ${emId}`))).toHaveLength(1); // 422, a retry waits on the clock
    expect(calls.call(CALLER)!.state).toBe('setup');
    expect(ledger.addChannelRetries422).toBe(1);
    ari.deliver(evs.slice(7, 12)); // its StasisStart arrives
    clock.advanceMs(5); // the retry's backoff
    await settle();
    expect(ari.rest.filter((l) => l.endsWith(`addChannel ${emId}`))).toHaveLength(2);
    expect(calls.call(CALLER)!.state).toBe('up');
    expect(calls.call(CALLER)!.setupMs).toBe(2005);

    ari.deliver(evs.slice(17, 26));
    await settle();
    ari.deliver(evs.slice(26));
    await settle();
    expect(runRecord(ledger)).toMatchObject({error: null, setupMs: 2005, packetsUp: 0, firstMediaMs: null});
    expect(pool.held).toBe(0);
    expect(calls.liveCount).toBe(0);
  });

  test('ChannelEnteredBridge arrives before the addChannel 204 (ari-serve-call-trace): the call is up once the 204 comes', async () => {
    const {ari, pool, ledger, calls} = setUp();
    let evs: AriAnyEvent[] = [];
    let emId = '';
    ari.before.externalMedia = () => {
      queueMicrotask(() => ari.deliver(evs.slice(7, 12)));
    };
    // Asterisk sends the second ChannelEnteredBridge (and BRIDGEPEER) before answering addChannel
    let entered = 0;
    ari.before.addChannel = () => {
      const line = ari.rest.at(-1)!;
      if (line.endsWith(emId)) {
        ari.deliver(evs.slice(14, 17));
        entered++;
        expect(calls.call(CALLER)!.state).toBe('setup');
      } else ari.deliver(evs.slice(13, 14));
    };
    ari.before.answer = () => {
      // ids are chosen when the call starts, before answer
      const call = calls.call(CALLER)!;
      emId = call.emId;
      evs = callEvents(call.emId, call.bridgeId);
    };
    ari.deliver(callerStart());
    await settle();
    expect(entered).toBe(1);
    expect(calls.call(CALLER)!.state).toBe('up');
    ari.deliver(evs.slice(17));
    await settle();
    expect(runRecord(ledger).error).toBeNull();
    expect(pool.held).toBe(0);
  });

  test('the late BridgeDestroyed: DELETE /bridges answers 204 but BridgeDestroyed comes only after the externalMedia hangup; nothing waits for it', async () => {
    const {ari, pool, ledger, calls} = setUp();
    ari.before.externalMedia = () => {
      const call = calls.call(CALLER)!;
      queueMicrotask(() => ari.deliver(callEvents(call.emId, call.bridgeId).slice(7, 12)));
    };
    ari.deliver(callerStart());
    await settle();
    const {emId, bridgeId} = chosenIds(ari);
    const evs = callEvents(emId, bridgeId);
    const order: string[] = [];
    // as recorded: after DELETE /bridges only BRIDGEPEER="" for the externalMedia channel; its
    // ChannelLeftBridge and BridgeDestroyed follow its hangup
    ari.before.destroyBridge = () => {
      order.push('bridge 204');
    };
    ari.before.hangup = () => {
      const line = ari.rest.at(-1)!;
      if (line.endsWith(emId)) {
        order.push('em hangup');
        queueMicrotask(() => {
          ari.deliver(evs.slice(26, 29)); // ChannelHangupRequest, BRIDGEPEER, ChannelLeftBridge
          ari.deliver(evs.slice(32)); // BridgeDestroyed
          order.push('BridgeDestroyed');
          ari.deliver(evs.slice(29, 32)); // StasisEnd, STASISSTATUS, ChannelDestroyed
        });
      }
    };
    ari.deliver(evs.slice(17, 26));
    await settle();
    expect(order).toEqual(['bridge 204', 'em hangup', 'BridgeDestroyed']);
    expect(calls.liveCount).toBe(0);
    expect(runRecord(ledger)).toMatchObject({error: null, endReason: 'caller left Stasis'});
    // each channel and the bridge are deleted once: the externalMedia channel's own StasisEnd starts nothing new
    expect(ari.rest.filter((l) => l.startsWith('DELETE')).sort()).toEqual([`DELETE /bridges/${bridgeId}`, `DELETE /channels/${CALLER}`, `DELETE /channels/${emId}`].sort());
    expect(pool.held).toBe(0);
  });

  test('core stop now: every channel hung up by Asterisk (StasisEnd, ChannelDestroyed, no BridgeDestroyed), then the WebSocket closes 1006; every call ends with its record, nothing leaks', async () => {
    const {clock, ari, pool, relays, ledger, calls} = setUp();
    const stop = recorded('ari-events-core-stop-now.jsonl');
    // two live calls, each bridged as recorded (rec-call-1 / rec-em-1 / rec-bridge-1 mapped onto each)
    const perCall: AriAnyEvent[][] = [];
    for (let i = 0; i < 2; i++) {
      const caller = `${RUN}-${i}`;
      ari.before.externalMedia = () => {
        const call = calls.call(caller)!;
        const evs = remap(stop, {'rec-call-1': caller, 'rec-em-1': call.emId, 'rec-bridge-1': call.bridgeId, 'rec-call-1;2': `${caller};2`});
        perCall[i] = evs;
        queueMicrotask(() => ari.deliver(evs.filter((e) => e.type === 'StasisStart' && channelOf(e)!.id === call.emId)));
      };
      ari.deliver([{type: 'StasisStart', args: loadAppArgs(RUN, i, token), channel: {id: caller, name: `Local/s@rtpsla-source-0000000${i};1`, state: 'Up'}}]);
      await settle();
      expect(calls.call(caller)!.state).toBe('up');
    }
    media(clock, relays[0]);
    expect(pool.held).toBe(2);
    ari.rest.length = 0;
    ari.down = true; // Asterisk is stopping: its HTTP answers nothing any more
    const hangupPart = (evs: AriAnyEvent[]) => evs.slice(evs.findIndex((e) => e.type === 'ChannelHangupRequest'));
    for (const evs of perCall) {
      const part = hangupPart(evs);
      expect(part.map((e) => e.type)).not.toContain('BridgeDestroyed');
      ari.deliver(part);
    }
    ari.events.emit('disconnected', {code: 1006, reason: '', downMs: 0} as never);
    await settle();

    expect(calls.liveCount).toBe(0);
    expect(ledger.activeCalls).toBe(0);
    expect(pool.held).toBe(0);
    expect(relays.every((r) => !r.isOpen)).toBe(true);
    const run = RunRecordsSchema.parse(JSON.parse(JSON.stringify(ledger.runRecords(RUN, false))));
    expect(run.calls.map((c) => [c.index, c.error])).toEqual([[0, null], [1, null]]);
    expect(run.calls[0]).toMatchObject({packetsUp: 50, packetsBack: 50, lost: 0});
    // the externalMedia channel's StasisEnd comes first in the recording: that is what ended each call
    expect(run.calls.map((c) => c.endReason)).toEqual(['externalMedia left Stasis', 'externalMedia left Stasis']);
    // serve still tried to clean up (each call once), and the failures did not stop the records
    for (const c of run.calls) expect(ari.rest).toEqual(expect.arrayContaining([`DELETE /channels/${c.channelId}`, `DELETE /bridges/${c.bridgeId}`, `DELETE /channels/${c.externalMediaChannelId}`]));
    expect(ari.rest).toHaveLength(6);
    expect(run.histograms).not.toBeNull();
  });

  test('a caller that hangs up while its relay port is being opened: the relay opened meanwhile is closed and its port released (nothing leaks)', async () => {
    const {ari, pool, ledger} = setUp();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const relays: FakeRelay[] = [];
    const slowLeg = new RelayLeg(pool, {
      bindIp: '127.0.0.1', echo: {address: '127.0.0.1', port: 4000}, clockRateHz: 8000, lateThresholdMs: 20,
      openRelay: async (opts) => {
        await gate;
        const r = new FakeRelay(opts.port, opts.sinks!);
        relays.push(r);
        return r;
      },
    });
    const slow = new CallOrchestrator(ari, ledger, slowLeg, {app: APP, format: 'ulaw', drainMs: 200, emStasisWaitMs: 2000, clock: new DrivenClock()}, nullLogger);
    slow.onStasisStart({type: 'StasisStart', args: loadAppArgs(RUN, 0, token), channel: {id: CALLER, name: 'Local/s@x;1', state: 'Up'}});
    await settle();
    expect(pool.held).toBe(1);
    slow.onChannelGone(CALLER, 'left Stasis');
    release();
    await settle();
    expect(relays[0].isOpen).toBe(false);
    expect(pool.held).toBe(0);
    expect(slow.liveCount).toBe(0);
    expect(runRecord(ledger)).toMatchObject({error: 'call ended during setup (caller left Stasis)', externalMediaChannelId: null, port: 40000});
    expect(ari.rest.some((l) => l.startsWith('POST /channels/externalMedia'))).toBe(false);
  });
});

describe("load's RTP caller: an externalMedia channel that is the caller", () => {
  const stasisStart = (id: string, name: string, args: string[]): AriAnyEvent => ({type: 'StasisStart', args, channel: {id, name, state: 'Up'}}) as AriAnyEvent;

  test('is told apart by its args: answered (a no-op on an Up channel), bridged with serve\'s own externalMedia; the record has the bridge time and the relay\'s late frames', async () => {
    const {clock, ari, relays, ledger, calls} = setUp();
    ari.before.externalMedia = () => {
      const call = calls.call(CALLER)!;
      queueMicrotask(() => ari.deliver([stasisStart(call.emId, 'UnicastRTP/127.0.0.1:40000-0x2', [])]));
    };
    // someone else's externalMedia (no load args) is never a call
    ari.deliver([stasisStart('other-em', 'UnicastRTP/127.0.0.1:52002-0x9', [])]);
    await settle();
    expect(ari.rest).toEqual([]);
    clock.advanceMs(5);
    ari.deliver([stasisStart(CALLER, 'UnicastRTP/127.0.0.1:52000-0x1', loadAppArgs(RUN, 0, token))]);
    await settle();
    const {emId, bridgeId} = chosenIds(ari);
    expect(ari.rest).toEqual([
      `POST /channels/${CALLER}/answer`,
      `POST /bridges ${bridgeId}`,
      `POST /channels/externalMedia ${emId} 127.0.0.1:40000 ulaw`,
      `POST /bridges/${bridgeId}/addChannel ${CALLER}`,
      `POST /bridges/${bridgeId}/addChannel ${emId}`,
    ]);
    expect(calls.call(CALLER)!.state).toBe('up');
    // 1 s of media; the frame with ts 1600 comes back 30 ms late, late through the media server
    const m = relays[0].meter;
    for (let i = 0; i < 50; i++) {
      const t = clock.nowUs();
      m.upFields(0x1234, 100 + i, 160 * i, 0, false, 172, t, t + 10);
      clock.advanceMs(i === 10 ? 30 : 1);
      m.backFields(0x1234, 100 + i, 160 * i, 0, false, 172, clock.nowUs(), clock.nowUs() + 10);
      clock.advanceMs(i === 10 ? 0 : 19);
    }
    ari.deliver([{type: 'StasisEnd', channel: {id: CALLER, name: 'UnicastRTP/127.0.0.1:52000-0x1', state: 'Up'}} as AriAnyEvent]);
    await settle();
    const r = runRecord(ledger);
    expect(r).toMatchObject({channelId: CALLER, externalMediaChannelId: emId, error: null, bridgedAtMs: 0});
    expect(r.late).toBeGreaterThan(0);
    expect(r.lateFrames).toEqual({ts: expect.arrayContaining([1600]), leg: expect.stringMatching(/^m+$/), truncated: false});
    expect(r.lateFrames!.ts).toHaveLength(r.late);
  });
});

