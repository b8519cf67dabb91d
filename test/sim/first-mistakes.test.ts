/**
 * What a new user gets wrong first, as the sim answers it like Asterisk: a Local channel to a
 * dialplan context it lacks is hung up with cause 1 before any StasisStart, a read_only ARI
 * user's writes answer 403, and a subscribeAll session sees the channels of other apps.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {dialplanContexts, parseContextName, parseReadOnlyUser} from '../../src/sim/chain-flags.js';
import {ari, EventRecorder, sleep} from './helpers.js';
import {runCli} from '../helpers/cli.js';

let sim: SimHandle;
beforeAll(async () => {
  sim = await startSim({port: 0, seed: 3, answerDelayMs: 50, dialplanContexts: dialplanContexts(['from-trunk']), readOnlyUsers: [{user: 'viewer', pass: 'v1ew'}]});
});
afterAll(async () => {
  await sim?.close();
});

const channelOf = (e: {data: Record<string, unknown>}) => e.data.channel as {id: string; name: string; state: string; dialplan: {app_name: string}};

describe('a Local channel to a dialplan context the sim lacks', () => {
  it('answers the originate 200 (state Down), then hangs both halves up with cause 1 and no StasisStart', async () => {
    const rec = await EventRecorder.open(sim.url);
    try {
      const res = await ari(sim.url, 'POST', '/channels', {endpoint: 'Local/s@nosuchcontext/n', app: 'rtpsla', appArgs: 'rtpsla-load,r1,0', channelId: 'nc-0', formats: 'ulaw'});
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({id: 'nc-0', name: expect.stringMatching(/^Local\/s@nosuchcontext-[0-9a-f]{8};1$/), state: 'Down'});
      await rec.waitCount((e) => e.type === 'ChannelDestroyed', 2);
      await sleep(100); // nothing more follows
      const seq = rec.events.map((e) => [e.type, channelOf(e).name.slice(-2), e.data.cause, e.data.cause_txt]);
      expect(seq).toEqual([
        ['ChannelHangupRequest', ';1', 1, undefined],
        ['ChannelDestroyed', ';2', 1, 'Unallocated (unassigned) number'],
        ['ChannelDestroyed', ';1', 1, 'Unallocated (unassigned) number'],
      ]);
      expect(rec.events.every((e) => e.data.application === 'rtpsla')).toBe(true);
      expect((await ari(sim.url, 'GET', '/channels/nc-0')).status).toBe(404);
      expect((await ari(sim.url, 'GET', '/channels')).body).toEqual([]);
    } finally {
      rec.close();
    }
  });

  it.each(['rtpsla-source', 'from-trunk'])('a context it has (%s) enters Stasis as recorded', async (context) => {
    const rec = await EventRecorder.open(sim.url);
    try {
      const res = await ari(sim.url, 'POST', '/channels', {endpoint: `Local/s@${context}/n`, app: 'rtpsla', channelId: `ok-${context}`});
      expect(res.status).toBe(200);
      await rec.waitFor((e) => e.type === 'StasisStart' && channelOf(e).id === `ok-${context}`);
      expect(rec.types()).not.toContain('ChannelDestroyed');
      expect((await ari(sim.url, 'DELETE', `/channels/ok-${context}`)).status).toBe(204);
    } finally {
      rec.close();
    }
  });
});

describe('a read_only ARI user', () => {
  const viewer = {user: 'viewer', pass: 'v1ew'};
  it('may read, and every write answers 403 "Write access denied" with nothing created', async () => {
    expect((await ari(sim.url, 'GET', '/asterisk/info', {}, {auth: viewer})).status).toBe(200);
    expect((await ari(sim.url, 'GET', '/bridges', {}, {auth: viewer})).status).toBe(200);
    const create = await ari(sim.url, 'POST', '/bridges', {type: 'mixing', name: 'probe'}, {auth: viewer});
    expect(create).toMatchObject({status: 403, body: {message: 'Write access denied'}});
    const originate = await ari(sim.url, 'POST', '/channels', {endpoint: 'Local/s@rtpsla-source/n', app: 'rtpsla'}, {auth: viewer});
    expect(originate.status).toBe(403);
    expect((await ari(sim.url, 'DELETE', '/bridges/none', {}, {auth: viewer})).status).toBe(403);
    expect((await ari(sim.url, 'GET', '/bridges')).body).toEqual([]);
    expect(sim.stats().totals.originated).toBe(3);
  });

  it('a wrong password is still 401', async () => {
    expect((await ari(sim.url, 'GET', '/asterisk/info', {}, {auth: {user: 'viewer', pass: 'nope'}})).status).toBe(401);
  });
});

describe('subscribeAll', () => {
  it("a session of another app with subscribeAll=true sees the channels originated into serve's app; without it, none", async () => {
    const url = sim.url;
    const watchAll = await openWith(url, 'watch-all', true);
    const watchOwn = await openWith(url, 'watch-own', false);
    const serveApp = await EventRecorder.open(url, 'rtpsla');
    try {
      await ari(url, 'POST', '/channels', {endpoint: 'Local/s@nosuchcontext/n', app: 'rtpsla', channelId: 'sa-0'});
      await watchAll.waitFor((e) => e.type === 'ChannelDestroyed' && channelOf(e).id === 'sa-0');
      await serveApp.waitFor((e) => e.type === 'ChannelDestroyed' && channelOf(e).id === 'sa-0');
      expect(watchAll.events.filter((e) => channelOf(e)?.id === 'sa-0').map((e) => [e.type, e.data.application])).toEqual([
        ['ChannelHangupRequest', 'watch-all'],
        ['ChannelDestroyed', 'watch-all'],
      ]);
      expect(watchOwn.events).toEqual([]);
      // the watcher did not take serve's app over
      expect(serveApp.types()).not.toContain('ApplicationReplaced');
    } finally {
      for (const r of [watchAll, watchOwn, serveApp]) r.close();
    }
  });
});

describe('flag parsing', () => {
  it('NAME:PASS, a context name, and the default context always there', () => {
    expect(parseReadOnlyUser('viewer:a:b')).toEqual({user: 'viewer', pass: 'a:b'});
    expect(() => parseReadOnlyUser('viewer')).toThrow('--read-only-user: expected NAME:PASS, got "viewer"');
    expect(() => parseReadOnlyUser(':x')).toThrow(/expected NAME:PASS/);
    expect(parseContextName(' from-trunk ')).toBe('from-trunk');
    expect(() => parseContextName('a@b')).toThrow('--dialplan-context: "a@b" is not a dialplan context name (letters, digits, _ . + -)');
    expect(dialplanContexts(undefined)).toEqual(['rtpsla-source']);
    expect(dialplanContexts(['x', 'rtpsla-source'])).toEqual(['rtpsla-source', 'x']);
  });
});

function openWith(url: string, app: string, subscribeAll: boolean): Promise<EventRecorder> {
  return EventRecorder.open(url, app, `&subscribeAll=${subscribeAll}`);
}

describe('rtpsla sim flags', () => {
  it.each([
    [['--read-only-user', 'viewer'], 'rtpsla sim: --read-only-user: expected NAME:PASS, got "viewer"'],
    [['--dialplan-context', 'a/b'], 'rtpsla sim: --dialplan-context: "a/b" is not a dialplan context name (letters, digits, _ . + -)'],
  ])('%j: one line and exit 2', async (args, line) => {
    const r = await runCli(['sim', '--port', '0', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([line]);
  });
});
