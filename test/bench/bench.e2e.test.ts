import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/cli.js';
import type {BenchResult, PathName} from '../../src/bench/types.js';
import {lastCpu} from '../../src/engine/cpu-list.js';

describe('bench: smoke run of the harness (real processes, N = 5 for 2 s, every path that can run here)', () => {
  test('writes a result JSON with each path measured or skipped with a note, what each relay adds, the chart (its data and its page), and leaves no child behind', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-bench-'));
    try {
      const r = await runCli(
        ['bench', '--calls', '5', '--duration-ms', '2000', '--settle-ms', '600', '--out', out,
          '--sim-rtp-range', '27000-27999', '--relay-port-range', '37000-37999', '--rtpengine-port-range', '47000-47999'],
        {timeoutMs: 280_000},
      );
      expect(r.stderr).toMatch(/bench: N=5 direct/);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/RT p99/); // the console table

      const files = readdirSync(out);
      const json = files.find((f) => /^\d{8}-\d{6}\.json$/.test(f));
      const spec = files.find((f) => /^\d{8}-\d{6}\.chart\.json$/.test(f));
      const page = files.find((f) => /^\d{8}-\d{6}\.html$/.test(f));
      expect(json).toBeDefined();
      expect(spec).toBeDefined();
      expect(page).toBeDefined();
      expect(page!.replace(/\.html$/, '')).toBe(json!.replace(/\.json$/, ''));
      // the chart's page: one canvas, its data inline, Chart.js inlined, no fetch allowed
      const html = readFileSync(path.join(out, page!), 'utf8');
      expect(html).toMatch(/^<!doctype html>[\s\S]*<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-/);
      expect(html.match(/<canvas /g)).toHaveLength(1);
      expect(html).toMatch(/<script type="application\/json" id="chart-1-config">\{"type":"line"/);
      expect(html).toMatch(/<script>\/\*!\n \* Chart\.js v4\./);
      expect(r.stderr).toContain(`bench: wrote ${path.join(out, json!)}, ${path.join(out, spec!)} and ${path.join(out, page!)}`);

      const res = JSON.parse(readFileSync(path.join(out, json!), 'utf8')) as BenchResult;
      expect(res.schema).toBe('rtpsla.bench/v1');
      expect(res.machine.cpus).toBeGreaterThan(0);
      expect(res.machine.node).toBe(process.version);
      expect(res.params).toMatchObject({calls: [5], durationMs: 2000});
      // every path either ran or is skipped with its reason, printed under the table too
      expect([...res.params.paths, ...res.skipped.map((s) => s.path)].sort()).toEqual(['direct', 'native', 'native-defaults', 'node', 'rtpcaller', 'rtpengine', 'rtpengine-defaults']);
      expect(res.params.repeat).toBe(1);
      expect(res.params.search).toBeNull();
      expect(res.largestSlaCleanBy).toBe('calls given');
      expect(res.search).toBeNull();
      for (const s of res.skipped) {
        expect(s.reason.length).toBeGreaterThan(0);
        expect(r.stdout).toContain(`skipped: ${s.path}: ${s.reason}`);
      }
      expect(res.params.paths).toEqual(expect.arrayContaining(['direct', 'node']));
      expect(res.results).toHaveLength(1);
      const n = res.results[0];
      expect(n.calls).toBe(5);
      const ran = res.params.paths.map((p) => n[p]);
      for (const p of ran) {
        expect(p).not.toBeNull();
        expect(p!.callsFailed).toBe(0);
        expect(p!.repeat).toBeUndefined();
        // on rtpcaller the sim forwards load's caller instead of sending its own tone: no round trip of its own
        if (p!.path !== 'rtpcaller') {
          expect(p!.sim!.packetsSent).toBeGreaterThan(0);
          expect(p!.sim!.packetsReceived).toBeGreaterThan(0);
          expect(p!.roundTripMs!.count).toBeGreaterThan(0);
          expect(p!.roundTripMs!.p99).toBeGreaterThanOrEqual(p!.roundTripMs!.p50);
          expect(p!.caller).toBeNull();
        } else {
          // not zeros that pass: null, with why, and the caller's own figures beside them
          expect(p!.roundTripMs).toBeNull();
          expect(p!.sim).toBeNull();
          expect(p!.nullReasons?.roundTripMs).toMatch(/forwarded load's caller/);
          expect(p!.caller!.received).toBeGreaterThan(0);
          expect(p!.caller!.callerRttMs!.p99).toBeGreaterThanOrEqual(p!.caller!.callerRttMs!.p50);
        }
        // what the OS granted each role it started, as a report's tool.engines
        expect(p!.toolEngines.sim).toEqual(expect.objectContaining({engine: 'native', scheduling: expect.stringMatching(/^(fifo:\d+|nice:-?\d+|normal)$/)}));
        expect(p!.toolEngines.echo).toEqual(expect.objectContaining({scheduling: expect.any(String), timestamps: expect.any(String)}));
        if (p!.path === 'direct') expect(p!.toolEngines.relay).toBeUndefined();
        else if (p!.path.startsWith('rtpengine')) expect(p!.toolEngines.relay).toEqual({unknown: expect.stringMatching(/rtpengine/)});
        else expect(p!.toolEngines.relay).toEqual(expect.objectContaining({scheduling: expect.any(String), timestamps: expect.any(String)}));
        if (p!.path === 'rtpcaller') expect(p!.toolEngines.caller).toEqual(expect.objectContaining({scheduling: expect.any(String)}));
        expect(p!.window.cpuPercent.sim).toBeGreaterThan(0);
        // steal is read from /proc/stat: a finite, non-negative amount (0 on bare metal)
        expect(Number.isFinite(p!.window.hostSteal.phaseMs) && p!.window.hostSteal.phaseMs >= 0).toBe(true);
        // sim and echo run the same engine on every path: the paths differ only in the relay
        expect(p!.engines.sim).toBe(n.direct!.engines.sim);
        expect(p!.engines.echo).toBe(n.direct!.engines.echo);
      }
      for (const p of res.skipped) expect(n[p.path]).toBeNull();
      // every path of one N is placed alike; at N = 5 the chain shares the last CPU (auto), unless rtpengine runs and cannot be pinned
      for (const p of ran) expect(p!.placement).toEqual(n.direct!.placement);
      if (!res.notes.some((note) => /no taskset/.test(note))) {
        expect(n.direct!.placement).toEqual({mode: 'shared-cpu', sim: lastCpu(), echo: lastCpu(), relay: lastCpu()});
      }
      expect(n.direct!.relayCpuUsPerPacket).toBeNull();
      expect(n.direct!.engines.relay).toBeNull();
      for (const name of ['native', 'native-defaults', 'node', 'rtpcaller'] as const) {
        const p = n[name];
        if (!p) continue;
        expect(p.engines.relayRequested).toBe(name === 'node' ? 'node' : 'native');
        // the cross-check: the same relay's CPU read from /proc of its processes
        expect(p.relayCpuUsPerPacketProc).toBeGreaterThan(0);
        expect(n.slaClean[name]).toBe(p.relay!.sla.pass);
        expect(p.relay!.packetsBack).toBeGreaterThan(0);
        expect(p.window.cpuPercent.serve).toBeGreaterThan(0);
        expect(p.relayCpuUsPerPacket).toBeGreaterThan(0);
        expect(typeof p.relay!.sla.pass).toBe('boolean');
        // serve says which engine forwarded; the native figures come with the engine child alone
        if (p.engines.relay === 'native') {
          expect(p.engineCpuUsPerPacket).toBeGreaterThan(0);
          expect(p.engineCpuUsPerPacket!).toBeLessThanOrEqual(p.relayCpuUsPerPacket!);
        }
      }
      const pinned = n.direct!.placement.relay;
      if (n.rtpengine) {
        expect(n.rtpengine.engines.relay).toBe('rtpengine');
        expect(n.rtpengine.packetsForwardedInWindow).toBeGreaterThan(0);
        // measured (a number, never null): rtpengine's CPU is read from /proc in 10 ms ticks, and
        // 5 calls for 2 s can cost it less than one tick, so 0 is a measurement here
        expect(typeof n.rtpengine.relayCpuUsPerPacket).toBe('number');
        expect(n.rtpengine.relayCpuUsPerPacket).toBeGreaterThanOrEqual(0);
        expect(n.rtpengine.relayCpuUsPerPacketProc).toBe(n.rtpengine.relayCpuUsPerPacket);
        // like for like: rtpengine's media threads at the relay engine's priority and CPU, as native's engine
        const prio = pinned !== null ? 12 : 10;
        expect(res.rtpengine!.args).toEqual(expect.arrayContaining(['--table=-1', '--foreground', '--interface=127.0.0.1', '--scheduling=fifo', `--priority=${prio}`]));
        expect(n.rtpengine.relayPlacement).toMatchObject({mode: 'like-for-like', scheduling: `fifo:${prio}`, mediaCpus: pinned});
        if (n.native) expect(n.native.relayPlacement).toEqual({mode: 'like-for-like', scheduling: `fifo:${prio}`, mediaCpus: pinned});
        if (pinned !== null) expect(n.rtpengine.relayPlacement!.threadsPinned).toContain('poller');
        if (pinned !== null) expect(n.rtpengine.relayPlacement!.threadsPinned).not.toContain('rtpengine');
      }
      if (n['rtpengine-defaults']) {
        expect(n['rtpengine-defaults'].relayPlacement).toEqual({mode: 'defaults', scheduling: 'default', mediaCpus: null, threadsPinned: []});
        expect(n['rtpengine-defaults'].relayCpuUsPerPacket).toBeGreaterThan(0);
      }
      if (n['native-defaults']) expect(n['native-defaults'].relayPlacement).toEqual({mode: 'defaults', scheduling: 'fifo:10', mediaCpus: null});
      if (n.rtpcaller) {
        // the caller engine's CPU per packet beside the relay's, from /proc over the same window
        expect(n.rtpcaller.callerCpuUsPerPacket).toBeGreaterThan(0);
        expect(n.rtpcaller.window.cpuPercent.caller).toBeGreaterThan(0);
        expect(n.rtpcaller.relay!.packetsBack).toBeGreaterThan(0);
        expect(res.largestSlaCleanCalls.rtpcaller).toBe(n.rtpcaller.relay!.sla.pass ? 5 : null);
      }
      for (const p of ran) if (p!.path !== 'rtpcaller') expect(p!.callerCpuUsPerPacket).toBeNull();
      // echo's pacing error over the steady window: both marks reached the echo on every path
      // with a window (a count of held packets, or null saying nothing was held), its whole life beside it
      for (const p of ran) {
        if (p!.window.steady) expect(p!.echoPacingNote).not.toMatch(/logged [01] of the window's 2 marks/);
        if (p!.echoPacingErrorUs) expect(p!.echoPacingErrorUs.count).toBeGreaterThan(0);
        else expect(p!.echoPacingNote).toMatch(/over the steady window: not measured \(/);
        expect(p!.echoPacingErrorUsPhase?.p99).toEqual(expect.any(Number));
      }
      expect(n.direct!.relayPlacement).toBeNull();
      expect(n.direct!.relayCpuUsPerPacketProc).toBeNull();
      // what each relay adds is computed from the two round-trip distributions
      for (const name of ['native', 'native-defaults', 'node', 'rtpengine', 'rtpengine-defaults'] as const) {
        const p = n[name];
        if (!p) {
          expect(n.overDirect[name]).toBeNull();
          continue;
        }
        expect(n.overDirect[name]!.addsMs.p99).toBeCloseTo(p.roundTripMs!.p99 - n.direct!.roundTripMs!.p99, 2);
        expect(n.overDirect[name]!.ratios.p50).toBeCloseTo(p.roundTripMs!.p50 / n.direct!.roundTripMs!.p50, 2);
      }
      expect(Object.keys(res.targets)).toEqual([
        'slaCleanAt600', 'relayAddsP99At150', 'relayCpuBelowRtpengineAt150', 'relayCpuBelowRtpengineAt600', 'echoPacingP99', 'serveRssAt1000',
      ]);
      // N = 5 measures none of the targets set at 150, 600 or 1000 calls: each says why
      for (const [k, t] of Object.entries(res.targets)) if (k !== 'echoPacingP99') expect(t).toEqual({met: null, detail: expect.any(String)});
      // the chart's data: a line per path with a round trip and percentile, log-log, a point at N = 5 each
      const chart = JSON.parse(readFileSync(path.join(out, spec!), 'utf8')) as {
        type: string; options: {scales: {x: {type: string}; y: {type: string}}};
        data: {datasets: Array<{path: string; percentile: string; data: Array<{x: number; y: number}>}>};
      };
      expect(res.chartSpecPath).toBe(path.join(out, spec!));
      expect(chart.type).toBe('line');
      expect([chart.options.scales.x.type, chart.options.scales.y.type]).toEqual(['logarithmic', 'logarithmic']);
      const charted = res.params.paths.filter((p) => (n[p]!.roundTripMs?.count ?? 0) > 0);
      expect([...new Set(chart.data.datasets.map((d) => d.path))].sort()).toEqual([...charted].sort());
      const keys: Record<string, 'p50' | 'p99' | 'p999'> = {p50: 'p50', p99: 'p99', 'p99.9': 'p999'};
      for (const d of chart.data.datasets) {
        const rt = n[d.path as PathName]!.roundTripMs!;
        expect(d.data).toEqual([{x: 5, y: rt[keys[d.percentile]], label: expect.any(String)}]);
      }
      expect(chart.data.datasets).toHaveLength(3 * charted.length);
      // the harness ran with the flags every child gets (runCli starts it with them)
      expect(res.machine.nodeFlags).toEqual(['--no-memory-reducer']);
      expect(res.machine.harnessHasNodeFlags).toBe(true);

      const procs = execFileSync('ps', ['-eo', 'args='], {encoding: 'utf8'});
      expect(procs).not.toMatch(/--rtp-range 27000-27999/);
      expect(procs).not.toMatch(/--port-range 37000-37999/);
      expect(procs).not.toMatch(/--port-min=47000/);
    } finally {
      rmSync(out, {recursive: true, force: true});
    }
  }, 300_000);
});
