/** Unit checks of the sim's building blocks: G.711 tables, the API table/api-docs, fault parsing, rng. */
import {describe, expect, it} from '@jest/globals';
import {API_OPS, apiDeclaration, EVENT_PROPS, matchRoute, opId, parseParam, resourceListing} from '../../src/sim/api.js';
import {parseFailFlag} from '../../src/sim/faults.js';
import {SimRng} from '../../src/sim/rng.js';
import {formatInfo, linearToAlaw, linearToUlaw} from '../../src/media/source/tone.js';
import {splitHostPort} from '../../src/sim/core.js';
import {readJsonl} from './helpers.js';

describe('tone tables', () => {
  it('encodes G.711 like the reference tables', () => {
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToUlaw(-1)).toBe(0x7f);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
  });

  it('precomputes whole-frame tone periods of the recorded sizes', () => {
    const u = formatInfo('ulaw');
    expect([u.payloadType, u.payloadBytes, u.samplesPerFrame, u.frameCount]).toEqual([0, 160, 160, 25]);
    const s = formatInfo('slin16');
    expect([s.payloadType, s.payloadBytes, s.samplesPerFrame, s.frameCount]).toEqual([118, 640, 320, 25]);
    expect(s.tone.length).toBe(25 * 640);
    // 1004 Hz: the tone crosses zero about 2 × 1004 × 0.5 s times over one 25-frame period
    let crossings = 0;
    for (let i = 2; i < s.tone.length; i += 2) if (Math.sign(s.tone.readInt16BE(i)) !== Math.sign(s.tone.readInt16BE(i - 2))) crossings++;
    expect(crossings).toBeGreaterThan(990);
    expect(crossings).toBeLessThan(1020);
    expect(formatInfo('alaw').payloadType).toBe(8);
  });
});

describe('API table and api-docs', () => {
  it('parses parameter shorthand', () => {
    expect(parseParam('{channelId}')).toMatchObject({name: 'channelId', paramType: 'path', required: true});
    expect(parseParam('channel*!')).toMatchObject({name: 'channel', paramType: 'query', required: true, allowMultiple: true});
    expect(parseParam('variables#')).toMatchObject({name: 'variables', paramType: 'body', dataType: 'containers'});
    expect(parseParam('timeout:int')).toMatchObject({name: 'timeout', dataType: 'int', required: false});
  });

  it('routes literal paths before templated ones', () => {
    expect(matchRoute('POST', '/channels/externalMedia')).toMatchObject({op: {nickname: 'externalMedia'}});
    expect(matchRoute('POST', '/channels/abc')).toMatchObject({op: {nickname: 'originateWithId'}, pathParams: {channelId: 'abc'}});
    expect(matchRoute('DELETE', '/channels/1.2')).toMatchObject({op: {nickname: 'hangup'}, pathParams: {channelId: '1.2'}});
    expect(matchRoute('PUT', '/channels')).toBe('method');
    expect(matchRoute('GET', '/nope')).toBeUndefined();
  });

  it('declares every op with its path params, and models for every event type the sim sends', () => {
    const listing = resourceListing('http://h/ari') as {apis: Array<{path: string}>};
    expect(listing.apis.map((a) => a.path)).toContain('/api-docs/channels.{format}');
    for (const op of API_OPS) {
      const decl = apiDeclaration(op.resource, 'http://h/ari') as {apis: Array<{path: string; operations: Array<{nickname: string; parameters: Array<{name: string; paramType: string}>}>}>};
      const o = decl.apis.find((a) => a.path === op.path)!.operations.find((x) => x.nickname === op.nickname)!;
      const pathParams = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect({op: opId(op), p: o.parameters.filter((p) => p.paramType === 'path').map((p) => p.name)}).toEqual({op: opId(op), p: pathParams});
    }
    const recordedTypes = new Set(readJsonl<{type: string}>('ari-events-call.jsonl').map((e) => e.type));
    const events = apiDeclaration('events', 'http://h/ari') as {models: Record<string, unknown>};
    for (const t of recordedTypes) expect(Object.keys(events.models)).toContain(t);
    expect(Object.keys(EVENT_PROPS)).toContain('ApplicationReplaced');
  });
});

describe('fault flags and helpers', () => {
  it('parses --fail values', () => {
    expect(parseFailFlag('externalMedia=500')).toEqual({operation: 'externalMedia', status: 500});
    expect(parseFailFlag('bridges.addChannel=422:3')).toEqual({operation: 'bridges.addChannel', status: 422, count: 3});
    expect(() => parseFailFlag('nosuch=500')).toThrow(/unknown operation/);
    expect(() => parseFailFlag('originate')).toThrow(/OPERATION=STATUS/);
  });

  it('splits external_host like ast_sockaddr_split_hostport with PARSE_PORT_REQUIRE', () => {
    expect(splitHostPort('127.0.0.1:40000')).toEqual({host: '127.0.0.1', port: 40000});
    expect(splitHostPort('[::1]:5000')).toEqual({host: '::1', port: 5000});
    expect(splitHostPort('127.0.0.1')).toBeUndefined();
    expect(splitHostPort('127.0.0.1:0')).toBeUndefined();
    expect(splitHostPort('host:port')).toBeUndefined();
  });

  it('seeded rng is reproducible and spreads values', () => {
    const a = new SimRng(42);
    const b = new SimRng(42);
    const xs = Array.from({length: 100}, () => a.u32());
    expect(xs).toEqual(Array.from({length: 100}, () => b.u32()));
    expect(new Set(xs).size).toBe(100);
    expect(new SimRng(1).uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const c = new SimRng(7);
    for (let i = 0; i < 1000; i++) {
      const v = c.int(3, 5);
      expect(v >= 3 && v <= 5).toBe(true);
    }
  });
});
