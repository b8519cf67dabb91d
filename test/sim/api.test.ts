/** Listing and state endpoints reflect reality; less common operations behave like Asterisk. */
import {createSocket, type Socket} from 'node:dgram';
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals';
import {isSimInfo, startSim, type SimHandle} from '../../src/sim/index.js';
import {ari, EventRecorder, readJsonl, sleep} from './helpers.js';

const byId = (id: string) => (e: {data: Record<string, unknown>}) => (e.data.channel as {id?: string} | undefined)?.id === id;

describe('sim ARI state and misc operations', () => {
  let sim: SimHandle;
  let rec: EventRecorder;

  beforeAll(async () => {
    sim = await startSim({port: 0, seed: 21, answerDelayMs: 0, race: {before: 1, late: 0}});
    rec = await EventRecorder.open(sim.url);
  });

  afterAll(async () => {
    rec?.close();
    await sim?.close();
  });

  it('asterisk/info keeps the recorded keys, says it is the sim, honours only=', async () => {
    const recorded = readJsonl<{response: Record<string, unknown>}>('rest-transcript.jsonl')[0].response;
    const info = (await ari(sim.url, 'GET', '/asterisk/info')).body as Record<string, unknown>;
    expect(Object.keys(info).sort()).toEqual(Object.keys(recorded).sort());
    expect(isSimInfo(info)).toBe(true);
    expect(isSimInfo(recorded)).toBe(false);
    expect(Object.keys((await ari(sim.url, 'GET', '/asterisk/info', {only: 'system'})).body as object)).toEqual(['system']);
  });

  it('channels, bridges and applications lists show live objects and nothing after teardown', async () => {
    const local = (await ari(sim.url, 'POST', '/channels', {endpoint: 'Local/s@rtpsla-source/n', app: 'rtpsla'})).body as {id: string};
    await rec.waitFor((e) => e.type === 'StasisStart' && byId(local.id)(e));
    const em = (await ari(sim.url, 'POST', '/channels/externalMedia', {app: 'rtpsla', external_host: '127.0.0.1:40100', format: 'slin16', channelId: 'em-1'})).body as {id: string};
    expect(em.id).toBe('em-1');
    const b = (await ari(sim.url, 'POST', '/bridges', {type: 'mixing', name: 'x', bridgeId: 'b-1'})).body as {id: string};
    expect(b.id).toBe('b-1');
    expect((await ari(sim.url, 'POST', '/bridges/b-1/addChannel', {channel: `${local.id},em-1`})).status).toBe(204);

    const channels = (await ari(sim.url, 'GET', '/channels')).body as Array<{id: string; name: string}>;
    expect(channels.map((c) => c.name)).toEqual([expect.stringMatching(/;1$/), expect.stringMatching(/;2$/), expect.stringMatching(/^UnicastRTP\//)]);
    expect((await ari(sim.url, 'GET', '/bridges')).body).toEqual([expect.objectContaining({id: 'b-1', channels: [local.id, 'em-1'], technology: 'simple_bridge'})]);
    const apps = (await ari(sim.url, 'GET', '/applications')).body as Array<{name: string; channel_ids: string[]; bridge_ids: string[]}>;
    expect(apps).toEqual([expect.objectContaining({name: 'rtpsla', bridge_ids: ['b-1']})]);
    expect(apps[0].channel_ids).toEqual(expect.arrayContaining([local.id, 'em-1']));
    expect((await ari(sim.url, 'GET', '/applications/rtpsla')).status).toBe(200);
    expect((await ari(sim.url, 'GET', '/applications/nope')).status).toBe(404);

    // destroying a bridge with channels in it: the Local channel leaves; the externalMedia
    // channel only gets BRIDGEPEER="" until it is hung up (as recorded), then BridgeDestroyed
    rec.clear();
    expect((await ari(sim.url, 'DELETE', '/bridges/b-1')).status).toBe(204);
    await rec.waitCount((e) => e.type === 'ChannelVarset', 2);
    expect((await ari(sim.url, 'GET', '/bridges')).body).toEqual([]);
    expect((await ari(sim.url, 'DELETE', `/channels/${local.id}`)).status).toBe(204);
    await rec.waitFor((e) => e.type === 'ChannelDestroyed' && byId(local.id)(e));
    expect(rec.types()).not.toContain('BridgeDestroyed');
    expect((await ari(sim.url, 'DELETE', '/channels/em-1')).status).toBe(204);
    await rec.waitFor((e) => e.type === 'ChannelDestroyed' && byId('em-1')(e));
    const types = rec.types();
    expect(types.slice(0, 3)).toEqual(['ChannelVarset', 'ChannelLeftBridge', 'ChannelVarset']);
    expect(types.filter((t) => t === 'ChannelLeftBridge')).toHaveLength(2);
    expect(types.slice(types.indexOf('BridgeDestroyed') - 2, types.indexOf('BridgeDestroyed') + 2)).toEqual(['ChannelHangupRequest', 'ChannelLeftBridge', 'BridgeDestroyed', 'StasisEnd']);
    expect((await ari(sim.url, 'GET', '/channels')).body).toEqual([]);
    expect((await ari(sim.url, 'GET', '/bridges')).body).toEqual([]);
    expect(((await ari(sim.url, 'GET', '/applications')).body as Array<{channel_ids: string[]}>)[0].channel_ids).toEqual([]);
  });

  it('originate from a JSON body with variables, channel variables and functions, appArgs as StasisStart args', async () => {
    const res = await ari(sim.url, 'POST', '/channels', {}, {body: {endpoint: 'Local/silence@rtpsla-source/n', app: 'rtpsla', appArgs: 'a,b', callerId: '"Bob" <100>', variables: {FOO: 'bar'}}});
    expect(res.status).toBe(200);
    const id = (res.body as {id: string}).id;
    const start = await rec.waitFor((e) => e.type === 'StasisStart' && byId(id)(e));
    expect(start.data.args).toEqual(['a', 'b']);
    expect((start.data.channel as {caller: object}).caller).toEqual({name: 'Bob', number: '100'});
    expect((await ari(sim.url, 'GET', `/channels/${id}/variable`, {variable: 'FOO'})).body).toEqual({value: 'bar'});
    expect((await ari(sim.url, 'GET', `/channels/${id}/variable`, {variable: 'CHANNEL(name)'})).body).toEqual({value: expect.stringMatching(/^Local\/silence@rtpsla-source-[0-9a-f]{8};1$/)});
    expect((await ari(sim.url, 'POST', `/channels/${id}/variable`, {variable: 'X', value: 'y'})).status).toBe(204);
    await rec.waitFor((e) => e.type === 'ChannelVarset' && e.data.variable === 'X' && e.data.value === 'y');
    expect((await ari(sim.url, 'POST', `/channels/${id}/answer`)).status).toBe(204);
    await rec.waitFor((e) => e.type === 'ChannelDialplan' && e.data.dialplan_app === 'Wait');
    rec.clear();
    // hanging up the ;2 half takes the pair down
    const two = ((await ari(sim.url, 'GET', '/channels')).body as Array<{id: string; name: string}>).find((c) => c.name.endsWith(';2'))!;
    expect((await ari(sim.url, 'DELETE', `/channels/${two.id}`, {reason: 'busy'})).status).toBe(204);
    await rec.waitCount((e) => e.type === 'ChannelDestroyed', 2);
    expect(rec.events.find((e) => e.type === 'ChannelDestroyed')!.data).toMatchObject({cause: 17, cause_txt: 'User busy'});
    expect(rec.types()).toContain('StasisEnd');
    expect((await ari(sim.url, 'GET', '/channels')).body).toEqual([]);
  });

  it('a second events socket for the app replaces the first (ApplicationReplaced)', async () => {
    const second = await EventRecorder.open(sim.url);
    await rec.waitFor((e) => e.type === 'ApplicationReplaced');
    const c = (await ari(sim.url, 'POST', '/channels', {endpoint: 'Local/s@rtpsla-source/n', app: 'rtpsla'})).body as {id: string};
    await second.waitFor((e) => e.type === 'StasisStart' && byId(c.id)(e));
    await sleep(20);
    expect(rec.events.some((e) => e.type === 'StasisStart' && byId(c.id)(e))).toBe(false);
    await ari(sim.url, 'DELETE', `/channels/${c.id}`);
    await second.waitCount((e) => e.type === 'ChannelDestroyed', 2);
    second.close();
  });

  it('a channel originated into an app nobody listens to is hung up (no Stasis)', async () => {
    const c = (await ari(sim.url, 'POST', '/channels/externalMedia', {app: 'not-registered', external_host: '127.0.0.1:40102', format: 'ulaw'}));
    expect(c.status).toBe(200);
    await sleep(30);
    expect((await ari(sim.url, 'GET', `/channels/${(c.body as {id: string}).id}`)).status).toBe(404);
  });

  it('allocates even RTP ports from the range, skips a port someone else holds, 500 when none is left', async () => {
    // find two free even ports p, p+2 and hold p
    let held: Socket | undefined;
    let p = 0;
    for (let cand = 46000; cand < 47000 && !held; cand += 4) {
      const a = createSocket('udp4');
      const ok = await new Promise<boolean>((r) => {
        a.once('error', () => r(false));
        a.bind(cand, '127.0.0.1', () => r(true));
      });
      if (!ok) {
        a.close();
        continue;
      }
      const b = createSocket('udp4');
      const ok2 = await new Promise<boolean>((r) => {
        b.once('error', () => r(false));
        b.bind(cand + 2, '127.0.0.1', () => r(true));
      });
      b.close();
      if (ok2) {
        held = a;
        p = cand;
      } else a.close();
    }
    expect(held).toBeDefined();
    const small = await startSim({port: 0, rtpRange: {low: p, high: p + 2}, race: {before: 1, late: 0}});
    const r = await EventRecorder.open(small.url);
    try {
      const em = await ari(small.url, 'POST', '/channels/externalMedia', {app: 'rtpsla', external_host: '127.0.0.1:40104', format: 'ulaw'});
      expect((em.body as {channelvars: Record<string, string>}).channelvars.UNICASTRTP_LOCAL_PORT).toBe(String(p + 2));
      const none = await ari(small.url, 'POST', '/channels/externalMedia', {app: 'rtpsla', external_host: '127.0.0.1:40104', format: 'ulaw'});
      expect(none.status).toBe(500);
    } finally {
      r.close();
      held!.close();
      await small.close();
    }
  });
});
