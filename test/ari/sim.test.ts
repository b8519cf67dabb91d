/**
 * The ARI adapter against the real simulator (`startSim`, in-process): connect, the call flow
 * serve and load build on, teardown without leaks, reconciliation, error mapping, and the
 * supervised reconnect after the sim drops the events WebSocket.
 */
import {randomUUID} from 'node:crypto';
import {
  AriConnection,
  AriHttpError,
  addChannelWhenInStasis,
  bridgeNameFor,
  connectAri,
  findZombies,
  type StasisStartEvent,
} from '../../src/ari/index.js';
import {ConnectError} from '../../src/errors.js';
import {sleep} from '../helpers/cli.js';
import {SIM_PASS, SIM_USER, nextEvent, rtpSink, startTestSim, type TestSim} from './sim-harness.js';

const APP = 'rtpsla-ari-test';

async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** What serve does for one call, with the adapter's helpers. */
async function setUpCall(conn: AriConnection, index: number, externalPort: number) {
  const callerId = `caller-${randomUUID()}`;
  const emId = `em-${randomUUID()}`;
  const callId = randomUUID();
  const bridgeId = `br-${callId}`;
  const started = nextEvent(conn, 'StasisStart', (ev) => ev.channel.id === callerId);
  const emStarted = nextEvent(conn, 'StasisStart', (ev) => ev.channel.id === emId);
  await conn.rest.originate({
    endpoint: 'Local/s@rtpsla-source/n',
    app: APP,
    appArgs: ['rtpsla-load', 'run1', String(index)],
    formats: 'ulaw',
    channelId: callerId,
  });
  const [start] = await started;
  await conn.rest.answer(callerId);
  await conn.rest.createBridge({type: 'mixing', bridgeId, name: bridgeNameFor(callId, APP)});
  await conn.rest.addChannel(bridgeId, [callerId]);
  const em = await conn.rest.externalMedia({channelId: emId, app: APP, externalHost: `127.0.0.1:${externalPort}`, format: 'ulaw'});
  let retries = 0;
  await addChannelWhenInStasis(conn.rest, bridgeId, [emId], {onRetry: () => retries++});
  await emStarted;
  return {callerId, emId, callId, bridgeId, start: start as StasisStartEvent, em, retries};
}

describe('ARI adapter against the sim', () => {
  let sim: TestSim;
  let conn: AriConnection;

  beforeAll(async () => {
    sim = await startTestSim();
    conn = new AriConnection({url: sim.url, user: SIM_USER, pass: SIM_PASS, app: APP, reconnect: {initialMs: 50, maxMs: 200}});
  });
  afterAll(async () => {
    await conn?.close();
    await sim?.close();
  });

  it('connects, says it is the sim, emits connected', async () => {
    const connected = nextEvent(conn, 'connected');
    const info = await conn.connect();
    await connected;
    expect(conn.connected).toBe(true);
    expect(info.isSim).toBe(true);
  });

  it('runs a call: originate → StasisStart with args → answer → bridge → externalMedia → addChannel → RTP → teardown leaves nothing', async () => {
    const sink = await rtpSink();
    try {
      const call = await setUpCall(conn, 0, sink.port);
      expect(call.start.args).toEqual(['rtpsla-load', 'run1', '0']);
      expect(call.start.channel.name).toMatch(/^Local\/s@rtpsla-source-[0-9a-f]+;1$/);
      expect(call.em.channel.id).toBe(call.emId);
      expect(call.em.channel.name.startsWith('UnicastRTP/127.0.0.1:' + sink.port)).toBe(true);
      expect(call.em.localAddress).toBe('127.0.0.1');
      expect(call.em.localPort).toBeGreaterThan(0);

      const bridge = await conn.rest.getBridge(call.bridgeId);
      expect(bridge?.channels.sort()).toEqual([call.callerId, call.emId].sort());
      await waitUntil(() => sink.packets() > 0, 5000, 'RTP from the sim');

      const callerEnd = nextEvent(conn, 'StasisEnd', (ev) => ev.channel.id === call.callerId);
      const emDestroyed = nextEvent(conn, 'ChannelDestroyed', (ev) => ev.channel.id === call.emId);
      const bridgeDestroyed = nextEvent(conn, 'BridgeDestroyed', (ev) => ev.bridge.id === call.bridgeId);
      expect(await conn.rest.hangup(call.callerId)).toBe(true);
      expect(await conn.rest.hangup(call.emId)).toBe(true);
      expect(await conn.rest.destroyBridge(call.bridgeId)).toBe(true);
      await Promise.all([callerEnd, emDestroyed, bridgeDestroyed]);

      // "already gone" is not an error
      expect(await conn.rest.hangup(call.emId)).toBe(false);
      expect(await conn.rest.destroyBridge(call.bridgeId)).toBe(false);
      expect(await conn.rest.getChannel(call.callerId)).toBeUndefined();

      await waitUntil(async () => (await conn.rest.listChannels()).length === 0, 5000, 'no channels');
      expect(await conn.rest.listBridges()).toEqual([]);
    } finally {
      sink.close();
    }
  });

  it('copes with the addChannel 422 race across concurrent calls', async () => {
    const sink = await rtpSink();
    try {
      const calls = await Promise.all(Array.from({length: 12}, (_, i) => setUpCall(conn, i, sink.port)));
      for (const c of calls) expect((await conn.rest.getBridge(c.bridgeId))?.channels).toHaveLength(2);
      await Promise.all(calls.flatMap((c) => [conn.rest.hangup(c.callerId), conn.rest.hangup(c.emId)]));
      await Promise.all(calls.map((c) => conn.rest.destroyBridge(c.bridgeId)));
      await waitUntil(async () => (await conn.rest.listChannels()).length === 0, 5000, 'no channels');
      expect(await conn.rest.listBridges()).toEqual([]);
    } finally {
      sink.close();
    }
  });

  it('reconciliation finds and removes zombie externalMedia channels and bridges, keeping live ones', async () => {
    const sink = await rtpSink();
    try {
      const live = await setUpCall(conn, 0, sink.port);
      const zombieBridge = await conn.rest.createBridge({name: bridgeNameFor('gone-call', APP)});
      const foreign = await conn.rest.createBridge({name: 'not-ours'});
      const zombieEm = await conn.rest.externalMedia({app: APP, externalHost: `127.0.0.1:${sink.port}`, format: 'ulaw'});

      const plan = findZombies({
        channels: await conn.rest.listChannels(),
        bridges: await conn.rest.listBridges(),
        app: APP,
        liveChannelIds: new Set([live.callerId, live.emId]),
        liveBridgeIds: new Set([live.bridgeId]),
      });
      expect(plan.channels.map((c) => c.id)).toEqual([zombieEm.channel.id]);
      expect(plan.bridges.map((b) => b.id)).toEqual([zombieBridge.id]);
      await Promise.all([...plan.channels.map((c) => conn.rest.hangup(c.id)), ...plan.bridges.map((b) => conn.rest.destroyBridge(b.id))]);

      await conn.rest.hangup(live.callerId);
      await conn.rest.hangup(live.emId);
      await conn.rest.destroyBridge(live.bridgeId);
      await conn.rest.destroyBridge(foreign.id);
      await waitUntil(async () => (await conn.rest.listChannels()).length === 0, 5000, 'no channels');
      expect(await conn.rest.listBridges()).toEqual([]);
    } finally {
      sink.close();
    }
  });

  it('maps an injected 500 to AriHttpError and a missing format to 400', async () => {
    await sim.fault({fail: {operation: 'externalMedia', status: 500, count: 1}});
    try {
      const err = await conn.rest.externalMedia({app: APP, externalHost: '127.0.0.1:4000', format: 'ulaw'}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AriHttpError);
      expect((err as AriHttpError).status).toBe(500);
    } finally {
      await sim.fault({clear: true});
    }
    const err = await conn.rest.externalMedia({app: APP, externalHost: '127.0.0.1:4000', format: ''}).catch((e: unknown) => e);
    expect(err).toMatchObject({status: 400});
    await waitUntil(async () => (await conn.rest.listChannels()).length === 0, 5000, 'no channels');
  });

  it('reconnects after the sim drops the WebSocket: disconnected, reconnected, events flow again', async () => {
    expect(conn.connected).toBe(true);
    const order: string[] = [];
    const onDown = () => order.push('disconnected');
    const onUp = () => order.push('reconnected');
    conn.on('disconnected', onDown);
    conn.on('reconnected', onUp);
    try {
      const down = nextEvent(conn, 'disconnected');
      const up = nextEvent(conn, 'reconnected', () => true, 15_000);
      await sim.fault({dropWebSocket: true});
      await down;
      expect(conn.connected).toBe(false);
      const [info] = await up;
      expect(info.attempts).toBeGreaterThanOrEqual(1);
      expect(order).toEqual(['disconnected', 'reconnected']);
      expect(conn.connected).toBe(true);

      // events flow on the new socket
      const callerId = `caller-${randomUUID()}`;
      const started = nextEvent(conn, 'StasisStart', (ev) => ev.channel.id === callerId);
      await conn.rest.originate({endpoint: 'Local/s@rtpsla-source/n', app: APP, appArgs: 'after,reconnect', formats: 'ulaw', channelId: callerId});
      const [ev] = await started;
      expect(ev.args).toEqual(['after', 'reconnect']);
      await conn.rest.hangup(callerId);
      await waitUntil(async () => (await conn.rest.listChannels()).length === 0, 5000, 'no channels');
    } finally {
      conn.off('disconnected', onDown);
      conn.off('reconnected', onUp);
    }
  });

  it('keeps reconnecting past the 10 retries after which ari-client gives up', async () => {
    // the next 12 WebSocket upgrades fail, then the sim accepts again
    await sim.fault({fail: {operation: 'eventWebsocket', status: 503, count: 12}});
    const up = nextEvent(conn, 'reconnected', () => true, 20_000);
    await sim.fault({dropWebSocket: true});
    const [info] = await up;
    expect(info.attempts).toBe(13);
    expect(conn.connected).toBe(true);
    const callerId = `caller-${randomUUID()}`;
    const started = nextEvent(conn, 'StasisStart', (ev) => ev.channel.id === callerId);
    await conn.rest.originate({endpoint: 'Local/s@rtpsla-source/n', app: APP, formats: 'ulaw', channelId: callerId});
    expect((await started)[0].args).toEqual([]);
    await conn.rest.hangup(callerId);
    await waitUntil(async () => (await conn.rest.listChannels()).length === 0, 5000, 'no channels');
  });

  it('a wrong password is a ConnectError with our message and no password', async () => {
    const err = await connectAri({url: sim.url, user: SIM_USER, pass: 'not-the-pass', app: APP}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(`ARI at ${sim.url} rejected the credentials for user '${SIM_USER}' (401)`);
    expect((err as Error).message).not.toContain('not-the-pass');
  });
});

describe('the externalMedia StasisStart race against the sim', () => {
  let sim: TestSim;
  let conn: AriConnection;
  beforeAll(async () => {
    // every externalMedia StasisStart arrives 2-4 ms after the REST response (probe G's 422 case)
    sim = await startTestSim({race: {before: 0, late: 1}});
    conn = await connectAri({url: sim.url, user: SIM_USER, pass: SIM_PASS, app: APP});
  });
  afterAll(async () => {
    await conn?.close();
    await sim?.close();
  });

  it('422 "Channel not in Stasis application" surfaces as AriHttpError; addChannelWhenInStasis retries until it is in', async () => {
    const sink = await rtpSink();
    try {
      const bridge = await conn.rest.createBridge({name: bridgeNameFor('race', APP)});
      const em = await conn.rest.externalMedia({app: APP, externalHost: `127.0.0.1:${sink.port}`, format: 'ulaw'});
      // The natural race is a few ms wide and a loaded machine can miss it, so the 422s this
      // test relies on are injected with the sim's fault switch (on top of the natural ones).
      await sim.fault({fail: {operation: 'addChannel', status: 422, message: 'Channel not in Stasis application', count: 3}});
      const err = await conn.rest.addChannel(bridge.id, [em.channel.id]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AriHttpError);
      expect(err).toMatchObject({status: 422, ariMessage: 'Channel not in Stasis application'});

      let retries = 0;
      await addChannelWhenInStasis(conn.rest, bridge.id, [em.channel.id], {onRetry: () => retries++});
      expect(retries).toBeGreaterThanOrEqual(2);
      expect((await conn.rest.getBridge(bridge.id))?.channels).toEqual([em.channel.id]);

      // bounded: a channel that never gets in fails after `attempts` tries with the last 422
      await sim.fault({fail: {operation: 'addChannel', status: 422, message: 'Channel not in Stasis application'}});
      await expect(addChannelWhenInStasis(conn.rest, bridge.id, [em.channel.id], {attempts: 3, initialDelayMs: 1})).rejects.toMatchObject({status: 422});
      await sim.fault({clear: true});

      await conn.rest.hangup(em.channel.id);
      await conn.rest.destroyBridge(bridge.id);
      await waitUntil(async () => (await conn.rest.listChannels()).length === 0, 5000, 'no channels');
      expect(await conn.rest.listBridges()).toEqual([]);
    } finally {
      sink.close();
    }
  });
});
