/**
 * The sim's fault counters the fault scenarios prove their faults with (GET /_sim/stats,
 * faults.counters): WebSocket drops, injected failures served and the retries after them, and
 * the malformedMedia switch's checks.
 */
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {ari, EventRecorder, sleep, USER, PASS} from '../sim/helpers.js';

async function post(sim: SimHandle, body: unknown): Promise<number> {
  const res = await fetch(`${sim.url}/_sim/faults`, {
    method: 'POST',
    headers: {authorization: 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64'), 'content-type': 'application/json'},
    body: JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

describe('sim fault counters', () => {
  let sim: SimHandle;

  beforeAll(async () => {
    sim = await startSim({port: 0, seed: 3, answerDelayMs: 0, engine: 'node'});
  });

  afterAll(async () => {
    await sim?.close();
  });

  it('counts each drop and the sockets it closed', async () => {
    const a = await EventRecorder.open(sim.url);
    expect(await post(sim, {dropWebSocket: true})).toBe(200);
    await sleep(50);
    expect(await post(sim, {dropWebSocket: true})).toBe(200); // nothing left to close
    expect(a.closed).toBe(true);
    expect(sim.stats().faults.counters).toMatchObject({webSocketDrops: 2, webSocketsDropped: 1});
  });

  it('counts the failures served by operation=status, and a request for the same resource after one as a retry', async () => {
    expect(await post(sim, {fail: {operation: 'hangup', status: 500, count: 2}})).toBe(200);
    const statuses: number[] = [];
    for (const id of ['x', 'x', 'x', 'y']) statuses.push((await ari(sim.url, 'DELETE', `/channels/${id}`)).status);
    expect(statuses).toEqual([500, 500, 404, 404]);
    const c = sim.stats().faults.counters;
    expect(c.failsServed).toEqual({'hangup=500': 2});
    // the 2nd DELETE of x retried the 1st failure, the 3rd the 2nd; y never failed
    expect(c.retriesAfterFail).toEqual({'hangup=500': 2});
  });

  it('malformedMedia wants a count of 1-1000 and, with no stream live, sends nothing', async () => {
    expect(await post(sim, {malformedMedia: {count: 0}})).toBe(400);
    expect(await post(sim, {malformedMedia: {}})).toBe(400);
    expect(await post(sim, {malformedMedia: {count: 5}})).toBe(200);
    await sleep(50);
    expect(sim.stats().faults.counters.malformedSent).toBe(0);
  });
});
