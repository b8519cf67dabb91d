/** The lateAboveCalls fault switch: every forwarded frame late while more than K RTP-caller calls are up. */
import {describe, expect, it} from '@jest/globals';
import {ForwardingLinks} from '../../src/sim/forwarding.js';
import type {MediaEngine} from '../../src/media/source/engine.js';
import type {SimChannel} from '../../src/sim/model.js';
import {Faults, FaultError} from '../../src/sim/faults.js';
import {parseLateAboveCallsFlag} from '../../src/sim/media-faults.js';

/** A media engine that only records links and delays (stream → current extra delay, µs). */
function fakeMedia() {
  const extra = new Map<object, number>();
  const linked = new Set<object>();
  const media = {
    link: (from: object) => void linked.add(from),
    unlink: (from: object) => {
      linked.delete(from);
      extra.delete(from);
    },
    delayForward: (from: object, extraUs: number, durationUs: number) => void extra.set(from, durationUs > 0 ? extraUs : 0),
  };
  return {media: media as unknown as MediaEngine, extra, linked};
}

let ids = 0;
function call(): [SimChannel, SimChannel] {
  const n = ids++;
  const caller = {id: `c${n}`, kind: 'unicast', args: ['rtpsla-load', 'run', String(n), 'tok'], media: {id: `mc${n}`}} as unknown as SimChannel;
  const relay = {id: `r${n}`, kind: 'unicast', args: [], media: {id: `mr${n}`}} as unknown as SimChannel;
  return [caller, relay];
}

describe('lateAboveCalls', () => {
  it('delays both directions of every call while more than K are up, and none at or below K', () => {
    const {media, extra} = fakeMedia();
    const links = new ForwardingLinks(media);
    links.setLateAbove({calls: 2, ms: 30});
    const calls = [call(), call()];
    for (const [a, b] of calls) links.pair(a, b);
    expect(links.lateAboveCounts).toEqual({active: false, crossings: 0, linksDelayed: 0});
    expect([...extra.values()].filter((v) => v > 0)).toHaveLength(0);

    const third = call();
    links.pair(...third);
    calls.push(third);
    expect(links.lateAboveCounts.active).toBe(true);
    expect(links.lateAboveCounts.crossings).toBe(1);
    for (const [a, b] of calls) {
      expect(extra.get(a.media!)).toBe(30_000);
      expect(extra.get(b.media!)).toBe(30_000);
    }
    // a call set up above K is late from its start
    const fourth = call();
    links.pair(...fourth);
    expect(extra.get(fourth[0].media!)).toBe(30_000);
    expect(links.lateAboveCounts.linksDelayed).toBe(8);

    links.unpair(fourth[0]);
    expect(links.lateAboveCounts.active).toBe(true);
    links.unpair(third[1]);
    expect(links.lateAboveCounts.active).toBe(false);
    for (const [a, b] of calls.slice(0, 2)) {
      expect(extra.get(a.media!)).toBe(0);
      expect(extra.get(b.media!)).toBe(0);
    }
    // rising above K again is a second crossing
    links.pair(...call());
    expect(links.lateAboveCounts).toMatchObject({active: true, crossings: 2});
    links.setLateAbove(null);
    expect(links.lateAboveCounts.active).toBe(false);
  });

  it('is a fault switch of POST /_sim/faults: validated, reported in the state, cleared by clear', () => {
    const f = new Faults();
    f.apply({lateAboveCalls: {calls: 50}});
    expect(f.state().lateAboveCalls).toMatchObject({armed: true, rule: {calls: 50, ms: 30}});
    expect(() => f.apply({lateAboveCalls: {calls: -1}} as never)).toThrow(FaultError);
    expect(() => f.apply({lateAboveCalls: {calls: 5, ms: 0}} as never)).toThrow(/lateAboveCalls\.ms/);
    expect(() => f.apply({lateAboveCalls: {calls: 5, every: 1}} as never)).toThrow(/unknown field "every"/);
    f.apply({clear: true});
    expect(f.state().lateAboveCalls).toMatchObject({armed: false, rule: null});
  });

  it('parses --late-above-calls K[:MS]', () => {
    expect(parseLateAboveCallsFlag('50')).toEqual({calls: 50, ms: 30});
    expect(parseLateAboveCallsFlag('50:40')).toEqual({calls: 50, ms: 40});
    expect(() => parseLateAboveCallsFlag('x:30')).toThrow(/K\[:MS\]/);
  });
});
