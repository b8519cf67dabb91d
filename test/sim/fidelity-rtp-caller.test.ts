/**
 * Drives the sim with the REST sequence recorded for the caller as an RTP stream
 * (rest-rtp-caller.jsonl: an externalMedia channel created with `data` as the caller, a second
 * one for the bot side, a mixing bridge, addChannel of both, hangups) and compares it with the
 * recording (ari-events-rtp-caller.jsonl): status codes, each channel's ordered event types, and
 * every event field once ids, names, hosts and times are tokens (args and app_data included).
 */
import {createSocket, type Socket} from 'node:dgram';
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {ari, EventRecorder, normalise, readJsonl, sleep} from './helpers.js';

interface RestLine {
  method: string;
  path: string;
  status: number;
}

const recorded = readJsonl<{event: Record<string, unknown> & {type: string}}>('ari-events-rtp-caller.jsonl').map((l) => l.event);
const rest = readJsonl<RestLine>('rest-rtp-caller.jsonl');
const CALLER_HOST = '127.0.0.1:35600';
const BOT_HOST = '127.0.0.1:4000';

function channelOf(e: unknown): string {
  const o = e as {channel?: {id: string}; peer?: {id: string}};
  return o.channel?.id ?? o.peer?.id ?? '';
}

/** The events of one channel, normalised, asterisk_id aside. */
function perChannel(events: unknown[], channelToken: string): unknown[] {
  return events.filter((e) => channelOf(e) === channelToken).map((e) => ({...(e as object), asterisk_id: '<aid>'}));
}

async function bind(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

describe('sim fidelity: the caller as an RTP stream', () => {
  let sim: SimHandle;
  let rec: EventRecorder;
  let callerSocket: Socket;
  let botSocket: Socket;
  let callerHost = '';
  let botHost = '';
  const statuses: string[] = [];

  beforeAll(async () => {
    sim = await startSim({port: 0, seed: 5, answerDelayMs: 0});
    rec = await EventRecorder.open(sim.url, 'xmlab');
    callerSocket = await bind();
    botSocket = await bind();
    callerHost = `127.0.0.1:${callerSocket.address().port}`;
    botHost = `127.0.0.1:${botSocket.address().port}`;
    const destroyed = (id: string) => rec.waitFor((e) => e.type === 'ChannelDestroyed' && channelOf(e.data) === id);
    for (const line of rest) {
      const u = new URL(`http://x${line.path.replaceAll(CALLER_HOST, callerHost).replaceAll(BOT_HOST, botHost)}`);
      // the recorded run waited for these before its next request
      if (u.pathname === '/bridges') await rec.waitFor((e) => e.type === 'StasisStart' && channelOf(e.data) === 'xb-0');
      if (line.method === 'POST' && u.pathname === '/channels/externalMedia' && u.searchParams.get('channelId') === 'xb-0')
        await rec.waitFor((e) => e.type === 'StasisStart' && channelOf(e.data) === 'xa-0');
      if (u.pathname === '/channels/xa-0') await sleep(200);
      if (u.pathname === '/channels/xb-0') await destroyed('xa-0');
      if (u.pathname === '/bridges/xbr-0' && line.method === 'DELETE') await destroyed('xb-0');
      const res = await ari(sim.url, line.method, u.pathname, Object.fromEntries(u.searchParams));
      statuses.push(`${line.method} ${line.path} ${res.status}`);
    }
  });

  afterAll(async () => {
    rec?.close();
    callerSocket?.close();
    botSocket?.close();
    await sim?.close();
  });

  it('answers every request with the recorded status code', () => {
    expect(statuses).toEqual(rest.map((l) => `${l.method} ${l.path} ${l.status}`));
  });

  it("sends each channel's recorded event types in the recorded order", () => {
    const types = (events: unknown[], id: string) => events.filter((e) => channelOf(e) === id).map((e) => (e as {type: string}).type);
    const live = rec.events.map((e) => e.data);
    for (const id of ['xa-0', 'xb-0']) expect({id, types: types(live, id)}).toEqual({id, types: types(recorded, id)});
  });

  it('matches every recorded event field once ids, names, hosts and times are tokens', () => {
    // the recording ends with the bot side's ChannelDestroyed (the bridge's delete follows it)
    const live = rec.events.map((e) => e.data).filter((e) => channelOf(e) !== '');
    const l = normalise(live, callerHost, botHost);
    const r = normalise(recorded, CALLER_HOST, BOT_HOST);
    const caller = channelOf(r[0]);
    const bot = channelOf(r.find((e) => channelOf(e) !== caller));
    for (const ch of [caller, bot]) {
      const got = perChannel(l, ch);
      const want = perChannel(r, ch);
      expect(got.length).toBe(want.length);
      got.forEach((e, i) => expect(e).toEqual(want[i]));
    }
  });

  it('carries the caller data as StasisStart args and Stasis app_data, and bridges with simple_bridge', () => {
    const start = (id: string) => rec.events.find((e) => e.type === 'StasisStart' && channelOf(e.data) === id)!.data;
    expect(start('xa-0').args).toEqual(['rtpsla-caller', 'run1', '0']);
    expect((start('xa-0').channel as {dialplan: {app_data: string}}).dialplan.app_data).toBe('xmlab,rtpsla-caller,run1,0');
    expect(start('xb-0').args).toEqual([]);
    expect((start('xb-0').channel as {dialplan: {app_data: string}}).dialplan.app_data).toBe('xmlab');
    const entered = rec.events.filter((e) => e.type === 'ChannelEnteredBridge').map((e) => (e.data.bridge as {technology: string}).technology);
    expect(entered).toEqual(['simple_bridge', 'simple_bridge']);
  });
});
