/** Fault scenarios: the ARI WebSocket dropped, Asterisk (the sim) restarted, echo restarted: each mid-run. */
import type {RtpslaChild} from '../../demo/children.js';
import {type FaultContext, type Stack, health, sleep, until} from '../harness.js';
import {type Scenario, fired, noLeak, reportText, loadScenario, slaFailedText, slaFunctionalPass, slaFailsOn, loadExit0, noCallFailed, nothingLost, loadFigures} from './kit.js';

/** Drop the events WebSocket 5 times, each once serve has its socket back (at most 3 s). */
async function dropFiveTimes(ctx: FaultContext, stack: Stack): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await ctx.inject(`drop the ARI events WebSocket (${i + 1} of 5)`, () => ctx.simFault(stack, {dropWebSocket: true}), undefined);
    await sleep(300);
    await until(async () => (await ctx.simStats(stack)).totals.eventSockets > 0, 3000);
    await sleep(300);
  }
}

/** serve's own "ari.reconnected" log lines (it logs one each time its events WebSocket is back). */
export function reconnectLines(output: string): number {
  return (output.match(/ info ari\.reconnected /g) ?? []).length;
}

export const websocketDrops: Scenario = {
  name: 'websocket-drop-x5',
  ci: true,
  done: '4 calls of 6 s; the ARI events WebSocket dropped 5 times mid-run',
  expected: 'the sim closed serve\'s WebSocket 5 times and serve reconnected 5 times; no call failed, nothing lost or leaked, serve healthy after; sla functional checks pass',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 4, durationMs: 6000, runId: 'ws-drop', sla: true, serve: {serveArgs: ['--log-level', 'info']},
      during: (stack) => dropFiveTimes(ctx, stack),
      after: async (stack) => (await ctx.simStats(stack)).faults.counters,
    });
    const c = r.after;
    const reconnects = reconnectLines(r.stack.serve.output);
    const h = await until(async () => ((await health(r.stack.serveUrl))?.status === 200 ? 200 : 0), 10_000);
    return {
      measured: [
        `sim: ${c.webSocketDrops} drops closed ${c.webSocketsDropped} WebSockets; serve logged ${reconnects} reconnects`,
        reportText(r.run.report), `serve /health after: ${h || 'not 200'}`, slaFailedText(r.sla),
      ],
      checks: [
        fired('the sim dropped the events WebSockets 5 times (closing at least 5)', c.webSocketDrops === 5 && c.webSocketsDropped >= 5),
        fired('serve reconnected at least 5 times (ari.reconnected)', reconnects >= 5),
        loadExit0(r.run), noCallFailed(r.run), nothingLost(r.run), noLeak(r.leaked), {what: 'serve healthy', ok: h === 200}, slaFunctionalPass(r.sla),
      ],
      figures: loadFigures(r, {extra: {webSocketsDropped: c.webSocketsDropped, reconnects}}),
    };
  },
};

export const ariRestart: Scenario = {
  name: 'ari-restart',
  ci: true,
  done: '3 calls of 6 s; the sim restarted like `core stop now` 2 s into the hold (ARI down 2 s)',
  expected: 'every cut-short call FAILED with its reason; sla exit 1 naming callsFailed; serve reconnects; nothing leaked',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 3, durationMs: 6000, runId: 'ari-restart', sla: true,
      during: async (stack) => {
        await sleep(1000);
        await ctx.inject('restart the sim (ARI down 2 s)', () => ctx.simFault(stack, {restart: {downtimeMs: 2000}}), undefined);
      },
      after: async (stack) => ({
        health: await until(async () => ((await health(stack.serveUrl))?.status === 200 ? 200 : 0), 20_000),
        restarts: (await ctx.simStats(stack)).faults.restarts,
      }),
    });
    const h = r.after.health;
    const errors = (r.run.report?.calls ?? []).map((c) => c.error);
    return {
      measured: [reportText(r.run.report), `first reason: ${errors.find((e) => e !== null) ?? 'none'}`, `serve /health after: ${h || 'not 200'}`, slaFailedText(r.sla)],
      checks: [
        fired('the sim restarted once (its restarts count)', r.after.restarts === 1),
        {what: 'a report was written', ok: r.run.report !== null},
        fired('every call failed with a reason', errors.length === 3 && errors.every((e) => e !== null && e !== '')),
        {...slaFailsOn(r.sla, 'callsFailed'), fired: true},
        {what: 'serve reconnected (health 200)', ok: h === 200},
        noLeak(r.leaked),
      ],
      figures: loadFigures(r),
    };
  },
};

/** The counters an echo prints when it stops (its "echo.stopped" line), or null without one. */
export function echoStoppedCounters(output: string): {packetsIn: number; packetsOut: number} | null {
  const line = output.split('\n').find((l) => / echo\.stopped /.test(l));
  const n = (k: string) => Number(new RegExp(` ${k}=(\\d+)`).exec(line ?? '')?.[1] ?? NaN);
  return line === undefined ? null : {packetsIn: n('packetsIn'), packetsOut: n('packetsOut')};
}

/** SIGKILL the stack's echo, and 1 s later start a new one on its port (returned, with how the old one ended). */
async function killAndRestartEcho(ctx: FaultContext, stack: Stack): Promise<{killed: string; echo: RtpslaChild}> {
  const old = stack.echo;
  if (old === null) throw new Error('this stack has no echo process');
  ctx.expectExit(old);
  old.proc.kill('SIGKILL');
  const exit = await old.exitWithin(5000);
  await sleep(1000);
  const next = ctx.startEcho(stack.echoPort);
  await next.port;
  return {killed: exit?.signal ?? `exit ${exit?.code ?? '?'}`, echo: next.echo};
}

export const echoRestart: Scenario = {
  name: 'echo-restart',
  ci: true,
  done: '3 calls of 7 s; echo killed (SIGKILL) 2 s into the hold, restarted on its port 1 s later',
  expected: 'the old echo died of SIGKILL and the new one echoed the calls\' packets; the loss is counted (lost > 0) and sla fails on lossRatio; no call failed; serve unharmed; nothing leaked',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 3, durationMs: 7000, runId: 'echo-restart', sla: true,
      during: async (stack) => {
        await sleep(1000);
        return ctx.inject('SIGKILL echo, restart it on its port 1 s later', () => killAndRestartEcho(ctx, stack), null);
      },
      after: async (_stack, _run, restart) => {
        if (restart === null) return null;
        // the calls are over: the new echo's own counters, printed when it stops
        ctx.expectExit(restart.echo);
        await restart.echo.stop(5000);
        return echoStoppedCounters(restart.echo.output);
      },
    });
    const restart = r.during;
    const after = r.after;
    const lost = r.run.report?.summary.lost ?? null;
    return {
      measured: [
        `old echo: ${restart?.killed ?? 'not killed'}; new echo: ${after ? `${after.packetsIn} in, ${after.packetsOut} out` : 'none'}`,
        reportText(r.run.report), slaFailedText(r.sla),
      ],
      checks: [
        fired('the old echo died of SIGKILL', restart?.killed === 'SIGKILL'),
        fired('the new echo process echoed packets (its own packetsOut > 0)', !!after && after.packetsOut > 0),
        fired('loss counted', lost !== null && lost > 0),
        {...slaFailsOn(r.sla, 'lossRatio'), fired: true},
        noCallFailed(r.run),
        noLeak(r.leaked),
      ],
      figures: loadFigures(r, {extra: {newEchoPacketsOut: after?.packetsOut ?? null}}),
    };
  },
};

/** What `engineKilled` saw of serve's engine: its pid before, the 503 and the 200 after. */
interface EngineKill {
  pidBefore: number | null;
  unhealthyAfterMs: number | null;
  reason: string | null;
  pidAfter: number | null;
}

/** Kill serve's native engine (SIGKILL, as an OOM killer would) and follow /health until it is back. */
async function killServeEngine(serveUrl: string): Promise<EngineKill> {
  const before = await health(serveUrl);
  const pidBefore = typeof before?.body.enginePid === 'number' ? before.body.enginePid : null;
  const out: EngineKill = {pidBefore, unhealthyAfterMs: null, reason: null, pidAfter: null};
  if (pidBefore === null) return out;
  process.kill(pidBefore, 'SIGKILL');
  const t0 = Date.now();
  const down = await until(async () => {
    const h = await health(serveUrl);
    if (h?.status !== 503) return null;
    out.reason = typeof h.body.reason === 'string' ? h.body.reason : null;
    return {ms: Date.now() - t0};
  }, 5000, 20);
  out.unhealthyAfterMs = down?.ms ?? null;
  const back = await until(async () => {
    const h = await health(serveUrl);
    return h?.status === 200 && typeof h.body.enginePid === 'number' ? h.body.enginePid : 0;
  }, 15_000);
  out.pidAfter = back || null;
  return out;
}

export const engineKilled: Scenario = {
  name: 'engine-killed',
  ci: true,
  done: '3 calls of 6 s; serve\'s native media engine killed (SIGKILL) 1 s into the hold; then a second load of 2 calls',
  expected: 'the calls in flight fail with "media engine died (SIGKILL)"; /health 503 within 1 s, then 200 with a new engine pid; the second load passes; nothing leaked',
  timeoutMs: 120_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 3, durationMs: 6000, runId: 'engine-killed', serve: {serveArgs: ['--engine', 'native']},
      during: async (stack) => {
        await sleep(1000);
        return ctx.inject('SIGKILL serve\'s media engine', () => killServeEngine(stack.serveUrl), {pidBefore: null, unhealthyAfterMs: null, reason: null, pidAfter: null});
      },
      after: async (stack) => ctx.load(stack, {count: 2, durationMs: 2000, runId: 'engine-killed-after'}),
    });
    const k = r.during;
    const errors = (r.run.report?.calls ?? []).map((c) => c.error);
    const second = r.after;
    return {
      measured: [
        reportText(r.run.report),
        `engine pid ${k.pidBefore ?? '?'} → ${k.pidAfter ?? '?'}; /health 503 after ${k.unhealthyAfterMs ?? '-'} ms (${k.reason ?? 'no reason'})`,
        `first reason: ${errors.find((e) => e !== null) ?? 'none'}`,
        `second load: ${reportText(second.report)}`,
      ],
      checks: [
        fired('the kill happened (the engine pid changed)', k.pidBefore !== null && k.pidAfter !== null && k.pidAfter !== k.pidBefore),
        {fired: true, what: '/health 503 within 1 s, naming the engine', ok: k.unhealthyAfterMs !== null && k.unhealthyAfterMs <= 1000 && /media engine died \(SIGKILL\)/.test(k.reason ?? '')},
        {fired: true, what: 'every call in flight failed with the engine reason', ok: errors.length === 3 && errors.every((e) => e !== null && /media engine died \(SIGKILL\) at \d+\.\d s/.test(e))},
        {what: 'the second load passed (exit 0, no call failed)', ok: second.exit?.code === 0 && (second.report?.summary.callsFailed ?? 1) === 0},
        noLeak(r.leaked),
      ],
      figures: loadFigures(r),
    };
  },
};
