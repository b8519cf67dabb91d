/**
 * What the fault scenarios (`npm run faults`, src/faults/scenarios/) run on: real `rtpsla` processes on 127.0.0.1 started from
 * this build (bin/run.js next to dist/, through RtpslaChild), each scenario with its own stack,
 * temp directory and credentials, everything it started stopped when it ends.
 */
import {randomBytes} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {AriRest} from '../ari/rest.js';
import {RtpslaChild} from '../demo/children.js';
import {errorMessage} from '../errors.js';
import type {Report} from '../protocol/report.js';
import type {SimStats} from '../sim/index.js';

/** Sim RTP ports and serve relay ports, apart from the test suite's and the defaults. */
export const SIM_RTP_RANGE = '41000-44999';
export const RELAY_PORT_RANGE = '45000-48999';
export const APP = 'rtpsla';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Still running when the time ran out (then killed). */
  timedOut: boolean;
  output: string;
  durationMs: number;
}

export interface Stack {
  sim: RtpslaChild;
  /** null: serve's echo is not an echo process (the stack was given `echoPort`). */
  echo: RtpslaChild | null;
  serve: RtpslaChild;
  simUrl: string;
  echoPort: number;
  serveUrl: string;
  ari: AriRest;
  /** ARI_URL/ARI_USER/ARI_PASS for a command against this stack's sim. */
  env: Record<string, string>;
}

export interface LoadRun {
  exit: Exit;
  report: Report | null;
  reportPath: string | null;
}

export interface SlaRun {
  exit: Exit;
  failed: string[];
  /** The rows' measured text by invariant (for the table). */
  measured: Record<string, string>;
}

/** RTPSLA_FAULTS_DRY=1: every scenario runs without injecting its fault (its "fault fired" checks must then fail). */
export function faultsDry(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.RTPSLA_FAULTS_DRY === '1';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One scenario's processes and files. */
export class FaultContext {
  readonly user = 'rtpsla';
  readonly pass = randomBytes(12).toString('hex');
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-faults-'));
  private readonly children: Array<{child: RtpslaChild; mayExit: boolean}> = [];
  private readonly rests: AriRest[] = [];
  /** Dry: `inject` skips every fault. */
  readonly dry = faultsDry();
  /** The faults `inject` was asked for (with " (skipped: dry)" when dry). */
  readonly injections: string[] = [];

  /**
   * The one way a scenario injects its fault: runs `fault` and returns its value, or in dry mode
   * skips it and returns `dryValue`.
   */
  async inject<T>(what: string, fault: () => Promise<T> | T, dryValue: T): Promise<T> {
    this.injections.push(this.dry ? `${what} (skipped: dry)` : what);
    return this.dry ? dryValue : fault();
  }

  /** Start `rtpsla ARGS…`; `mayExit`: its exit is part of the scenario (not a crash). */
  spawn(name: string, args: string[], env: Record<string, string> = {}, mayExit = false): RtpslaChild {
    const child = new RtpslaChild(name, args, {NO_COLOR: '1', ...env});
    this.children.push({child, mayExit});
    return child;
  }

  /** Run a command to its end (killed after `timeoutMs`). */
  async run(name: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Exit> {
    const t0 = Date.now();
    const child = this.spawn(name, args, env, true);
    return this.finish(child, timeoutMs, t0);
  }

  async finish(child: RtpslaChild, timeoutMs: number, t0 = Date.now()): Promise<Exit> {
    const done = await child.exitWithin(timeoutMs);
    if (done) return {...done, timedOut: false, output: child.output, durationMs: Date.now() - t0};
    child.killNow();
    const killed = await child.exitWithin(5000);
    return {code: killed?.code ?? null, signal: killed?.signal ?? null, timedOut: true, output: child.output, durationMs: Date.now() - t0};
  }

  /** Mark a long-running child's exit as intended (SIGTERM in the scenario, a refused start). */
  expectExit(child: RtpslaChild): void {
    const entry = this.children.find((c) => c.child === child);
    if (entry) entry.mayExit = true;
  }

  /** Children that exited on their own (not asked to) with a failure: crashes. */
  crashes(): string[] {
    return this.children
      .filter(({child, mayExit}) => !mayExit && !child.running && (child.proc.exitCode !== 0 || child.proc.signalCode !== null))
      .map(({child}) => `${child.name} (${child.proc.signalCode ?? `exit ${child.proc.exitCode}`})`);
  }

  rest(url: string): AriRest {
    const r = new AriRest({url, user: this.user, pass: this.pass, requestTimeoutMs: 5000});
    this.rests.push(r);
    return r;
  }

  startSim(extra: string[] = []): {sim: RtpslaChild; url: Promise<string>} {
    const sim = this.spawn('sim', ['sim', '--port', '0', '--rtp-range', SIM_RTP_RANGE, '--log-level', 'warn', ...extra], {ARI_USER: this.user, ARI_PASS: this.pass});
    return {sim, url: sim.ready(/sim listening on (http:\/\/[\d.]+:\d+)/, 20_000).then((m) => m[1])};
  }

  startEcho(port = 0): {echo: RtpslaChild; port: Promise<number>} {
    const echo = this.spawn('echo', ['echo', '--port', String(port), '--stats-interval-sec', '0']);
    return {echo, port: echo.ready(/echo listening on [\d.]+:(\d+)/, 20_000).then((m) => Number(m[1]))};
  }

  /** serve's arguments: these defaults, each replaced by the same flag in `extra`. */
  serveArgs(echoPort: number, extra: string[] = []): string[] {
    const defaults: Array<[string, string]> = [
      ['--metrics-port', '0'], ['--echo-port', String(echoPort)], ['--metrics-interval-sec', '0'], ['--log-level', 'warn'], ['--port-range', RELAY_PORT_RANGE],
    ];
    return ['serve', ...defaults.filter(([flag]) => !extra.includes(flag)).flat(), ...extra];
  }

  async startServe(simUrl: string, echoPort: number, extra: string[] = [], env: Record<string, string> = {}): Promise<{serve: RtpslaChild; url: string}> {
    const serve = this.spawn('serve', this.serveArgs(echoPort, extra), {ARI_URL: simUrl, ARI_USER: this.user, ARI_PASS: this.pass, ...env});
    const url = (await serve.ready(/serve listening on (http:\/\/[\d.]+:\d+)/, 20_000))[1];
    return {serve, url};
  }

  /** sim + echo + serve (`echoPort`: serve's echo is that port, no echo process is started). */
  async stack(o: {serveArgs?: string[]; serveEnv?: Record<string, string>; simArgs?: string[]; echoPort?: number} = {}): Promise<Stack> {
    const s = this.startSim(o.simArgs);
    const e = o.echoPort === undefined ? this.startEcho() : {echo: null, port: Promise.resolve(o.echoPort)};
    const [simUrl, echoPort] = await Promise.all([s.url, e.port]);
    const {serve, url} = await this.startServe(simUrl, echoPort, o.serveArgs, o.serveEnv);
    return {
      sim: s.sim,
      echo: e.echo,
      serve,
      simUrl,
      echoPort,
      serveUrl: url,
      ari: this.rest(simUrl),
      env: {ARI_URL: simUrl, ARI_USER: this.user, ARI_PASS: this.pass},
    };
  }

  /** Start `rtpsla load` (JSON summary on stdout, report in this scenario's directory). */
  startLoad(stack: Stack, o: {count: number; durationMs: number; runId: string; extra?: string[]; env?: Record<string, string>}): RtpslaChild {
    return this.spawn(
      'load',
      ['load', '--count', String(o.count), '--duration-ms', String(o.durationMs), '--delay-between-ms', '100', '--serve-url', stack.serveUrl,
        '--out', this.dir, '--run-id', o.runId, '--json', ...(o.extra ?? [])],
      {...stack.env, ...o.env},
      true,
    );
  }

  async load(stack: Stack, o: {count: number; durationMs: number; runId: string; extra?: string[]; env?: Record<string, string>}, timeoutMs = 90_000): Promise<LoadRun> {
    return this.loadResult(await this.finish(this.startLoad(stack, o), timeoutMs), o.runId);
  }

  loadResult(exit: Exit, runId: string): LoadRun {
    const reportPath = path.join(this.dir, `${runId}.json`);
    try {
      return {exit, report: JSON.parse(readFileSync(reportPath, 'utf8')) as Report, reportPath};
    } catch {
      return {exit, report: null, reportPath: null};
    }
  }

  /**
   * `sla --json` on a report, judged at its own size (a profile whose nominal level is the run's
   * call count, as `npm start` does for a short demo), so a few-call run is not failed for its size.
   */
  async sla(file: string, timeoutMs = 30_000): Promise<SlaRun> {
    let count = 1;
    try {
      count = Math.max(1, (JSON.parse(readFileSync(file, 'utf8')) as Report).params.count);
    } catch {
      // an unreadable report: sla will say why
    }
    const profile = path.join(this.dir, `profile-${count}.json`);
    writeFileSync(profile, JSON.stringify({levels: {nominal: {calls: count}}}));
    const exit = await this.run('sla', ['sla', '--json', '--profile', profile, file], {}, timeoutMs);
    try {
      const j = JSON.parse(exit.output.slice(exit.output.indexOf('{'))) as {reports: Array<{failed: string[]; rows: Array<{invariant: string; measuredText: string}>}>};
      const r = j.reports[0];
      return {exit, failed: r?.failed ?? [], measured: Object.fromEntries((r?.rows ?? []).map((x) => [x.invariant, x.measuredText]))};
    } catch {
      return {exit, failed: [], measured: {}};
    }
  }

  /** GET /_sim/stats (the fault counters under `faults.counters`). */
  async simStats(stack: Stack): Promise<SimStats> {
    const res = await fetch(`${stack.simUrl}/_sim/stats`, {headers: {authorization: 'Basic ' + Buffer.from(`${this.user}:${this.pass}`).toString('base64')}});
    if (!res.ok) throw new Error(`sim stats answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as SimStats;
  }

  /** POST /_sim/faults. */
  async simFault(stack: Stack, body: unknown): Promise<void> {
    const res = await fetch(`${stack.simUrl}/_sim/faults`, {
      method: 'POST',
      headers: {authorization: 'Basic ' + Buffer.from(`${this.user}:${this.pass}`).toString('base64'), 'content-type': 'application/json'},
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`sim faults answered ${res.status}: ${await res.text()}`);
  }

  /**
   * What the scenario left behind, once teardown had `waitMs` to finish: channels and bridges on
   * the sim (it holds nothing but this scenario's calls) and relay ports serve still holds.
   * null: could not be measured (the process is gone or does not answer).
   */
  async leaks(stack: Stack, waitMs = 8000): Promise<{channels: number | null; bridges: number | null; ports: number | null}> {
    const deadline = Date.now() + waitMs;
    let last = {channels: null as number | null, bridges: null as number | null, ports: null as number | null};
    for (;;) {
      const [channels, bridges] = await Promise.all([
        stack.sim.running ? stack.ari.listChannels().then((c) => c.length, () => null) : null,
        stack.sim.running ? stack.ari.listBridges().then((b) => b.length, () => null) : null,
      ]);
      const ports = stack.serve.running ? await serveMetric(stack.serveUrl, 'portsHeld') : null;
      last = {channels, bridges, ports};
      if ((channels === 0 || channels === null) && (bridges === 0 || bridges === null) && (ports === 0 || ports === null)) return last;
      if (Date.now() > deadline) return last;
      await sleep(250);
    }
  }

  async cleanup(): Promise<void> {
    for (const r of this.rests) r.close();
    await Promise.allSettled(this.children.map(({child}) => child.stop(5000)));
    rmSync(this.dir, {recursive: true, force: true});
  }
}

/** A number from serve's /metrics JSON, or null when serve does not answer it. */
export async function serveMetric(serveUrl: string, name: string): Promise<number | null> {
  try {
    const res = await fetch(`${serveUrl}/metrics`, {headers: {accept: 'application/json'}, signal: AbortSignal.timeout(3000)});
    if (!res.ok) return null;
    const v = ((await res.json()) as Record<string, unknown>)[name];
    return typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}

export async function health(serveUrl: string): Promise<{status: number; body: Record<string, unknown>} | null> {
  try {
    const res = await fetch(`${serveUrl}/health`, {signal: AbortSignal.timeout(3000)});
    return {status: res.status, body: (await res.json()) as Record<string, unknown>};
  } catch (err) {
    return {status: 0, body: {error: errorMessage(err)}};
  }
}

/** The live calls serve reports (their relay ports). */
export async function liveCalls(serveUrl: string): Promise<Array<{port: number | null; state: string}>> {
  const res = await fetch(`${serveUrl}/calls`, {signal: AbortSignal.timeout(3000)});
  return ((await res.json()) as {calls: Array<{port: number | null; state: string}>}).calls;
}

/** Poll until `fn` is truthy or `timeoutMs` passes; returns the last value. */
export async function until<T>(fn: () => Promise<T>, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await fn();
  while (!v && Date.now() < deadline) {
    await sleep(everyMs);
    v = await fn();
  }
  return v;
}
