/**
 * Fault switch `restart` against the recorded `core stop now` (ari-events-core-stop-now.jsonl,
 * rest-core-stop-now.jsonl): the same call set up with the same REST requests and ids, media
 * flowing, then the restart: every channel hung up with the recorded events (no BridgeDestroyed),
 * the events WebSocket closed with 1006, ARI down (refused or 503), then back with nothing left.
 */
import {createSocket, type Socket} from 'node:dgram';
import {afterEach, describe, expect, it} from '@jest/globals';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {ari, EventRecorder, PASS, readJsonl, sleep, USER, type RecordedEvent} from './helpers.js';

type Line = {t_ms: number; event?: Record<string, unknown> & {type: string}; note?: string; ws_close?: number};
const recording = readJsonl<Line>('ari-events-core-stop-now.jsonl');
const rest = readJsonl<{method: string; path: string; status: number}>('rest-core-stop-now.jsonl');
const noteAt = recording.findIndex((l) => l.note !== undefined);
const recordedAfterStop = recording.slice(noteAt + 1).filter((l) => l.event).map((l) => l.event!);
const recordedClose = recording.find((l) => l.ws_close !== undefined)!;

/** `type channel-id detail`: causes, soft, variables, the bridge's members. */
function sig(e: Record<string, unknown>): string {
  const chan = e.channel as {id: string} | undefined;
  let detail = '';
  if (e.type === 'ChannelHangupRequest') detail = `cause=${String(e.cause)}${e.soft === true ? ' soft' : ''}`;
  else if (e.type === 'ChannelDestroyed') detail = `cause=${String(e.cause)} ${String(e.cause_txt)}`;
  else if (e.type === 'ChannelVarset') detail = `${String(e.variable)}=${String(e.value)}`;
  else if (e.type === 'ChannelLeftBridge') detail = `[${(e.bridge as {channels: string[]}).channels.join(',')}]`;
  return `${e.type} ${chan?.id ?? ''} ${detail}`.trim();
}

const post = (url: string, body: unknown): Promise<Response> =>
  fetch(`${url}/_sim/faults`, {
    method: 'POST',
    headers: {authorization: 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64'), 'content-type': 'application/json'},
    body: JSON.stringify(body),
  });

async function wsOutcome(url: string): Promise<string> {
  try {
    const r = await EventRecorder.open(url);
    r.close();
    return 'open';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('sim fault switch: restart (core stop now)', () => {
  let sim: SimHandle | undefined;
  let udp: Socket | undefined;
  let rec: EventRecorder | undefined;

  afterEach(async () => {
    rec?.close();
    udp?.close();
    await sim?.close();
    sim = udp = rec = undefined;
  });

  /** The recorded call: same requests, same ids, our UDP port as external_host; media flowing. */
  async function recordedCall(): Promise<{sim: SimHandle; rec: EventRecorder; packets: () => number}> {
    sim = await startSim({port: 0, seed: 4, answerDelayMs: 50, race: {before: 0, late: 0}});
    let packets = 0;
    udp = createSocket('udp4');
    udp.on('message', () => packets++);
    await new Promise<void>((r) => udp!.bind(0, '127.0.0.1', () => r()));
    rec = await EventRecorder.open(sim.url);
    for (const r of rest) {
      const u = new URL(r.path.replace('127.0.0.1:40000', `127.0.0.1:${udp.address().port}`), 'http://x');
      if (u.pathname.endsWith('/answer')) await rec.waitFor((e) => e.type === 'StasisStart');
      if (u.pathname.endsWith('/addChannel')) await rec.waitCount((e) => e.type === 'StasisStart', 2);
      const res = await ari(sim.url, r.method, u.pathname, Object.fromEntries(u.searchParams));
      expect(`${r.method} ${u.pathname} ${res.status}`).toBe(`${r.method} ${u.pathname} ${r.status}`);
    }
    for (let i = 0; i < 200 && packets < 5; i++) await sleep(10);
    expect(packets).toBeGreaterThanOrEqual(5);
    return {sim, rec, packets: () => packets};
  }

  it('hangs every channel up with the recorded events, no BridgeDestroyed, then closes the WebSocket with 1006', async () => {
    const call = await recordedCall();
    const closed = new Promise<{code: number; tMs: number}>((resolve) => call.rec.ws.once('close', (code) => resolve({code, tMs: performance.now()})));
    call.rec.clear();
    const res = await post(call.sim.url, {restart: {downtimeMs: 300}});
    expect(res.status).toBe(200);
    expect(((await res.json()) as {down: unknown; restarts: number}).down).toEqual({whileDown: 'refuse', downtimeMs: 300, upAt: null});
    const close = await closed;
    expect(close.code).toBe(recordedClose.ws_close);
    expect(close.code).toBe(1006);
    const events = call.rec.events.map((e: RecordedEvent) => sig(e.data));
    expect(events).toEqual(recordedAfterStop.map(sig));
    expect(events.some((e) => e.startsWith('BridgeDestroyed'))).toBe(false);
    // every event was out before the close
    expect(Math.max(...call.rec.events.map((e) => e.tMs))).toBeLessThanOrEqual(close.tMs);
    const sent = call.packets();
    await sleep(100);
    expect(call.packets() - sent).toBeLessThanOrEqual(1); // media stopped with the channels
  });

  it('refuses ARI while down, then answers again with no channels, no bridges and a new start time', async () => {
    const call = await recordedCall();
    const before = (await ari(call.sim.url, 'GET', '/asterisk/info')).body as {status: {startup_time: string}};
    const closed = new Promise<void>((resolve) => call.rec.ws.once('close', () => resolve()));
    await post(call.sim.url, {restart: {downtimeMs: 500}});
    await closed;
    await expect(ari(call.sim.url, 'GET', '/channels')).rejects.toThrow();
    expect(await wsOutcome(call.sim.url)).toMatch(/ECONNREFUSED/);
    expect(call.sim.faults().down).toEqual({whileDown: 'refuse', downtimeMs: 500, upAt: expect.stringMatching(/\+0000$/)});
    for (let i = 0; i < 300 && call.sim.faults().down !== null; i++) await sleep(10);
    expect(call.sim.faults()).toMatchObject({down: null, restarts: 1});
    expect((await ari(call.sim.url, 'GET', '/channels')).body).toEqual([]);
    expect((await ari(call.sim.url, 'GET', '/bridges')).body).toEqual([]);
    expect((await ari(call.sim.url, 'GET', '/applications')).body).toEqual([]);
    const after = (await ari(call.sim.url, 'GET', '/asterisk/info')).body as {status: {startup_time: string}};
    expect(after.status.startup_time).not.toBe(before.status.startup_time);
    expect(await wsOutcome(call.sim.url)).toBe('open');
    expect(call.sim.stats().totals).toMatchObject({channels: 0, bridges: 0, restarts: 1});
  });

  it('with whileDown "503" keeps the port: REST 503, upgrades refused, control endpoint usable; then back', async () => {
    const call = await recordedCall();
    const closed = new Promise<number>((resolve) => call.rec.ws.once('close', (code) => resolve(code)));
    await post(call.sim.url, {restart: {downtimeMs: 400, whileDown: '503'}});
    expect(await closed).toBe(1006);
    expect((await ari(call.sim.url, 'GET', '/channels')).status).toBe(503);
    expect(await wsOutcome(call.sim.url)).toMatch(/503/);
    const again = await post(call.sim.url, {restart: true});
    expect(again.status).toBe(400);
    expect(((await again.json()) as {message: string}).message).toMatch(/already down/);
    for (let i = 0; i < 300 && call.sim.faults().down !== null; i++) await sleep(10);
    expect((await ari(call.sim.url, 'GET', '/channels')).status).toBe(200);
    expect(await wsOutcome(call.sim.url)).toBe('open');
  });

  it('rejects a malformed restart with one reason', async () => {
    sim = await startSim({port: 0});
    for (const [body, reason] of [
      [{restart: {downtimeMs: -1}}, /downtimeMs/],
      [{restart: {whileDown: 'sleep'}}, /whileDown/],
      [{restart: {after: 3}}, /unknown field "after"/],
      [{restart: 'now'}, /restart must be/],
    ] as const) {
      const res = await post(sim.url, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as {message: string}).message).toMatch(reason);
    }
    expect(sim.faults()).toMatchObject({down: null, restarts: 0});
    await expect(startSim({port: 0, faults: {restart: true}})).rejects.toThrow(/not a start-up fault/);
  });
});
