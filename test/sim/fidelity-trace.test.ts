/**
 * Replays the REST requests of the call `rtpsla serve` + `rtpsla load` made against a real
 * Asterisk (ari-serve-call-trace.jsonl: ids are the client's own, only external_host is ours)
 * and compares the sim with the wire: statuses, the ordered events with their channel roles,
 * variables and causes, and where events fell relative to the responses: after DELETE /bridges
 * the externalMedia channel gets only BRIDGEPEER="" until its hangup brings ChannelLeftBridge and
 * BridgeDestroyed; the pairing addChannel's ChannelEnteredBridge is out before its 204.
 */
import {createSocket, type Socket} from 'node:dgram';
import {afterAll, beforeAll, describe, expect, it} from '@jest/globals';
import {startSim, type SimHandle} from '../../src/sim/index.js';
import {ari, EventRecorder, readJsonl, sleep, type RecordedEvent} from './helpers.js';

interface TraceLine {
  t: number;
  conn: number;
  dir: string;
  line?: string;
  type?: string;
  channel?: string;
  extra?: string;
}

const trace = readJsonl<TraceLine>('ari-serve-call-trace.jsonl');
const wsConn = trace.find((l) => l.dir === 'ws-s2c' || (l.dir === 'resp' && l.line?.includes('101')))!.conn;
const firstPost = trace.findIndex((l) => l.dir === 'req' && l.line!.startsWith('POST '));
const requests = trace.slice(firstPost).filter((l) => l.dir === 'req');
const traceEvents = trace.filter((l) => l.dir === 'event' && l.conn === wsConn && l.t >= trace[firstPost].t);

/** Response line of a request: the next `resp` on the same TCP connection. */
function responseOf(req: TraceLine): TraceLine {
  const i = trace.indexOf(req);
  return trace.slice(i + 1).find((l) => l.dir === 'resp' && l.conn === req.conn)!;
}

function role(name: string): string {
  if (name.includes('UnicastRTP/')) return 'EM';
  if (/;1\b/.test(name)) return 'L1';
  if (/;2\b/.test(name)) return 'L2';
  return name === '' ? '' : '?';
}

/** One recorded event as `type role detail` (detail: variable=value-role, cause, dialstatus, app). */
function traceSig(e: TraceLine): string {
  const who = e.type === 'BridgeDestroyed' ? 'bridge' : role(e.channel ?? '');
  let detail = e.extra ?? '';
  if (e.type === 'ChannelVarset') {
    const [k, v] = detail.split(/=(.*)/s);
    detail = `${k}=${v === '' ? '' : v.includes('/') ? role(v) : v}`;
  }
  if (e.type === 'StasisStart') detail = '';
  return `${e.type} ${who} ${detail}`.trim();
}

function simSig(e: RecordedEvent): string {
  const d = e.data as Record<string, unknown>;
  const chan = (d.channel ?? d.peer) as {name: string} | undefined;
  const who = e.type === 'BridgeDestroyed' ? 'bridge' : role(chan?.name ?? '');
  let detail = '';
  if (e.type === 'ChannelVarset') {
    const v = String(d.value);
    detail = `${String(d.variable)}=${v.includes('/') ? role(v) : v}`;
  } else if (e.type === 'ChannelHangupRequest') detail = `cause=${String(d.cause)}${d.soft === true ? ' soft' : ''}`;
  else if (e.type === 'ChannelDestroyed') detail = `cause=${String(d.cause)}`;
  else if (e.type === 'Dial') detail = `dialstatus=${String(d.dialstatus)}`;
  else if (e.type === 'ChannelDialplan') detail = String(d.dialplan_app);
  return `${e.type} ${who} ${detail}`.trim();
}

describe('sim fidelity: the call serve + load made against Asterisk (ari-serve-call-trace.jsonl)', () => {
  let sim: SimHandle;
  let rec: EventRecorder;
  let udp: Socket;
  const done: Array<{req: TraceLine; status: number; tDoneMs: number; eventsBefore: number}> = [];

  beforeAll(async () => {
    // the trace's Answer() took 500 ms before Milliwatt; the externalMedia StasisStart came after its response
    sim = await startSim({port: 0, seed: 12, answerDelayMs: 500, race: {before: 0, late: 0}});
    udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    rec = await EventRecorder.open(sim.url);
    for (const req of requests) {
      // wait for the events the recording had before this request, then let strays show up
      const before = traceEvents.filter((e) => e.t < req.t).length;
      await rec.waitCount(() => true, before);
      await sleep(30);
      const [method, target] = req.line!.split(' ');
      const url = new URL(target.replace(/^\/ari/, ''), 'http://x');
      const query = Object.fromEntries(url.searchParams);
      if (query.external_host) query.external_host = `127.0.0.1:${udp.address().port}`;
      const res = await ari(sim.url, method, decodeURIComponent(url.pathname), query);
      done.push({req, status: res.status, tDoneMs: res.tDoneMs, eventsBefore: rec.events.filter((e) => e.tMs <= res.tDoneMs).length});
    }
    await rec.waitCount(() => true, traceEvents.length);
    await sleep(50);
  });

  afterAll(async () => {
    rec?.close();
    udp?.close();
    await sim?.close();
  });

  it('answers every request with the recorded status', () => {
    expect(done.map((d) => `${d.req.line} → ${d.status}`)).toEqual(requests.map((r) => `${r.line} → ${responseOf(r).line!.split(' ')[1]}`));
  });

  it('sends the recorded events in the recorded order (roles, variables, causes)', () => {
    expect(rec.events.map(simSig)).toEqual(traceEvents.map(traceSig));
  });

  it('after DELETE /bridges sends only BRIDGEPEER="" for the externalMedia channel; its ChannelLeftBridge and BridgeDestroyed follow its hangup', () => {
    const del = done.findIndex((d) => d.req.line!.startsWith('DELETE /ari/bridges/'));
    const emHangup = done[del + 1];
    expect(emHangup.req.line).toMatch(/^DELETE \/ari\/channels\/rtpsla-em-/);
    const between = rec.events.slice(done[del].eventsBefore, emHangup.eventsBefore).map(simSig);
    // 30 ms passed between the two requests: nothing else arrived
    expect(between).toEqual(['ChannelVarset EM BRIDGEPEER=']);
    const after = rec.events.slice(emHangup.eventsBefore).map(simSig);
    expect(after).toEqual([
      'ChannelHangupRequest EM cause=32 soft',
      'ChannelLeftBridge EM',
      'BridgeDestroyed bridge',
      'StasisEnd EM',
      'ChannelVarset EM STASISSTATUS=SUCCESS',
      'ChannelDestroyed EM cause=16',
    ]);
    const left = rec.events.find((e) => e.type === 'ChannelLeftBridge' && role((e.data.channel as {name: string}).name) === 'EM')!;
    expect((left.data.bridge as {channels: string[]}).channels).toEqual([]); // "simple_bridge [0]" in the trace
  });

  it('sends ChannelEnteredBridge (and the BRIDGEPEER pair) of the second channel before the addChannel 204, as recorded', () => {
    const adds = done.filter((d) => d.req.line!.includes('/addChannel'));
    expect(adds).toHaveLength(2);
    const second = adds[1];
    // in the trace
    const traceEntered = traceEvents.find((e) => e.type === 'ChannelEnteredBridge' && role(e.channel!) === 'EM')!;
    expect(traceEntered.t).toBeLessThan(responseOf(second.req).t);
    // in the sim: the entered event and both BRIDGEPEER values had arrived when the 204 was read
    const beforeResponse = rec.events.slice(0, second.eventsBefore).map(simSig);
    expect(beforeResponse.slice(-3)).toEqual(['ChannelEnteredBridge EM', 'ChannelVarset L1 BRIDGEPEER=EM', 'ChannelVarset EM BRIDGEPEER=L1']);
  });

  it('leaves nothing behind', async () => {
    expect((await ari(sim.url, 'GET', '/channels')).body).toEqual([]);
    expect((await ari(sim.url, 'GET', '/bridges')).body).toEqual([]);
  });
});
