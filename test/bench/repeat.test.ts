/** bench --repeat: K runs of a path as one result (medians, every number's spread), and the relays' placement. */
import {combineRuns, spread} from '../../src/bench/repeat.js';
import {relayPlacementFor, fifoOf, PATH_SPECS} from '../../src/bench/variants.js';
import type {PathResult} from '../../src/bench/types.js';

function run(p99: number, usPerPacket: number | null, pass: boolean, failed: string[] = []): PathResult {
  return {
    path: 'native',
    roundTripMs: {count: 1000, p50: 0.2, p95: 0.5, p99, p999: 2, max: 4},
    relayCpuUsPerPacket: usPerPacket,
    errors: pass ? [] : ['late'],
    window: {steady: true, durationMs: 1000, cpuPercent: {sim: 10, serve: 20}, cpuTimeUs: {}, udp: {inDatagrams: 0, inErrors: 0, rcvbufErrors: 0, sndbufErrors: 0}, rssPeakBytes: {}, hostSteal: {phaseMs: 0, windowPercent: 0}},
    relay: {reportPath: `r${p99}.json`, sla: {pass, judgedAt: 'x', level: null, levelCalls: null, failed}},
  } as unknown as PathResult;
}

describe('--repeat', () => {
  test('spread: min, median (the mean of the middle two for an even count), max', () => {
    expect(spread([3, 1, 2])).toEqual({min: 1, median: 2, max: 3});
    expect(spread([4, 1, 2, 10])).toEqual({min: 1, median: 3, max: 10});
  });

  test('every number is the median of the runs, with its spread by JSON path; the SLA passes only when every run did', () => {
    const c = combineRuns([run(1.0, 10, true), run(3.0, 14, false, ['lateRatio']), run(2.0, 12, true)]);
    expect(c.roundTripMs!.p99).toBe(2);
    expect(c.relayCpuUsPerPacket).toBe(12);
    expect(c.window.cpuPercent.serve).toBe(20);
    expect(c.repeat!.runs).toBe(3);
    expect(c.repeat!.figures['roundTripMs.p99']).toEqual({min: 1, median: 2, max: 3});
    expect(c.repeat!.figures['relayCpuUsPerPacket']).toEqual({min: 10, median: 12, max: 14});
    expect(c.repeat!.figures['window.cpuPercent.sim']).toEqual({min: 10, median: 10, max: 10});
    expect(c.relay!.sla.pass).toBe(false);
    expect(c.relay!.sla.failed).toEqual(['lateRatio']);
    expect(c.relay!.reportPath).toBe('r1.json, r3.json, r2.json');
    expect(c.errors).toEqual(['late']);
  });

  test('a figure measured in some runs only: the median of those; never measured stays null', () => {
    const c = combineRuns([run(1, null, true), run(1, 8, true)]);
    expect(c.relayCpuUsPerPacket).toBe(8);
    const n = combineRuns([run(1, null, true), run(1, null, true)]);
    expect(n.relayCpuUsPerPacket).toBeNull();
  });

  test('one run is returned as it is, without a spread', () => {
    const r = run(1, 5, true);
    expect(combineRuns([r])).toBe(r);
  });
});

describe('the relay\'s placement per path', () => {
  const shared = {mode: 'shared-cpu' as const, sim: '1', echo: '1', relay: '1'};
  const free = {mode: 'free' as const, sim: null, echo: null, relay: null};

  test('like for like: rtpengine at the priority and CPU of rtpsla\'s relay engine (12 pinned, 10 free)', () => {
    expect(relayPlacementFor('rtpengine', shared)).toEqual(relayPlacementFor('native', shared));
    expect(relayPlacementFor('rtpengine', shared)).toEqual({mode: 'like-for-like', scheduling: 'fifo:12', mediaCpus: '1'});
    expect(relayPlacementFor('rtpengine', free)).toEqual({mode: 'like-for-like', scheduling: 'fifo:10', mediaCpus: null});
    expect(relayPlacementFor('rtpcaller', shared)).toEqual(relayPlacementFor('native', shared));
  });

  test('at their own defaults: neither pinned; serve\'s engine FIFO 10, rtpengine without --scheduling', () => {
    expect(relayPlacementFor('native-defaults', shared)).toEqual({mode: 'defaults', scheduling: 'fifo:10', mediaCpus: null});
    expect(relayPlacementFor('rtpengine-defaults', shared)).toEqual({mode: 'defaults', scheduling: 'default', mediaCpus: null});
    expect(fifoOf('fifo:12')).toBe(12);
    expect(fifoOf('default')).toBeNull();
  });

  test('direct has no relay; rtpcaller is the only path whose caller is load\'s RTP caller', () => {
    expect(relayPlacementFor('direct', shared)).toBeNull();
    expect(Object.entries(PATH_SPECS).filter(([, s]) => s.caller === 'rtp').map(([p]) => p)).toEqual(['rtpcaller']);
  });
});
