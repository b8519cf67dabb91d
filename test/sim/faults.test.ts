/** Fault switches: POST /_sim/faults (and startSim's `faults`) do what they say. */
import {createSocket} from 'node:dgram';
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {ari, EventRecorder, sleep, USER, PASS} from './helpers.js';

async function faults(sim: SimHandle, body: unknown): Promise<{status: number; body: Record<string, unknown>}> {
  const res = await fetch(`${sim.url}/_sim/faults`, {
    method: 'POST',
    headers: {authorization: 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64'), 'content-type': 'application/json'},
    body: JSON.stringify(body),
  });
  return {status: res.status, body: (await res.json()) as Record<string, unknown>};
}

describe('sim fault switches', () => {
  let sim: SimHandle;

  beforeAll(async () => {
    sim = await startSim({port: 0, seed: 8, answerDelayMs: 0, race: {before: 1, late: 0}});
  });

  afterAll(async () => {
    await sim?.close();
  });

  it('dropWebSocket closes every events socket once; new ones connect', async () => {
    const a = await EventRecorder.open(sim.url);
    const b = await EventRecorder.open(sim.url, 'other');
    const r = await faults(sim, {dropWebSocket: true});
    expect(r.status).toBe(200);
    expect(r.body.droppedWebSockets).toBe(2);
    await sleep(50);
    expect(a.closed && b.closed).toBe(true);
    const c = await EventRecorder.open(sim.url);
    await sleep(50);
    expect(c.closed).toBe(false);
    expect(sim.stats().totals.eventSockets).toBe(1);
    c.close();
  });

  it('fail makes the operation answer the status, count times, then it works again', async () => {
    const r = await faults(sim, {fail: {operation: 'externalMedia', status: 500, count: 1}});
    expect(r.body.fail).toEqual([{operation: 'externalMedia', status: 500, count: 1}]);
    const q = {app: 'rtpsla', external_host: '127.0.0.1:40020', format: 'ulaw'};
    const first = await ari(sim.url, 'POST', '/channels/externalMedia', q);
    expect([first.status, first.body]).toEqual([500, {message: 'An internal error prevented this request from being handled'}]);
    const rec = await EventRecorder.open(sim.url);
    const second = await ari(sim.url, 'POST', '/channels/externalMedia', q);
    expect(second.status).toBe(200);
    await ari(sim.url, 'DELETE', `/channels/${(second.body as {id: string}).id}`);
    rec.close();

    // until cleared, by alias, with a message
    await faults(sim, {fail: {operation: 'createBridge', status: 503, message: 'busy'}});
    for (let i = 0; i < 2; i++) expect(await ari(sim.url, 'POST', '/bridges', {type: 'mixing'}).then((x) => [x.status, x.body])).toEqual([503, {message: 'busy'}]);
    await faults(sim, {clear: true});
    expect((await ari(sim.url, 'POST', '/bridges', {type: 'mixing'})).status).toBe(200);
  });

  it('fail on eventWebsocket refuses the events socket', async () => {
    await faults(sim, {fail: {operation: 'eventWebsocket', status: 503, count: 1}});
    await expect(EventRecorder.open(sim.url)).rejects.toThrow(/503/);
    const ok = await EventRecorder.open(sim.url);
    ok.close();
  });

  it('rejects unknown faults and operations with 400', async () => {
    expect((await faults(sim, {fail: {operation: 'nope', status: 500}})).status).toBe(400);
    expect((await faults(sim, {explode: true})).status).toBe(400);
    expect((await faults(sim, {fail: {operation: 'originate', status: 200}})).status).toBe(400);
  });

  it('eventDelayMs delays events (order kept); stopMedia holds RTP', async () => {
    const rec = await EventRecorder.open(sim.url);
    await faults(sim, {eventDelayMs: 300});
    const t0 = performance.now();
    const local = (await ari(sim.url, 'POST', '/channels', {endpoint: 'Local/s@rtpsla-source/n', app: 'rtpsla'})).body as {id: string};
    const start = await rec.waitFor((e) => e.type === 'StasisStart');
    expect(start.tMs - t0).toBeGreaterThanOrEqual(250);
    expect(rec.types().slice(0, 7)).toEqual(['Dial', 'ChannelDialplan', 'ChannelStateChange', 'ChannelStateChange', 'Dial', 'ChannelVarset', 'StasisStart']);
    await faults(sim, {eventDelayMs: 0, stopMedia: true});

    const udp = createSocket('udp4');
    let got = 0;
    udp.on('message', () => got++);
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const em = (await ari(sim.url, 'POST', '/channels/externalMedia', {app: 'rtpsla', external_host: `127.0.0.1:${udp.address().port}`, format: 'ulaw'})).body as {id: string};
    const b = (await ari(sim.url, 'POST', '/bridges', {type: 'mixing'})).body as {id: string};
    expect((await ari(sim.url, 'POST', `/bridges/${b.id}/addChannel`, {channel: `${local.id},${em.id}`})).status).toBe(204);
    await sleep(250);
    expect(got).toBe(0);
    await faults(sim, {stopMedia: false});
    await sleep(250);
    expect(got).toBeGreaterThan(3);
    await ari(sim.url, 'DELETE', `/channels/${local.id}`);
    await ari(sim.url, 'DELETE', `/channels/${em.id}`);
    await ari(sim.url, 'DELETE', `/bridges/${b.id}`);
    udp.close();
    rec.close();
  });

  it('GET /_sim/stats reports totals and merged histograms', async () => {
    const res = await fetch(`${sim.url}/_sim/stats`, {headers: {authorization: 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64')}});
    expect(res.status).toBe(200);
    const s = (await res.json()) as {totals: {media: {packetsSent: number}; originated: number}; channels: unknown[]; rttUs: {histogram: string}; sendJitterUs: {count: number; histogram: string}};
    expect(s.totals.originated).toBeGreaterThanOrEqual(1);
    expect(s.totals.media.packetsSent).toBeGreaterThan(3);
    expect(s.channels.length).toBeGreaterThanOrEqual(2);
    expect(s.sendJitterUs.count).toBe(s.totals.media.packetsSent);
    expect(typeof s.rttUs.histogram).toBe('string');
    expect(s.sendJitterUs.histogram.length).toBeGreaterThan(10);
  });
});
