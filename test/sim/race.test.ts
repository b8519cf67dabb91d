/**
 * The externalMedia StasisStart race (probe G): over 100 creations the StasisStart arrives
 * both before and after the REST response, and an addChannel sent straight after the response
 * gets 422 "Channel not in Stasis application" at least once (about 13 % by default).
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals';
import {DEFAULT_RACE, startSim, type SimHandle} from '../../src/sim/index.js';
import {ari, EventRecorder} from './helpers.js';

describe('sim externalMedia StasisStart race', () => {
  let sim: SimHandle;
  let rec: EventRecorder;

  beforeAll(async () => {
    // the default race, with the late StasisStart stretched from 2-4 ms to 5-30 ms so that a busy
    // test machine still gets its addChannel in first (on an idle one the default gives ~13 % 422s)
    sim = await startSim({port: 0, seed: 2024, race: {...DEFAULT_RACE, lateMs: {min: 5, max: 30}}});
    rec = await EventRecorder.open(sim.url);
  });

  afterAll(async () => {
    rec?.close();
    await sim?.close();
  });

  it('over 100 creations: StasisStart before and after the response, and some immediate 422s', async () => {
    const bridge = (await ari(sim.url, 'POST', '/bridges', {type: 'mixing'})).body as {id: string};
    let before = 0;
    let after = 0;
    const statuses: Record<number, number> = {};
    for (let i = 0; i < 100; i++) {
      const res = await ari(sim.url, 'POST', '/channels/externalMedia', {app: 'rtpsla', external_host: `127.0.0.1:${41000 + i}`, format: 'ulaw'});
      expect(res.status).toBe(200);
      const id = (res.body as {id: string}).id;
      const add = await ari(sim.url, 'POST', `/bridges/${bridge.id}/addChannel`, {channel: id});
      statuses[add.status] = (statuses[add.status] ?? 0) + 1;
      expect([204, 422]).toContain(add.status);
      if (add.status === 422) expect(add.body).toEqual({message: 'Channel not in Stasis application'});
      const start = await rec.waitFor((e) => e.type === 'StasisStart' && (e.data.channel as {id: string}).id === id);
      if (start.tMs < res.tDoneMs) before++;
      else after++;
      expect((await ari(sim.url, 'DELETE', `/channels/${id}`)).status).toBe(204);
    }
    expect(before).toBeGreaterThanOrEqual(1);
    expect(after).toBeGreaterThanOrEqual(1);
    expect(statuses[422] ?? 0).toBeGreaterThanOrEqual(1);
    expect(statuses[204] ?? 0).toBeGreaterThan(statuses[422] ?? 0);
    expect(sim.stats().totals.addChannel422).toBe(statuses[422]);
    expect((await ari(sim.url, 'DELETE', `/bridges/${bridge.id}`)).status).toBe(204);
    expect((await ari(sim.url, 'GET', '/channels')).body).toEqual([]);
  });

  it('is reproducible: the same seed gives the same ids, names and race outcomes', async () => {
    const run = async () => {
      const s = await startSim({port: 0, seed: 99, race: {before: 0.5, late: 0}});
      const r = await EventRecorder.open(s.url);
      try {
        const out: string[] = [];
        for (let i = 0; i < 10; i++) {
          const res = await ari(s.url, 'POST', '/channels/externalMedia', {app: 'rtpsla', external_host: '127.0.0.1:42000', format: 'ulaw'});
          const body = res.body as {name: string; channelvars: Record<string, string>};
          out.push(`${body.name.replace(/^.*-0x/, '')}/${body.channelvars.UNICASTRTP_LOCAL_PORT}/${s.core.counters.stasisStartBeforeResponse}`);
        }
        return out;
      } finally {
        r.close();
        await s.close();
      }
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(new Set(a.map((x) => x.split('/')[2])).size).toBeGreaterThan(1);
  });
});
