/**
 * Every error the sim answers is one a real Asterisk 22 answers for the same request: status
 * and message as recorded (probes F/J, the transcript) or as in Asterisk's resource_*.c.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals';
import WebSocket from 'ws';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {ari, EventRecorder, readJson} from './helpers.js';

interface ProbeF {
  F_externalMedia_error_responses: Record<string, {status: number; json?: {message: string}}>;
  J_rtp_statistics_endpoint: string;
}

describe('sim error responses', () => {
  let sim: SimHandle;
  let rec: EventRecorder;
  const probes = readJson<ProbeF>('externalmedia-probes.json');
  const f = probes.F_externalMedia_error_responses;

  beforeAll(async () => {
    sim = await startSim({port: 0, seed: 3, answerDelayMs: 0, race: {before: 0, late: 0}});
    rec = await EventRecorder.open(sim.url);
  });

  afterAll(async () => {
    rec?.close();
    await sim?.close();
  });

  it('401 with the Asterisk body and a Basic challenge without or with wrong credentials', async () => {
    for (const auth of [false, {user: 'rtpsla', pass: 'wrong'}, {user: 'nobody', pass: 'rtpsla'}] as const) {
      const r = await ari(sim.url, 'GET', '/asterisk/info', {}, {auth});
      expect(r.status).toBe(401);
      expect(r.body).toEqual({message: 'Authentication required'});
      expect(r.headers.get('www-authenticate')).toBe('Basic realm="Asterisk REST Interface"');
    }
    expect((await ari(sim.url, 'GET', '/api-docs/resources.json', {}, {auth: false})).status).toBe(401);
    expect((await ari(sim.url, 'GET', '/asterisk/info', {api_key: 'rtpsla:nope'}, {auth: false})).status).toBe(401);
    expect((await ari(sim.url, 'GET', '/asterisk/info', {api_key: 'rtpsla:rtpsla'}, {auth: false})).status).toBe(200);
    expect((await fetch(`${sim.url}/_sim/stats`)).status).toBe(401);
  });

  it('401 for the events WebSocket with a wrong api_key', async () => {
    const url = `${sim.url.replace('http', 'ws')}/ari/events?app=rtpsla&api_key=rtpsla:wrong`;
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
  });

  it('externalMedia: missing format 400, unknown format 500, host without port 400, missing app 400 (probe F)', async () => {
    const base = {app: 'rtpsla', external_host: '127.0.0.1:40010', format: 'ulaw'};
    const cases: Array<[string, Record<string, string>]> = [
      ['missing_format', {app: base.app, external_host: base.external_host}],
      ['bad_format', {...base, format: 'nosuchcodec'}],
      ['no_port', {...base, external_host: '127.0.0.1'}],
      ['missing_app', {external_host: base.external_host, format: 'ulaw'}],
    ];
    for (const [probe, query] of cases) {
      const r = await ari(sim.url, 'POST', '/channels/externalMedia', query);
      expect({probe, status: r.status, body: r.body}).toEqual({probe, status: f[probe].status, body: f[probe].json});
    }
    expect((await ari(sim.url, 'GET', '/channels')).body).toEqual([]);
  });

  it('404 for unknown channels and bridges, rtp_statistics 404 for externalMedia (probe J)', async () => {
    expect(await pick(ari(sim.url, 'GET', '/channels/nope'))).toEqual([404, {message: 'Channel not found'}]);
    expect(await pick(ari(sim.url, 'DELETE', '/channels/nope'))).toEqual([404, {message: 'Channel not found'}]);
    expect(await pick(ari(sim.url, 'POST', '/channels/nope/answer'))).toEqual([404, {message: 'Channel not found'}]);
    expect(await pick(ari(sim.url, 'GET', '/bridges/nope'))).toEqual([404, {message: 'Bridge not found'}]);
    expect(await pick(ari(sim.url, 'DELETE', '/bridges/nope'))).toEqual([404, {message: 'Bridge not found'}]);
    expect(await pick(ari(sim.url, 'POST', '/bridges/nope/addChannel', {channel: 'x'}))).toEqual([404, {message: 'Bridge not found'}]);
    expect(await pick(ari(sim.url, 'GET', '/nothing/here'))).toEqual([404, {message: 'Resource not found'}]);

    const em = (await ari(sim.url, 'POST', '/channels/externalMedia', {app: 'rtpsla', external_host: '127.0.0.1:40012', format: 'ulaw'})).body as {id: string};
    await rec.waitFor((e) => e.type === 'StasisStart' && (e.data.channel as {id: string}).id === em.id);
    const stats = await ari(sim.url, 'GET', `/channels/${em.id}/rtp_statistics`);
    expect(probes.J_rtp_statistics_endpoint).toContain(`404 ${JSON.stringify(stats.body)}`);
    expect(stats.status).toBe(404);
    expect(await pick(ari(sim.url, 'GET', `/channels/${em.id}/variable`, {variable: 'NOPE'}))).toEqual([404, {message: 'Provided variable was not found'}]);
    expect(await pick(ari(sim.url, 'GET', `/channels/${em.id}/variable`))).toEqual([400, {message: 'Variable name is required'}]);
    const b = (await ari(sim.url, 'POST', '/bridges', {type: 'mixing'})).body as {id: string};
    expect(await pick(ari(sim.url, 'POST', `/bridges/${b.id}/addChannel`, {channel: 'nope'}))).toEqual([400, {message: 'Channel not found'}]);
    expect(await pick(ari(sim.url, 'POST', `/bridges/${b.id}/removeChannel`, {channel: em.id}))).toEqual([422, {message: 'Channel not in this bridge'}]);
    expect((await ari(sim.url, 'DELETE', `/channels/${em.id}`)).status).toBe(204);
    expect((await ari(sim.url, 'DELETE', `/channels/${em.id}`)).status).toBe(404);
    expect((await ari(sim.url, 'DELETE', `/bridges/${b.id}`)).status).toBe(204);
  });

  it('422 "Channel not in Stasis application" for addChannel before StasisStart', async () => {
    // a race where StasisStart always comes late (long enough for any client to be first)
    const late = await startSim({port: 0, seed: 5, race: {before: 0, late: 1, lateMs: {min: 300, max: 300}}});
    const r = await EventRecorder.open(late.url);
    try {
      const b = (await ari(late.url, 'POST', '/bridges', {type: 'mixing'})).body as {id: string};
      const em = (await ari(late.url, 'POST', '/channels/externalMedia', {app: 'rtpsla', external_host: '127.0.0.1:40014', format: 'ulaw'})).body as {id: string};
      const add = await ari(late.url, 'POST', `/bridges/${b.id}/addChannel`, {channel: em.id});
      expect([add.status, add.body]).toEqual([422, {message: 'Channel not in Stasis application'}]);
      await r.waitFor((e) => e.type === 'StasisStart');
      expect((await ari(late.url, 'POST', `/bridges/${b.id}/addChannel`, {channel: em.id})).status).toBe(204);
    } finally {
      r.close();
      await late.close();
    }
  });

  it('originate: 400 without endpoint, without app/extension, with an unknown format', async () => {
    expect(await pick(ari(sim.url, 'POST', '/channels', {app: 'rtpsla'}))).toEqual([400, {message: 'Endpoint must be specified'}]);
    expect(await pick(ari(sim.url, 'POST', '/channels', {endpoint: 'Local/s@rtpsla-source/n'}))).toEqual([400, {message: 'Application or extension must be specified'}]);
    expect(await pick(ari(sim.url, 'POST', '/channels', {endpoint: 'Local/s@rtpsla-source/n', app: 'rtpsla', formats: 'foo'}))).toEqual([
      400,
      {message: 'Provided format (foo) was not found'},
    ]);
    const c = (await ari(sim.url, 'POST', '/channels', {endpoint: 'Local/s@rtpsla-source/n', app: 'rtpsla', channelId: 'fixed-id'})).body as {id: string};
    expect(c.id).toBe('fixed-id');
    expect(await pick(ari(sim.url, 'POST', '/channels', {endpoint: 'Local/s@rtpsla-source/n', app: 'rtpsla', channelId: 'fixed-id'}))).toEqual([
      409,
      {message: 'Channel with given unique ID already exists'},
    ]);
    await rec.waitFor((e) => e.type === 'StasisStart' && (e.data.channel as {id: string}).id === 'fixed-id');
    expect((await ari(sim.url, 'DELETE', '/channels/fixed-id')).status).toBe(204);
  });
});

async function pick(p: Promise<{status: number; body: unknown}>): Promise<[number, unknown]> {
  const r = await p;
  return [r.status, r.body];
}
