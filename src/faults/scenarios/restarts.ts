/** Fault scenarios: the ARI WebSocket dropped, Asterisk (the sim) restarted, echo restarted: each mid-run. */
import {health, sleep, until} from '../harness.js';
import {type Scenario, noLeak, reportText, loadScenario, slaFailedText, slaFunctionalPass, slaFailsOn, loadExit0, noCallFailed, nothingLost, loadFigures} from './kit.js';

export const websocketDrops: Scenario = {
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

export const echoRestart: Scenario = {
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
