/**
 * The fault scenarios of issue 14, each against its own real processes on 127.0.0.1. A scenario
 * returns what it measured and the checks its expectation is made of; it passes only when every
 * check holds and no process crashed. Timing rows of `sla` (maxLatenessMs, maxConsecutiveLate,
 * lateRatio) depend on how busy this machine is, not on the fault: they are shown, and only the
 * HTTP flood judges lateness (against a starvation bound, not the SLA).
 */
import {execFileSync} from 'node:child_process';
import {createSocket} from 'node:dgram';
import {truncateSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import WebSocket from 'ws';
import {errorMessage} from '../errors.js';
import type {Report} from '../protocol/report.js';
import {RUN_TOKEN_HEADER} from '../protocol/app-args.js';
import type {RtpslaChild} from '../demo/children.js';
import {APP, type Exit, type FaultContext, type LoadRun, type SlaRun, type Stack, health, liveCalls, serveMetric, sleep, until} from './harness.js';

/** `sla` rows that judge timing (machine load), not the fault. */
export const TIMING_INVARIANTS: readonly string[] = ['maxLatenessMs', 'maxConsecutiveLate', 'lateRatio'];

export interface Check {
  what: string;
  ok: boolean;
}

export interface Figures {
  leaked?: {channels: number | null; bridges: number | null; ports: number | null};
  /** Packets lost in the run (from its report), null: no report. */
  lost?: number | null;
  exitCodes?: Record<string, string>;
  [k: string]: unknown;
}

export interface Outcome {
  measured: string[];
  checks: Check[];
  figures: Figures;
}

export interface Scenario {
  name: string;
  /** In the CI subset (finishes in seconds, runs in `npm test`). */
  ci: boolean;
  done: string;
  expected: string;
  timeoutMs: number;
  run(ctx: FaultContext): Promise<Outcome>;
}

function exitText(e: Exit | undefined): string {
  if (!e) return 'running';
  if (e.timedOut) return `timeout (${Math.round(e.durationMs / 1000)} s)`;
  return e.signal ? e.signal : `exit ${e.code}`;
}

function noLeak(l: Figures['leaked'], portsMayBeUnknown = false): Check {
  const ok = !!l && l.channels === 0 && l.bridges === 0 && (l.ports === 0 || (portsMayBeUnknown && l.ports === null));
  return {what: 'nothing leaked', ok};
}

function functionalFailures(failed: string[]): string[] {
  return failed.filter((f) => !TIMING_INVARIANTS.includes(f));
}

function reportText(r: Report | null): string {
  if (!r) return 'no report';
  const s = r.summary;
  return `${s.callsFailed}/${s.callsAttempted} calls failed, lost ${s.lost}, late ${s.late}, max lateness ${s.latenessMs.max} ms`;
}

/** Load calls in the background and wait until serve has them all up (or `timeoutMs`). */
async function callsUp(stack: Stack, n: number, timeoutMs = 10_000): Promise<number> {
  return until(async () => {
    const up = (await liveCalls(stack.serveUrl).catch(() => [])).filter((c) => c.state === 'up').length;
    return up >= n ? up : 0;
  }, timeoutMs);
}

interface LoadScenarioOptions<D, A> {
  count: number;
  durationMs: number;
  runId: string;
  /** A stack already started (default: sim + echo + serve with `serve`). */
  stack?: Stack;
  serve?: {serveArgs?: string[]; serveEnv?: Record<string, string>};
  /** Before load starts (a fault armed in advance). */
  before?: (stack: Stack) => Promise<void>;
  /** The fault, once serve has all the calls up; without it, load runs to its end undisturbed. */
  during?: (stack: Stack, load: RtpslaChild) => Promise<D>;
  /** How long load may take after `during` (default 60 s); without `during`, 90 s. */
  loadTimeoutMs?: number;
  /** After load ended, before the leaks are measured. */
  after?: (stack: Stack, run: LoadRun) => Promise<A>;
  /** Measure what is left on the sim and serve (default true). */
  leaks?: boolean;
  /** Judge the report with `sla` (default false). */
  sla?: boolean;
}

interface LoadScenarioRun<D, A> {
  stack: Stack;
  run: LoadRun;
  leaked: Figures['leaked'];
  /** null: not judged, or no report. */
  sla: SlaRun | null;
  slaJudged: boolean;
  during: D;
  after: A;
}

/**
 * The skeleton of a load-driven scenario: a stack, `rtpsla load` on it (in the background with
 * `during` once the calls are up), then its report, what was left behind and `sla` on the report.
 */
async function loadScenario<D = undefined, A = undefined>(ctx: FaultContext, o: LoadScenarioOptions<D, A>): Promise<LoadScenarioRun<D, A>> {
  const stack = o.stack ?? (await ctx.stack(o.serve));
  await o.before?.(stack);
  const params = {count: o.count, durationMs: o.durationMs, runId: o.runId};
  let run: LoadRun;
  let during = undefined as D;
  if (o.during) {
    const load = ctx.startLoad(stack, params);
    await callsUp(stack, o.count);
    during = await o.during(stack, load);
    run = ctx.loadResult(await ctx.finish(load, o.loadTimeoutMs ?? 60_000), o.runId);
  } else {
    run = await ctx.load(stack, params, o.loadTimeoutMs);
  }
  const after = (await o.after?.(stack, run)) as A;
  const leaked = o.leaks === false ? undefined : await ctx.leaks(stack);
  const sla = o.sla && run.reportPath ? await ctx.sla(run.reportPath) : null;
  return {stack, run, leaked, sla, slaJudged: o.sla === true, during, after};
}

function slaFailedText(sla: SlaRun | null): string {
  return `sla failed: ${sla?.failed.join(', ') || 'none'}`;
}

function slaFunctionalPass(sla: SlaRun | null): Check {
  return {what: 'sla functional checks pass', ok: !!sla && functionalFailures(sla.failed).length === 0};
}

/** sla exit 1 with every one of `invariants` among the failed. */
function slaFailsOn(sla: SlaRun | null, ...invariants: string[]): Check {
  return {what: `sla exit 1 naming ${invariants.join(' and ')}`, ok: sla?.exit.code === 1 && invariants.every((i) => sla.failed.includes(i))};
}

function loadExit0(run: LoadRun): Check {
  return {what: 'load exit 0', ok: run.exit.code === 0};
}

function noCallFailed(run: LoadRun): Check {
  return {what: 'no call failed', ok: run.report?.summary.callsFailed === 0};
}

function nothingLost(run: LoadRun): Check {
  return {what: 'nothing lost', ok: run.report?.summary.lost === 0};
}

/** leaked, lost, `extra`, and the exit codes (default: load's, and sla's when it judged). */
function loadFigures(r: LoadScenarioRun<unknown, unknown>, o: {extra?: Record<string, unknown>; exitCodes?: Record<string, string>} = {}): Figures {
  const exitCodes = o.exitCodes ?? {load: exitText(r.run.exit), ...(r.slaJudged ? {sla: exitText(r.sla?.exit)} : {})};
  return {leaked: r.leaked, lost: r.run.report?.summary.lost ?? null, ...o.extra, exitCodes};
}

const websocketDrops: Scenario = {
  name: 'websocket-drop-x5',
  ci: true,
  done: '4 calls of 6 s; the ARI events WebSocket dropped 5 times mid-run',
  expected: 'no call failed, nothing lost or leaked, serve healthy after; sla functional checks pass',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 4, durationMs: 6000, runId: 'ws-drop', sla: true,
      during: async (stack) => {
        for (let i = 0; i < 5; i++) {
          await ctx.simFault(stack, {dropWebSocket: true});
          await sleep(600);
        }
      },
    });
    const h = await until(async () => ((await health(r.stack.serveUrl))?.status === 200 ? 200 : 0), 10_000);
    return {
      measured: [reportText(r.run.report), `serve /health after: ${h || 'not 200'}`, slaFailedText(r.sla)],
      checks: [loadExit0(r.run), noCallFailed(r.run), nothingLost(r.run), noLeak(r.leaked), {what: 'serve healthy', ok: h === 200}, slaFunctionalPass(r.sla)],
      figures: loadFigures(r),
    };
  },
};

const ariRestart: Scenario = {
  name: 'ari-restart',
  ci: true,
  done: '3 calls of 6 s; the sim restarted like `core stop now` 2 s into the hold (ARI down 2 s)',
  expected: 'every cut-short call FAILED with its reason; sla exit 1 naming callsFailed; serve reconnects; nothing leaked',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 3, durationMs: 6000, runId: 'ari-restart', sla: true,
      during: async (stack) => {
        await sleep(1000);
        await ctx.simFault(stack, {restart: {downtimeMs: 2000}});
      },
      after: (stack) => until(async () => ((await health(stack.serveUrl))?.status === 200 ? 200 : 0), 20_000),
    });
    const h = r.after;
    const errors = (r.run.report?.calls ?? []).map((c) => c.error);
    return {
      measured: [reportText(r.run.report), `first reason: ${errors.find((e) => e !== null) ?? 'none'}`, `serve /health after: ${h || 'not 200'}`, slaFailedText(r.sla)],
      checks: [
        {what: 'a report was written', ok: r.run.report !== null},
        {what: 'every call failed with a reason', ok: errors.length === 3 && errors.every((e) => e !== null && e !== '')},
        slaFailsOn(r.sla, 'callsFailed'),
        {what: 'serve reconnected (health 200)', ok: h === 200},
        noLeak(r.leaked),
      ],
      figures: loadFigures(r),
    };
  },
};

const echoRestart: Scenario = {
  name: 'echo-restart',
  ci: true,
  done: '3 calls of 7 s; echo killed (SIGKILL) 2 s into the hold, restarted on its port 1 s later',
  expected: 'the loss is counted (lost > 0) and sla fails on lossRatio; no call failed; serve unharmed; nothing leaked',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 3, durationMs: 7000, runId: 'echo-restart', sla: true,
      during: async (stack) => {
        await sleep(1000);
        ctx.expectExit(stack.echo);
        stack.echo.proc.kill('SIGKILL');
        await stack.echo.exitWithin(5000);
        await sleep(1000);
        await ctx.startEcho(stack.echoPort).port;
      },
    });
    const lost = r.run.report?.summary.lost ?? null;
    return {
      measured: [reportText(r.run.report), slaFailedText(r.sla)],
      checks: [
        {what: 'loss counted', ok: lost !== null && lost > 0},
        {what: 'media came back after the restart', ok: (r.run.report?.calls ?? []).every((c) => c.packetsBack > 0)},
        slaFailsOn(r.sla, 'lossRatio'),
        noCallFailed(r.run),
        noLeak(r.leaked),
      ],
      figures: loadFigures(r),
    };
  },
};

/** `n` consecutive UDP ports free on 127.0.0.1 now, from `from` up. */
async function freeUdpPorts(from: number, n: number): Promise<number> {
  for (let low = from; low < from + 2000; low += n) {
    const socks = Array.from({length: n}, () => createSocket('udp4'));
    const ok = await Promise.all(
      socks.map((s, i) => new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.bind(low + i, '127.0.0.1', () => resolve(true));
      })),
    );
    await Promise.all(socks.map((s) => new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } })));
    if (ok.every(Boolean)) return low;
  }
  throw new Error(`no ${n} consecutive free UDP ports from ${from}`);
}

const portExhaustion: Scenario = {
  name: 'port-range-exhausted',
  ci: true,
  done: 'relay range of 3 ports, one held by another process; 3 calls of 4 s',
  expected: 'the surplus call is rejected naming EADDRINUSE and the ports tried; the other 2 measured; sla exit 1 (callsFailed); nothing leaked',
  timeoutMs: 90_000,
  async run(ctx) {
    const low = await freeUdpPorts(49_100, 3);
    const blocker = createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(low, '127.0.0.1', () => r()));
    try {
      const r = await loadScenario(ctx, {count: 3, durationMs: 4000, runId: 'ports', serve: {serveArgs: ['--port-range', `${low}-${low + 2}`]}, sla: true});
      const failed = (r.run.report?.calls ?? []).filter((c) => c.error !== null);
      const measuredCalls = (r.run.report?.calls ?? []).filter((c) => c.error === null && c.packetsBack > 0).length;
      return {
        measured: [`error: ${failed.map((c) => c.error).join(' | ') || 'none'}`, `${measuredCalls} calls measured`, slaFailedText(r.sla)],
        checks: [
          {what: 'exactly 1 call rejected naming EADDRINUSE', ok: failed.length === 1 && /no free relay port .*1 tried.*EADDRINUSE/.test(failed[0].error ?? '')},
          {what: '2 calls measured', ok: measuredCalls === 2},
          slaFailsOn(r.sla, 'callsFailed'),
          noLeak(r.leaked),
        ],
        figures: loadFigures(r),
      };
    } finally {
      blocker.close();
    }
  },
};

/** Send `total` junk datagrams (random bytes and RTP-looking headers) round-robin to `ports`. */
async function sprayGarbage(ports: number[], total: number): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const bufs = Array.from({length: 64}, (_, i) => {
    const b = Buffer.alloc(12 + (i * 7) % 200);
    for (let k = 0; k < b.length; k++) b[k] = (i * 31 + k * 17) & 0xff;
    if (i % 2 === 0) {
      b[0] = 0x80; // RTP v2, far-ahead sequence numbers
      b.writeUInt16BE((i * 4099) & 0xffff, 2);
    }
    return b;
  });
  let sent = 0;
  while (sent < total) {
    const batch = Math.min(500, total - sent);
    await Promise.all(
      Array.from({length: batch}, (_, k) => new Promise<void>((r) => sock.send(bufs[(sent + k) % bufs.length], ports[(sent + k) % ports.length], '127.0.0.1', () => r()))),
    );
    sent += batch;
  }
  sock.close();
  return sent;
}

const garbage: Scenario = {
  name: 'garbage-datagrams',
  ci: false,
  done: '3 calls of 7 s; 100 000 junk datagrams (random and RTP-looking) sent to their live relay ports',
  expected: 'counted as foreign, nothing forwarded: calls clean (0 lost, 0 failed), serve unharmed, nothing leaked',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 3, durationMs: 7000, runId: 'garbage', sla: true,
      during: async (stack) => {
        const ports = (await liveCalls(stack.serveUrl)).map((c) => c.port).filter((p): p is number => p !== null);
        const foreignBefore = (await serveMetric(stack.serveUrl, 'foreign')) ?? 0;
        return {ports, foreignBefore, sent: await sprayGarbage(ports, 100_000)};
      },
      after: async (stack) => (await serveMetric(stack.serveUrl, 'foreign')) ?? 0,
    });
    const {ports, foreignBefore, sent} = r.during;
    const foreign = r.after - foreignBefore;
    return {
      measured: [`sent ${sent} to ${ports.length} relays, serve counted ${foreign} foreign`, reportText(r.run.report), slaFailedText(r.sla)],
      checks: [{what: 'junk counted as foreign', ok: foreign > 0}, noCallFailed(r.run), nothingLost(r.run), slaFunctionalPass(r.sla), noLeak(r.leaked)],
      figures: loadFigures(r, {extra: {sent, foreign}}),
    };
  },
};

/** `n` concurrent GETs to `paths` (round-robin) without keep-alive; counts answers by status. */
async function flood(base: string, paths: string[], n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const agent = new http.Agent({keepAlive: false, maxSockets: Infinity});
  await Promise.all(
    Array.from({length: n}, (_, i) => new Promise<void>((resolve) => {
      const req = http.get(`${base}${paths[i % paths.length]}`, {agent, timeout: 15_000}, (res) => {
        res.resume();
        res.on('end', () => {
          counts[String(res.statusCode)] = (counts[String(res.statusCode)] ?? 0) + 1;
          resolve();
        });
        res.on('error', () => resolve());
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        counts[err.code ?? 'error'] = (counts[err.code ?? 'error'] ?? 0) + 1;
        resolve();
      });
      req.on('timeout', () => req.destroy());
    })),
  );
  agent.destroy();
  return counts;
}

const httpFlood: Scenario = {
  name: 'http-flood',
  ci: false,
  done: '4 calls of 7 s; 3 waves of 2000 concurrent GETs (/metrics, /runs/<id>, /runs/<id>?consume=1 without token, /calls) during the hold',
  expected: 'media not starved (late ≤ 1 %, max lateness < 100 ms), 0 lost, load keeps its records (0 failed), consume refused (403) or shed (503)',
  timeoutMs: 120_000,
  async run(ctx) {
    const runId = 'flood';
    const r = await loadScenario(ctx, {count: 4, durationMs: 7000,
      runId,
      during: async (stack) => {
        const totals: Record<string, number> = {};
        for (let wave = 0; wave < 3; wave++) {
          const c = await flood(stack.serveUrl, ['/metrics', `/runs/${runId}`, `/runs/${runId}?consume=1`, '/calls'], 2000);
          for (const [k, v] of Object.entries(c)) totals[k] = (totals[k] ?? 0) + v;
        }
        // and one with a wrong token, for the record
        const wrong = await fetch(`${stack.serveUrl}/runs/${runId}?consume=1`, {headers: {[RUN_TOKEN_HEADER]: '0'.repeat(32)}}).then((res) => res.status, () => 0);
        return {totals, wrong};
      },
    });
    const {totals, wrong} = r.during;
    const s = r.run.report?.summary;
    const lateShare = s && s.packetsBack > 0 ? s.late / s.packetsBack : null;
    return {
      measured: [
        `answers ${Object.entries(totals).map(([k, v]) => `${k}×${v}`).join(' ')}`,
        `consume with a wrong token: ${wrong}`,
        reportText(r.run.report),
      ],
      checks: [
        {what: 'load kept its records (0 calls failed)', ok: s?.callsFailed === 0},
        nothingLost(r.run),
        {what: 'not starved: late ≤ 1 %', ok: lateShare !== null && lateShare <= 0.01},
        {what: 'not starved: max lateness < 100 ms', ok: !!s && s.latenessMs.max < 100},
        {what: 'consume without the token refused', ok: wrong === 403 && (totals['403'] ?? 0) + (totals['503'] ?? 0) > 0},
        noLeak(r.leaked),
      ],
      figures: loadFigures(r, {extra: {answers: totals}}),
    };
  },
};

const secondServe: Scenario = {
  name: 'second-serve',
  ci: true,
  done: '3 calls of 6 s on serve A; mid-run a serve B on A\'s port, then one on another port; then another client takes the app',
  expected: 'B exits 2 with one line (port taken; app held) and touches nothing: 0 calls failed, nothing leaked; ApplicationReplaced → A /health 503 with the reason',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 3, durationMs: 6000, runId: 'second',
      during: async (stack) => {
        const port = new URL(stack.serveUrl).port;
        const env = {...stack.env};
        const samePort = await ctx.run('serve-B', ctx.serveArgs(stack.echoPort, ['--metrics-port', port]), env, 20_000);
        const otherPort = await ctx.run('serve-B2', ctx.serveArgs(stack.echoPort), env, 20_000);
        return {samePort, otherPort};
      },
    });
    const {stack, run, leaked} = r;
    const {samePort, otherPort} = r.during;
    // another client registers the app: A must say it is no longer healthy
    const ws = new WebSocket(`${stack.simUrl.replace(/^http/, 'ws')}/ari/events?app=${APP}&api_key=${ctx.user}:${ctx.pass}`);
    await new Promise<void>((resolve) => {
      ws.once('open', () => resolve());
      ws.once('error', () => resolve());
    });
    const replaced = await until(async () => {
      const h = await health(stack.serveUrl);
      return h && h.status === 503 ? h : null;
    }, 5000);
    ws.close();
    const line = (e: Exit) => e.output.trim().split('\n').filter((l) => l.trim() !== '');
    return {
      measured: [
        `B on A's port: ${line(samePort).at(-1) ?? ''}`,
        `B on another port: ${(line(otherPort).at(-1) ?? '').replace(/ \(its HTTP.*$/, ' …')}`,
        reportText(run.report),
        `A after ApplicationReplaced: /health ${replaced ? `${replaced.status} (${String(replaced.body.reason).split(';')[0]})` : 'still 200'}`,
      ],
      checks: [
        {what: 'B on A\'s port: exit 2, one line naming the port', ok: samePort.code === 2 && line(samePort).length === 1 && /--metrics-port.*EADDRINUSE/.test(samePort.output)},
        {what: 'B on another port: exit 2, one line naming the app', ok: otherPort.code === 2 && line(otherPort).length === 1 && /another rtpsla serve holds app "rtpsla"/.test(otherPort.output)},
        {what: 'A\'s calls unharmed (0 failed, 0 lost)', ok: run.report?.summary.callsFailed === 0 && run.report.summary.lost === 0},
        noLeak(leaked),
        {what: 'ApplicationReplaced → /health 503 with the reason', ok: !!replaced && /ApplicationReplaced/.test(String(replaced.body.reason))},
      ],
      figures: loadFigures(r, {exitCodes: {'serve B same port': exitText(samePort), 'serve B other port': exitText(otherPort), load: exitText(run.exit)}}),
    };
  },
};

const sigtermServe: Scenario = {
  name: 'sigterm-serve',
  ci: false,
  done: '3 calls of 8 s; SIGTERM to serve 2 s into the hold',
  expected: 'serve tears its calls down and exits 0 within 10 s; load ends with a report (those calls FAILED, with the reason); no channel or bridge left on ARI',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 3, durationMs: 8000, runId: 'sigterm',
      during: async (stack) => {
        await sleep(1000);
        ctx.expectExit(stack.serve);
        stack.serve.proc.kill('SIGTERM');
        return ctx.finish(stack.serve, 10_000);
      },
    });
    const serveExit = r.during;
    const {run} = r;
    return {
      measured: [`serve exited ${serveExit.durationMs} ms after SIGTERM`, reportText(run.report), `first reason: ${run.report?.calls.find((c) => c.error !== null)?.error ?? 'none'}`],
      checks: [
        {what: 'serve exit 0 within 10 s', ok: serveExit.code === 0 && !serveExit.timedOut},
        {what: 'load wrote a report', ok: run.report !== null && !run.exit.timedOut},
        {what: 'the cut calls FAILED with a reason', ok: !!run.report && run.report.calls.every((c) => c.error !== null && c.error !== '')},
        noLeak(r.leaked, true),
      ],
      figures: loadFigures(r, {exitCodes: {serve: exitText(serveExit), load: exitText(run.exit)}}),
    };
  },
};

const sigintLoad: Scenario = {
  name: 'sigint-load',
  ci: true,
  done: '3 calls of 20 s; SIGINT to load 2 s into the hold',
  expected: 'load hangs up, writes a partial report and exits 130 within 8 s (not after the hold); nothing leaked',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 3, durationMs: 20_000, runId: 'sigint', loadTimeoutMs: 8000,
      during: async (_stack, load) => {
        await sleep(1000);
        load.proc.kill('SIGINT');
      },
    });
    const exit = r.run.exit;
    return {
      measured: [`load exited ${exit.durationMs} ms after SIGINT`, `report partial: ${r.run.report?.partial ?? 'no report'}`],
      checks: [
        {what: 'exit 130 within 8 s', ok: exit.code === 130 && !exit.timedOut},
        {what: 'partial report written', ok: r.run.report?.partial === true},
        noLeak(r.leaked),
      ],
      figures: loadFigures(r),
    };
  },
};

const failedHangup: Scenario = {
  name: 'failed-hangup',
  ci: true,
  done: '2 calls of 3 s; the sim answers 500 to the first 2 DELETE /channels',
  expected: 'load retries with backoff until the channels are gone: 0 calls failed, nothing leaked, sla functional checks pass',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 2, durationMs: 3000, runId: 'hangup-500', sla: true,
      before: (stack) => ctx.simFault(stack, {fail: {operation: 'hangup', status: 500, count: 2}}),
    });
    return {
      measured: [reportText(r.run.report), slaFailedText(r.sla)],
      checks: [loadExit0(r.run), noCallFailed(r.run), noLeak(r.leaked), slaFunctionalPass(r.sla)],
      figures: loadFigures(r),
    };
  },
};

const hangupNeverWorks: Scenario = {
  name: 'failed-hangup-permanent',
  ci: false,
  done: '1 call of 3 s; the sim answers 500 to every DELETE /channels',
  expected: 'load retries for 10 s, then records the call FAILED and the channel leaked; sla exit 1 (callsFailed, leakedChannels)',
  timeoutMs: 120_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 1, durationMs: 3000, runId: 'hangup-never', loadTimeoutMs: 90_000, leaks: false, sla: true,
      before: (stack) => ctx.simFault(stack, {fail: {operation: 'hangup', status: 500}}),
    });
    await ctx.simFault(r.stack, {clear: true});
    const error = r.run.report?.calls[0]?.error ?? null;
    const leakedChannels = r.run.report?.summary.leaked.channels ?? null;
    return {
      measured: [`call error: ${error ?? 'none'}`, slaFailedText(r.sla)],
      checks: [
        {what: 'the call FAILED: hangup failed after retries', ok: /hangup failed \(\d+ attempts/.test(error ?? '')},
        {what: 'the channel is recorded as leaked', ok: leakedChannels !== null && leakedChannels >= 1},
        slaFailsOn(r.sla, 'callsFailed', 'leakedChannels'),
      ],
      figures: {...loadFigures(r), leaked: r.run.report?.summary.leaked},
    };
  },
};

const badReports: Scenario = {
  name: 'bad-report-files',
  ci: true,
  done: 'sla on a real report made corrupt (truncated), huge (300 MB sparse), a FIFO, and inconsistent (clean summary, 500 lost in calls[])',
  expected: 'corrupt, huge and FIFO: exit 2 naming the file, within seconds; inconsistent: exit 1 naming "consistent"',
  timeoutMs: 120_000,
  async run(ctx) {
    const stack = await ctx.stack();
    const run = await ctx.load(stack, {count: 1, durationMs: 2000, runId: 'base'});
    if (!run.report) throw new Error(`the base run wrote no report (load ${exitText(run.exit)}): ${run.exit.output.slice(-500)}`);
    const text = JSON.stringify(run.report);
    const corrupt = path.join(ctx.dir, 'corrupt.json');
    writeFileSync(corrupt, text.slice(0, Math.floor(text.length / 2)));
    const huge = path.join(ctx.dir, 'huge.json');
    writeFileSync(huge, '');
    truncateSync(huge, 300 * 2 ** 20);
    const fifo = path.join(ctx.dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    const inconsistent = path.join(ctx.dir, 'inconsistent.json');
    const bad = structuredClone(run.report);
    bad.calls[0].lost = 500;
    writeFileSync(inconsistent, JSON.stringify(bad));
    const cases = await Promise.all([corrupt, huge, fifo].map((f) => ctx.run('sla', ['sla', f], {}, 20_000)));
    const inc = await ctx.sla(inconsistent);
    const names = ['corrupt', 'huge', 'FIFO'];
    return {
      measured: [
        ...cases.map((c, i) => {
          const file = [corrupt, huge, fifo][i];
          const why = c.output.split('\n').find((l) => l.includes(`${file}: `))?.split(`${file}: `)[1] ?? '';
          return `${names[i]}: ${exitText(c)} in ${c.durationMs} ms: ${why.slice(0, 60)}`;
        }),
        `inconsistent: ${exitText(inc.exit)}, failed ${inc.failed.join(', ')}: ${(inc.measured.consistent ?? '').replace(/^inconsistent: /, '')}`,
      ],
      checks: [
        ...cases.map((c, i) => ({what: `${names[i]}: exit 2 naming the file`, ok: c.code === 2 && c.output.includes([corrupt, huge, fifo][i])})),
        {what: 'huge refused by size', ok: /over the 256 MB limit/.test(cases[1].output)},
        {what: 'FIFO refused unread', ok: /is a FIFO/.test(cases[2].output)},
        {what: 'inconsistent: exit 1 naming consistent', ok: inc.exit.code === 1 && inc.failed.includes('consistent') && /summary\.lost is 0, calls\[\] say 500/.test(inc.measured.consistent ?? '')},
      ],
      figures: {exitCodes: {corrupt: exitText(cases[0]), huge: exitText(cases[1]), fifo: exitText(cases[2]), inconsistent: exitText(inc.exit)}},
    };
  },
};

interface ConfigCase {
  label: string;
  args: string[];
  env: Record<string, string>;
  setting: RegExp;
}

const badConfig: Scenario = {
  name: 'bad-config',
  ci: true,
  done: 'serve with APP_NAME "rt?psla", "rt#psla", "rt psla", BIND_IP 203.0.113.7 (not on this host), ECHO_HOST no-such-host.invalid; load with --out /proc/x, --out <a file>, APP_NAME "a/b"',
  expected: 'each: exit 2 within 10 s with one line naming the setting, before anything starts',
  timeoutMs: 90_000,
  async run(ctx) {
    const ari = {ARI_URL: 'http://127.0.0.1:9', ARI_USER: 'u', ARI_PASS: 'p'};
    const file = path.join(ctx.dir, 'not-a-dir');
    writeFileSync(file, '');
    const serve = (env: Record<string, string>) => ({args: ['serve', '--metrics-port', '0', '--log-level', 'warn'], env: {...ari, ...env}});
    const load = (args: string[], env: Record<string, string> = {}) => ({args: ['load', '--count', '1', '--duration-ms', '1000', ...args], env: {...ari, ...env}});
    const cases: ConfigCase[] = [
      {label: 'APP_NAME=rt?psla', ...serve({APP_NAME: 'rt?psla'}), setting: /--app\/APP_NAME/},
      {label: 'APP_NAME=rt#psla', ...serve({APP_NAME: 'rt#psla'}), setting: /--app\/APP_NAME/},
      {label: 'APP_NAME="rt psla"', ...serve({APP_NAME: 'rt psla'}), setting: /--app\/APP_NAME/},
      {label: 'BIND_IP=203.0.113.7', ...serve({BIND_IP: '203.0.113.7'}), setting: /--bind-ip\/BIND_IP.*EADDRNOTAVAIL/},
      {label: 'ECHO_HOST=no-such-host.invalid', ...serve({ECHO_HOST: 'no-such-host.invalid'}), setting: /--echo-host\/ECHO_HOST/},
      {label: 'load --out /proc/x', ...load(['--out', '/proc/x']), setting: /--out\/REPORTS_DIR/},
      {label: 'load --out <a file>', ...load(['--out', file]), setting: /--out\/REPORTS_DIR.*not a directory/},
      {label: 'load APP_NAME=a/b', ...load([], {APP_NAME: 'a/b'}), setting: /--app\/APP_NAME/},
    ];
    const exits = await Promise.all(cases.map((c) => ctx.run(c.label, c.args, c.env, 15_000)));
    const lines = (e: Exit) => e.output.trim().split('\n').filter((l) => l.trim() !== '');
    return {
      measured: cases.map((c, i) => `${c.label}: ${exitText(exits[i])} in ${(exits[i].durationMs / 1000).toFixed(1)} s, "${(/^rtpsla \w+: (--[\w-]+\/[A-Z_]+)/.exec(lines(exits[i]).at(-1) ?? '') ?? [])[1] ?? '?'}" named`),
      checks: cases.map((c, i) => ({
        what: `${c.label}: exit 2, one line naming the setting, < 10 s`,
        ok: exits[i].code === 2 && lines(exits[i]).length === 1 && c.setting.test(exits[i].output) && exits[i].durationMs < 10_000,
      })),
      figures: {messages: Object.fromEntries(cases.map((c, i) => [c.label, lines(exits[i]).at(-1) ?? '']))},
    };
  },
};

const userinfo: Scenario = {
  name: 'ari-url-userinfo',
  ci: true,
  done: 'serve and load given ARI_URL=http://user:pass@host (ARI_USER/ARI_PASS unset); 1 call of 2 s',
  expected: 'the userinfo is the credentials and appears nowhere: not in report.target.ariUrl, the table, or any log line',
  timeoutMs: 90_000,
  async run(ctx) {
    const s = ctx.startSim();
    const e = ctx.startEcho();
    const [simUrl, echoPort] = await Promise.all([s.url, e.port]);
    const withUserinfo = simUrl.replace('http://', `http://${ctx.user}:${ctx.pass}@`);
    const noCreds = {ARI_URL: withUserinfo, ARI_USER: '', ARI_PASS: ''};
    const {serve, url} = await ctx.startServe(simUrl, echoPort, ['--log-level', 'info'], noCreds);
    const stack: Stack = {sim: s.sim, echo: e.echo, serve, simUrl, echoPort, serveUrl: url, ari: ctx.rest(simUrl), env: noCreds};
    const r = await loadScenario(ctx, {count: 1, durationMs: 2000, runId: 'userinfo',
      stack,
      after: () => ctx.run('load-table', ['load', '--count', '1', '--duration-ms', '1000', '--serve-url', url, '--out', ctx.dir, '--run-id', 'userinfo-table'], noCreds, 60_000),
    });
    const {run, after: table} = r;
    const everything = [run.exit.output, table.output, serve.output, JSON.stringify(run.report ?? {})].join('\n');
    return {
      measured: [`target.ariUrl ${run.report?.target.ariUrl ?? 'no report'}`, `password found in output: ${everything.includes(ctx.pass)}`],
      checks: [
        {what: 'both loads exit 0 (credentials taken from the URL)', ok: run.exit.code === 0 && table.code === 0},
        {what: 'report.target.ariUrl without userinfo', ok: run.report?.target.ariUrl === simUrl},
        {what: 'the password appears nowhere', ok: !everything.includes(ctx.pass)},
        noLeak(r.leaked),
      ],
      figures: loadFigures(r, {exitCodes: {load: exitText(run.exit), 'load (table)': exitText(table)}}),
    };
  },
};

const echoHostName: Scenario = {
  name: 'echo-host-name',
  ci: true,
  done: 'serve with ECHO_HOST=localhost; 2 calls of 3 s',
  expected: 'the name is resolved once at start-up: every packet comes back (0 lost), none counted foreign',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 2, durationMs: 3000, runId: 'echo-localhost', serve: {serveEnv: {ECHO_HOST: 'localhost'}},
      after: (stack) => serveMetric(stack.serveUrl, 'foreign'),
    });
    const foreign = r.after;
    const s = r.run.report?.summary;
    return {
      measured: [reportText(r.run.report), `packets back ${s?.packetsBack ?? 'n/a'}, foreign ${foreign ?? 'n/a'}`],
      checks: [
        {what: 'packets came back, 0 lost', ok: !!s && s.packetsBack > 0 && s.lost === 0},
        {what: 'none counted foreign', ok: foreign === 0},
        {what: 'no call failed', ok: s?.callsFailed === 0},
        noLeak(r.leaked),
      ],
      figures: loadFigures(r),
    };
  },
};

export const SCENARIOS: readonly Scenario[] = [
  badConfig,
  badReports,
  userinfo,
  echoHostName,
  secondServe,
  failedHangup,
  sigintLoad,
  websocketDrops,
  ariRestart,
  echoRestart,
  portExhaustion,
  garbage,
  httpFlood,
  sigtermServe,
  hangupNeverWorks,
];

export const CI_SCENARIOS: readonly string[] = SCENARIOS.filter((s) => s.ci).map((s) => s.name);

/** First and last line of an error (a child's "exited before it was ready:" is followed by its output). */
export function describeError(err: unknown): string {
  const lines = errorMessage(err).split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length > 1 ? `${lines[0]} ${lines.at(-1)}` : (lines[0] ?? '');
}
