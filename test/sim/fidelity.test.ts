/**
 * Drives the sim with the REST sequence of the recorded call (rest-transcript.jsonl, live ids
 * and ports substituted) and compares it with the recording: status codes, the ordered event
 * types, every event normalised (ids, names, times replaced by tokens) and the key sets of
 * every response and event.
 */
import {createSocket, type Socket} from 'node:dgram';
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {ari, EventRecorder, missingKeys, normalise, readJsonl, sleep, type AriResponse} from './helpers.js';

interface TranscriptLine {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  response: unknown;
}

const recordedEvents = readJsonl<Record<string, unknown> & {type: string}>('ari-events-call.jsonl');
const transcript = readJsonl<TranscriptLine>('rest-transcript.jsonl');

describe('sim fidelity: the recorded call', () => {
  let sim: SimHandle;
  let rec: EventRecorder;
  let udp: Socket;
  let udpPort: number;
  let packets = 0;
  const responses: Array<{line: TranscriptLine; res: AriResponse}> = [];

  beforeAll(async () => {
    sim = await startSim({port: 0, seed: 7, answerDelayMs: 100});
    udp = createSocket('udp4');
    udp.on('message', () => packets++);
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    udpPort = udp.address().port;
    rec = await EventRecorder.open(sim.url);

    const ids: Record<string, string> = {};
    const sub = (s: string): string =>
      s
        .replaceAll('1795314087.0', ids.local ?? '?')
        .replaceAll('1795314087.2', ids.em ?? '?')
        .replaceAll('c877db99-5716-471c-b2d5-fa64ddb037fc', ids.bridge ?? '?')
        .replaceAll('127.0.0.1:40000', `127.0.0.1:${udpPort}`);
    for (const line of transcript) {
      const p = sub(line.path);
      const q = Object.fromEntries(Object.entries(line.query).map(([k, v]) => [k, sub(v)]));
      // the recorded call waited for these before the next request
      if (p.endsWith('/answer')) await rec.waitFor((e) => e.type === 'StasisStart' && (e.data.channel as {id: string}).id === ids.local);
      if (line.method === 'POST' && p === '/bridges') {
        await rec.waitFor((e) => e.type === 'StasisStart' && (e.data.channel as {id: string}).id === ids.em);
        await rec.waitFor((e) => e.type === 'ChannelDialplan' && e.data.dialplan_app === 'Milliwatt');
      }
      if (line.method === 'GET' && p.startsWith('/bridges/')) await sleep(400); // media flows meanwhile
      if (line.method === 'DELETE' && p === `/channels/${ids.em}`) await rec.waitFor((e) => e.type === 'ChannelDestroyed' && (e.data.channel as {id: string}).id === ids.local);
      if (line.method === 'DELETE' && p.startsWith('/bridges/')) await rec.waitFor((e) => e.type === 'ChannelDestroyed' && (e.data.channel as {id: string}).id === ids.em);
      const res = await ari(sim.url, line.method, p, q);
      responses.push({line, res});
      const body = res.body as {id?: string} | null;
      if (line.method === 'POST' && p === '/channels') ids.local = body?.id ?? '';
      if (p === '/channels/externalMedia') ids.em = body?.id ?? '';
      if (line.method === 'POST' && p === '/bridges') ids.bridge = body?.id ?? '';
    }
    await rec.waitFor((e) => e.type === 'BridgeDestroyed');
  });

  afterAll(async () => {
    rec?.close();
    udp?.close();
    await sim?.close();
  });

  it('answers every request with the recorded status code', () => {
    expect(responses.map((r) => `${r.line.method} ${r.line.path} ${r.res.status}`)).toEqual(
      transcript.map((l) => `${l.method} ${l.path} ${l.status}`),
    );
  });

  it('answers with (at least) the recorded JSON keys, channelvars included', () => {
    for (const {line, res} of responses) {
      if (line.response === null) expect(res.body).toBeNull();
      else expect({path: line.path, missing: missingKeys(line.response, res.body)}).toEqual({path: line.path, missing: []});
    }
    const em = responses.find((r) => r.line.path === '/channels/externalMedia')!.res.body as {channelvars: Record<string, string>};
    expect(em.channelvars.UNICASTRTP_LOCAL_ADDRESS).toBe('127.0.0.1');
    expect(Number(em.channelvars.UNICASTRTP_LOCAL_PORT) % 2).toBe(0);
    const variable = responses.find((r) => r.line.path.endsWith('/variable'))!.res.body;
    expect(variable).toEqual({value: em.channelvars.UNICASTRTP_LOCAL_PORT});
    expect(responses.find((r) => r.line.path.endsWith('/rtp_statistics'))!.res.body).toEqual({message: 'RTP info not found'});
  });

  it('sends the recorded event types in the recorded order', () => {
    expect(rec.types()).toEqual(recordedEvents.map((e) => e.type));
  });

  it('sends events with (at least) the recorded keys', () => {
    rec.events.forEach((e, i) => {
      expect({i, type: e.type, missing: missingKeys(recordedEvents[i], e.data)}).toEqual({i, type: recordedEvents[i].type, missing: []});
    });
  });

  it('matches every recorded event field once ids, names and times are tokens', () => {
    const live = normalise(rec.events.map((e) => e.data), `127.0.0.1:${udpPort}`);
    const recorded = normalise(recordedEvents, '127.0.0.1:40000');
    const liveNoAid = live.map((e) => ({...(e as object), asterisk_id: '<aid>'}));
    const recNoAid = recorded.map((e) => ({...(e as object), asterisk_id: '<aid>'}));
    liveNoAid.forEach((e, i) => expect(e).toEqual(recNoAid[i]));
  });

  it('uses Asterisk id, name and time shapes', () => {
    const first = rec.events[0].data as unknown as {timestamp: string; peer: {id: string; name: string}};
    expect(first.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    expect(first.peer.id).toMatch(/^\d{10}\.\d+$/);
    expect(first.peer.name).toMatch(/^Local\/s@rtpsla-source-[0-9a-f]{8};1$/);
    const em = rec.events.find((e) => e.type === 'StasisStart' && (e.data.channel as {name: string}).name.startsWith('UnicastRTP'))!;
    expect((em.data.channel as {name: string}).name).toMatch(new RegExp(`^UnicastRTP/127\\.0\\.0\\.1:${udpPort}-0x[0-9a-f]{12}$`));
    expect(em.data.application).toBe('rtpsla');
  });

  it('sent media while bridged and leaves nothing behind', async () => {
    expect(packets).toBeGreaterThan(5);
    expect((await ari(sim.url, 'GET', '/channels')).body).toEqual([]);
    expect((await ari(sim.url, 'GET', '/bridges')).body).toEqual([]);
  });
});
