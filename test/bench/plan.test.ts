import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parseEchoPacing, parsePaths, planPaths} from '../../src/bench/paths.js';
import {compare, targets} from '../../src/bench/judge.js';
import type {NResult, PathName, PathResult} from '../../src/bench/types.js';

describe('which paths run', () => {
  let dir: string;
  let exe: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-plan-'));
    exe = path.join(dir, 'rtpsla-engine');
    writeFileSync(exe, '#!/bin/sh\n');
    chmodSync(exe, 0o755);
  });
  afterAll(() => rmSync(dir, {recursive: true, force: true}));

  const ALL = ['direct', 'native', 'native-defaults', 'node', 'rtpengine', 'rtpengine-defaults', 'rtpcaller'];

  test('all seven when the native engine is built and rtpengine is installed; sim and echo on the native engine', () => {
    const plan = planPaths(ALL as PathName[], {nativeBin: exe, rtpengine: '/usr/bin/rtpengine'});
    expect(plan).toEqual({paths: ALL, skipped: [], simEchoEngine: 'native', rtpengine: '/usr/bin/rtpengine'});
  });

  test('a missing engine or daemon skips every path that needs it, with the reason; sim and echo fall back to node', () => {
    const plan = planPaths(ALL as PathName[], {nativeBin: path.join(dir, 'missing'), rtpengine: null});
    expect(plan.paths).toEqual(['direct', 'node']);
    expect(plan.simEchoEngine).toBe('node');
    expect(plan.skipped.map((s) => s.path)).toEqual(['native', 'native-defaults', 'rtpengine', 'rtpengine-defaults', 'rtpcaller']);
    expect(plan.skipped[0].reason).toMatch(/native engine is not built/);
    expect(plan.skipped[2].reason).toMatch(/rtpengine-daemon/);
    expect(plan.skipped[4].reason).toMatch(/native engine is not built/);
  });

  test('only the paths asked for, in the fixed order', () => {
    expect(planPaths(['rtpengine', 'direct'], {nativeBin: exe, rtpengine: '/x/rtpengine'}).paths).toEqual(['direct', 'rtpengine']);
  });

  test('--paths accepts names in any order, or all; anything else is one clear message', () => {
    expect(parsePaths('rtpengine, direct')).toEqual(['direct', 'rtpengine']);
    expect(parsePaths('all')).toEqual(['direct', 'native', 'native-defaults', 'node', 'rtpengine', 'rtpengine-defaults', 'rtpcaller']);
    expect(parsePaths('rtpcaller,native-defaults')).toEqual(['native-defaults', 'rtpcaller']);
    expect(parsePaths('direct,relay')).toMatch(/^--paths: "direct,relay" is not a comma-separated list of direct, native, native-defaults, node, rtpengine, rtpengine-defaults, rtpcaller/);
    expect(typeof parsePaths('')).toBe('string');
  });
});

describe('echo pacing error from its stats lines', () => {
  const T = '2026-12-01T14:00:00.000Z info';
  test('the scalars the native echo writes in echo.stats: the last line counts (cumulative)', () => {
    const out = [
      'echo listening on 127.0.0.1:4000 (rcvbuf 1, sndbuf 1)',
      `${T} echo.stats packetsIn=50 engine=native pacingErrorP99Us=900 pacingErrorMaxUs=2000`,
      `${T} echo.stats packetsIn=100 engine=native pacingErrorP99Us=61.5 pacingErrorMaxUs=3100`,
      `${T} echo.stopped signal=SIGTERM engine=native packetsIn=100`,
    ].join('\n');
    expect(parseEchoPacing(out)).toEqual({p50: null, p99: 61.5, p999: null, max: 3100});
  });

  test('echo.stopped wins when it carries the figure, as an object (quoted JSON, as the logger writes objects)', () => {
    const out = [
      `${T} echo.stats pacingErrorP99Us=900 pacingErrorMaxUs=2000`,
      `${T} echo.stopped signal=SIGTERM pacingErrorUs=${JSON.stringify(JSON.stringify({p50: 12, p99: 80, p999: 140, max: 900}))} late=0`,
    ].join('\n');
    expect(parseEchoPacing(out)).toEqual({p50: 12, p99: 80, p999: 140, max: 900});
  });

  test('null when echo does not report it (the node echo) or without a p99', () => {
    expect(parseEchoPacing(`${T} echo.stopped signal=SIGTERM packetsIn=100 late=0\n`)).toBeNull();
    expect(parseEchoPacing('')).toBeNull();
    expect(parseEchoPacing(`${T} echo.stopped pacingErrorUs=${JSON.stringify(JSON.stringify({p50: 1}))}`)).toBeNull();
    expect(parseEchoPacing(`${T} echo.stats pacingErrorMaxUs=2000`)).toBeNull();
  });
});

function pathResult(p: PathName, rt: {p50: number; p99: number; p999: number; max: number}, extra: Partial<PathResult> = {}): PathResult {
  return {
    path: p,
    engines: {sim: 'native', echo: 'native', relayRequested: p === 'native' || p === 'node' ? p : null, relay: p === 'direct' ? null : p},
    roundTripMs: {count: 1000, p95: rt.p99, ...rt},
    relayCpuUsPerPacket: null,
    engineCpuUsPerPacket: null,
    echoPacingErrorUs: null,
    echoPacingErrorUsPhase: null,
    echoPacingNote: '',
    relay: null,
    window: {rssPeakBytes: {}} as PathResult['window'],
    ...extra,
  } as PathResult;
}

function nResult(calls: number, paths: Partial<Record<PathName, PathResult>>): NResult {
  const direct = paths.direct ?? null;
  const r = {calls, direct, overDirect: {}, slaClean: {native: null, 'native-defaults': null, node: null, rtpcaller: null}} as NResult;
  for (const p of ['native', 'native-defaults', 'node', 'rtpengine', 'rtpengine-defaults', 'rtpcaller'] as const) {
    r[p] = paths[p] ?? null;
    r.overDirect[p] = compare(direct, r[p]);
  }
  return r;
}

describe('relay against direct and the targets', () => {
  test('what a relay adds over direct is the difference of the round-trip percentiles', () => {
    const o = compare(pathResult('direct', {p50: 0.2, p99: 1, p999: 2, max: 4}), pathResult('rtpengine', {p50: 0.3, p99: 1.25, p999: 1.5, max: 5}));
    expect(o).toEqual({addsMs: {p50: 0.1, p99: 0.25, p999: -0.5, max: 1}, ratios: {p50: 1.5, p99: 1.25, p999: 0.75, max: 1.25}});
    expect(compare(null, pathResult('node', {p50: 1, p99: 1, p999: 1, max: 1}))).toBeNull();
  });

  test('the native targets at 150 from this run: p99 added, CPU per packet against rtpengine', () => {
    const r = nResult(150, {
      direct: pathResult('direct', {p50: 0.2, p99: 1, p999: 2, max: 4}),
      native: pathResult('native', {p50: 0.25, p99: 1.2, p999: 2.5, max: 5}, {relayCpuUsPerPacket: 6}),
      rtpengine: pathResult('rtpengine', {p50: 0.3, p99: 1.4, p999: 3, max: 6}, {relayCpuUsPerPacket: 9}),
    });
    const t = targets([r], []);
    expect(t.relayAddsP99At150.met).toBe(true);
    expect(t.relayCpuBelowRtpengineAt150).toEqual({met: true, detail: expect.stringMatching(/6 µs vs rtpengine 9 µs/)});
    expect(t.relayCpuBelowRtpengineAt600.met).toBeNull();
    expect(t.echoPacingP99.met).toBeNull();
    expect(t.slaCleanAt600.met).toBeNull();
  });

  test('not measured (null, with the reason) when rtpengine was skipped or serve did not forward natively', () => {
    const skipped = [{path: 'rtpengine' as const, reason: 'rtpengine is not installed'}];
    const direct = pathResult('direct', {p50: 0.2, p99: 1, p999: 2, max: 4});
    const t = targets([nResult(150, {direct, native: pathResult('native', {p50: 0.3, p99: 1.2, p999: 2, max: 4}, {relayCpuUsPerPacket: 6})})], skipped);
    expect(t.relayCpuBelowRtpengineAt150).toEqual({met: null, detail: 'rtpengine: rtpengine is not installed'});

    const fellBack = pathResult('native', {p50: 0.3, p99: 1.2, p999: 2, max: 4}, {relayCpuUsPerPacket: 6});
    fellBack.engines.relay = 'node';
    const t2 = targets([nResult(150, {direct, native: fellBack})], []);
    expect(t2.relayAddsP99At150).toEqual({met: null, detail: expect.stringMatching(/node engine on the native path/)});
    expect(t2.relayCpuBelowRtpengineAt150.met).toBeNull();
  });

  test('echo pacing: the worst p99 over any steady window against 0.1 ms, the whole-life figure quoted beside it', () => {
    const rt = {p50: 0.2, p99: 1, p999: 2, max: 4};
    const ok = pathResult('direct', rt, {echoPacingErrorUs: {p50: 5, p99: 60, p999: 90, max: 300, count: 5000}});
    const bad = pathResult('node', rt, {echoPacingErrorUs: {p50: 5, p99: 150, p999: 400, max: 900, count: 5000}});
    expect(targets([nResult(30, {direct: ok})], []).echoPacingP99.met).toBe(true);
    const t = targets([nResult(30, {direct: ok, node: bad})], []);
    expect(t.echoPacingP99).toEqual({met: false, detail: expect.stringMatching(/0\.15 ms at worst over the steady window \(N=30 node/)});
    // a teardown burst shows in the whole-life figure, quoted, and does not decide the target
    const torn = pathResult('node', rt, {
      echoPacingErrorUs: {p50: 5, p99: 55, p999: 80, max: 120, count: 5000},
      echoPacingErrorUsPhase: {p50: 5, p99: 400, p999: 1500, max: 2100},
    });
    const t2 = targets([nResult(600, {direct: ok, node: torn})], []);
    expect(t2.echoPacingP99).toEqual({met: true, detail: expect.stringMatching(/0\.06 ms at worst over the steady window \(N=600 direct.*whole life, teardown included: 0\.4 ms at worst \(N=600 node\)/)});
  });

  test('echo pacing: a path whose window figure could not be taken fails the target, named', () => {
    const rt = {p50: 0.2, p99: 1, p999: 2, max: 4};
    const ok = pathResult('direct', rt, {echoPacingErrorUs: {p50: 5, p99: 60, p999: 90, max: 300, count: 5000}});
    const none = pathResult('native', rt, {echoPacingErrorUs: null, echoPacingNote: 'over the steady window: not measured (the echo held no packet between the two marks)'});
    const t = targets([nResult(150, {direct: ok, native: none})], []);
    expect(t.echoPacingP99).toEqual({met: false, detail: expect.stringMatching(/not measured on N=150 native/)});
  });
});
