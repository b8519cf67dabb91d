/**
 * The sim's media fault switches through its control endpoint and start-up options:
 * lateFirstPackets holds the first frames of the tone streams it picks (then they come in a
 * burst, none lost, sequence and timestamps contiguous) and is counted; both media faults are
 * off by default; bad rules are refused with a reason. The forwarding delay table reproduces the
 * recorded percentiles. Run with both media engines.
 */
import {createSocket, type Socket} from 'node:dgram';
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals';
import {DelayDistribution} from '../../src/media/source/delay-dist.js';
import {FORWARD_QUANTILES_US, RECORDED_FORWARD_MS} from '../../src/sim/forwarding.js';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {ari, EventRecorder, PASS, sleep, USER} from './helpers.js';

async function postFaults(sim: SimHandle, body: unknown): Promise<{status: number; body: Record<string, unknown>}> {
  const res = await fetch(`${sim.url}/_sim/faults`, {
    method: 'POST',
    headers: {authorization: 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64'), 'content-type': 'application/json'},
    body: JSON.stringify(body),
  });
  return {status: res.status, body: (await res.json()) as Record<string, unknown>};
}

describe('forwarding delay table', () => {
  it('gives the recorded p50, p99 and p99.9 of each direction (rtp-caller-mode.json, 150 calls)', () => {
    for (const dir of ['toRelay', 'toCaller'] as const) {
      const q = FORWARD_QUANTILES_US[dir].split(',').map(Number);
      expect(q).toHaveLength(101);
      expect(q.every((v, i) => i === 0 || v >= q[i - 1])).toBe(true);
      const d = DelayDistribution.parse(FORWARD_QUANTILES_US[dir]);
      const r = RECORDED_FORWARD_MS[dir];
      expect(d.at(0.5)).toBeCloseTo(r.p50 * 1000, 0);
      expect(d.at(0.99)).toBeCloseTo(r.p99 * 1000, 0);
      expect(Math.abs(d.at(0.999) - r.p999 * 1000)).toBeLessThanOrEqual(1);
    }
  });
});

describe.each(['native', 'node'] as const)('sim media faults (%s engine)', (engine) => {
  let sim: SimHandle;
  let rec: EventRecorder;
  let rx: Socket;
  const got: Buffer[] = [];

  beforeAll(async () => {
    sim = await startSim({port: 0, seed: 3, answerDelayMs: 0, engine, faults: {lateFirstPackets: {share: 1, maxMs: 150}}});
    rec = await EventRecorder.open(sim.url);
    rx = createSocket('udp4');
    rx.on('message', (b) => got.push(b));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
  });

  afterAll(async () => {
    rec?.close();
    rx?.close();
    await sim?.close();
  });

  it('holds the first frames of a tone stream under lateFirstPackets, loses none, and counts it', async () => {
    const local = (await ari(sim.url, 'POST', '/channels', {endpoint: 'Local/s@rtpsla-source/n', app: 'rtpsla', formats: 'ulaw'})).body as {id: string};
    await rec.waitFor((e) => e.type === 'StasisStart' && (e.data.channel as {id: string}).id === local.id);
    const em = (await ari(sim.url, 'POST', '/channels/externalMedia', {app: 'rtpsla', external_host: `127.0.0.1:${rx.address().port}`, format: 'ulaw'})).body as {id: string};
    await rec.waitFor((e) => e.type === 'StasisStart' && (e.data.channel as {id: string}).id === em.id);
    const bridge = (await ari(sim.url, 'POST', '/bridges', {type: 'mixing'})).body as {id: string};
    await ari(sim.url, 'POST', `/bridges/${bridge.id}/addChannel`, {channel: `${local.id},${em.id}`});
    const deadline = Date.now() + 5000;
    while (got.length < 15 && Date.now() < deadline) await sleep(10);
    await sim.refreshStats();
    const s = sim.stats();
    expect(s.faults.lateFirstPackets.armed).toBe(true);
    expect(s.faults.lateFirstPackets.streamsHeld).toBe(1);
    expect(s.faults.lateFirstPackets.maxHoldMs).toBeGreaterThan(0);
    expect(s.faults.lateFirstPackets.maxHoldMs).toBeLessThanOrEqual(150);
    const ch = s.channels.find((c) => c.id === em.id)!;
    expect(ch.holdFirstUs).toBe(s.faults.lateFirstPackets.maxHoldMs * 1000);
    const hs = got.slice(0, 15).map((b) => ({seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), marker: b[1] >>> 7}));
    expect(hs[0].ts).toBe(160); // the first frame came, late: nothing skipped
    for (let i = 1; i < hs.length; i++) {
      expect((hs[i].seq - hs[i - 1].seq) & 0xffff).toBe(1);
      expect(hs[i].ts - hs[i - 1].ts).toBe(160);
      expect(hs[i].marker).toBe(0);
    }
    expect(s.faults.forwardDelay).toEqual({armed: false, rule: null, linksDelayed: 0, packetsDelayed: 0});
  });

  it('turns the media faults off, and refuses bad rules with a reason', async () => {
    const off = await postFaults(sim, {lateFirstPackets: false});
    expect(off.status).toBe(200);
    expect(off.body.lateFirstPackets).toMatchObject({armed: false, rule: null, streamsHeld: 1});
    for (const bad of [
      {forwardDelay: {direction: 'up', extraMs: 10, durationMs: 1000}},
      {forwardDelay: {direction: 'toCaller', extraMs: -1, durationMs: 1000}},
      {forwardDelay: {direction: 'toCaller', extraMs: 5, durationMs: 1000, calls: [{id: 'x'}]}},
      {lateFirstPackets: {share: 2, maxMs: 100}},
      {lateFirstPackets: {share: 0.5, maxMs: 0}},
    ]) {
      const r = await postFaults(sim, bad);
      expect(r.status).toBe(400);
      expect(String(r.body.message)).toMatch(/forwardDelay|lateFirstPackets/);
    }
    const set = await postFaults(sim, {forwardDelay: {calls: ['x', 3], direction: 'toRelay', extraMs: 5, durationMs: 1000}});
    expect(set.body.forwardDelay).toMatchObject({armed: true, rule: {calls: ['x', 3], direction: 'toRelay', extraMs: 5, durationMs: 1000}, linksDelayed: 0});
    expect((await postFaults(sim, {clear: true})).body.forwardDelay).toMatchObject({armed: false, rule: null});
  });
});
