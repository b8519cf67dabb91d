/** Fault scenarios: serve's and load's lives: a second serve, SIGTERM to serve, SIGINT to load, hangups that fail. */
import WebSocket from 'ws';
import {APP, type Exit, health, sleep, until} from '../harness.js';
import {type Scenario, fired, exitText, noLeak, reportText, loadScenario, slaFailedText, slaFunctionalPass, slaFailsOn, loadExit0, noCallFailed, loadFigures} from './kit.js';

/** A process that was never started (dry mode). */
const NOT_RUN: Exit = {code: null, signal: null, timedOut: false, output: '', durationMs: 0};

/** Open an events WebSocket for `url` (resolves once open, or failed). */
async function registerApp(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve) => {
    ws.once('open', () => resolve());
    ws.once('error', () => resolve());
  });
  return ws;
}

export const secondServe: Scenario = {
  name: 'second-serve',
  ci: true,
  done: '3 calls of 6 s on serve A; mid-run a serve B on A\'s port, then one on another port; then another client takes the app',
  expected: 'B exits 2 with one line (port taken; app held) and touches nothing: 0 calls failed, nothing leaked; ApplicationReplaced → A /health 503 with the reason',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 3, durationMs: 6000, runId: 'second',
      during: (stack) => ctx.inject('a serve B on A\'s port, then one on another port', async () => {
        const port = new URL(stack.serveUrl).port;
        const env = {...stack.env};
        const samePort = await ctx.run('serve-B', ctx.serveArgs(stack.echoPort, ['--metrics-port', port]), env, 20_000);
        const otherPort = await ctx.run('serve-B2', ctx.serveArgs(stack.echoPort), env, 20_000);
        return {samePort, otherPort};
      }, {samePort: NOT_RUN, otherPort: NOT_RUN}),
    });
    const {stack, run, leaked} = r;
    const {samePort, otherPort} = r.during;
    // another client registers the app: A must say it is no longer healthy
    const ws = await ctx.inject('another client registers the app', () => registerApp(`${stack.simUrl.replace(/^http/, 'ws')}/ari/events?app=${APP}&api_key=${ctx.user}:${ctx.pass}`), null);
    const replaced = await until(async () => {
      const h = await health(stack.serveUrl);
      return h && h.status === 503 ? h : null;
    }, 5000);
    ws?.close();
    const line = (e: Exit) => e.output.trim().split('\n').filter((l) => l.trim() !== '');
    return {
      measured: [
        `B on A's port: ${line(samePort).at(-1) ?? ''}`,
        `B on another port: ${(line(otherPort).at(-1) ?? '').replace(/ \(its HTTP.*$/, ' …')}`,
        reportText(run.report),
        `A after ApplicationReplaced: /health ${replaced ? `${replaced.status} (${String(replaced.body.reason).split(';')[0]})` : 'still 200'}`,
      ],
      checks: [
        {fired: true, what: 'B on A\'s port: exit 2, one line naming the port', ok: samePort.code === 2 && line(samePort).length === 1 && /--metrics-port.*EADDRINUSE/.test(samePort.output)},
        {fired: true, what: 'B on another port: exit 2, one line naming the app', ok: otherPort.code === 2 && line(otherPort).length === 1 && /another rtpsla serve holds app "rtpsla"/.test(otherPort.output)},
        {what: 'A\'s calls unharmed (0 failed, 0 lost)', ok: run.report?.summary.callsFailed === 0 && run.report.summary.lost === 0},
        noLeak(leaked),
        {fired: true, what: 'ApplicationReplaced → /health 503 with the reason', ok: !!replaced && /ApplicationReplaced/.test(String(replaced.body.reason))},
      ],
      figures: loadFigures(r, {exitCodes: {'serve B same port': exitText(samePort), 'serve B other port': exitText(otherPort), load: exitText(run.exit)}}),
    };
  },
};

export const sigtermServe: Scenario = {
  name: 'sigterm-serve',
  ci: false,
  done: '3 calls of 8 s; SIGTERM to serve 2 s into the hold',
  expected: 'serve tears its calls down and exits 0 within 10 s; load ends with a report (those calls FAILED, with the reason); no channel or bridge left on ARI',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 3, durationMs: 8000, runId: 'sigterm',
      during: async (stack) => {
        await sleep(1000);
        return ctx.inject('SIGTERM to serve', () => {
          ctx.expectExit(stack.serve);
          stack.serve.proc.kill('SIGTERM');
          return ctx.finish(stack.serve, 10_000);
        }, {...NOT_RUN, timedOut: true});
      },
    });
    const serveExit = r.during;
    const {run} = r;
    return {
      measured: [`serve exited ${serveExit.durationMs} ms after SIGTERM`, reportText(run.report), `first reason: ${run.report?.calls.find((c) => c.error !== null)?.error ?? 'none'}`],
      checks: [
        {fired: true, what: 'serve exit 0 within 10 s', ok: serveExit.code === 0 && !serveExit.timedOut},
        {what: 'load wrote a report', ok: run.report !== null && !run.exit.timedOut},
        {fired: true, what: 'the cut calls FAILED with a reason', ok: !!run.report && run.report.calls.every((c) => c.error !== null && c.error !== '')},
        noLeak(r.leaked, true),
      ],
      figures: loadFigures(r, {exitCodes: {serve: exitText(serveExit), load: exitText(run.exit)}}),
    };
  },
};

export const sigintLoad: Scenario = {
  name: 'sigint-load',
  ci: true,
  done: '3 calls of 20 s; SIGINT to load 2 s into the hold',
  expected: 'load hangs up, writes a partial report and exits 130 within 8 s (not after the hold); nothing leaked',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 3, durationMs: 20_000, runId: 'sigint', loadTimeoutMs: 8000,
      during: async (_stack, load) => {
        await sleep(1000);
        await ctx.inject('SIGINT to load', () => load.proc.kill('SIGINT'), false);
      },
    });
    const exit = r.run.exit;
    return {
      measured: [`load exited ${exit.durationMs} ms after SIGINT`, `report partial: ${r.run.report?.partial ?? 'no report'}`],
      checks: [
        {fired: true, what: 'exit 130 within 8 s', ok: exit.code === 130 && !exit.timedOut},
        {fired: true, what: 'partial report written', ok: r.run.report?.partial === true},
        noLeak(r.leaked),
      ],
      figures: loadFigures(r),
    };
  },
};

export const failedHangup: Scenario = {
  name: 'failed-hangup',
  ci: true,
  done: '2 calls of 3 s; the sim answers 500 to the first 2 DELETE /channels',
  expected: 'the sim served the 2 500s and load DELETEd the same channels again (retry with backoff) until gone: 0 calls failed, nothing leaked, sla functional checks pass',
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 2, durationMs: 3000, runId: 'hangup-500', sla: true,
      before: (stack) => ctx.inject('the sim answers 500 to the next 2 DELETE /channels', () => ctx.simFault(stack, {fail: {operation: 'hangup', status: 500, count: 2}}), undefined),
      after: async (stack) => (await ctx.simStats(stack)).faults.counters,
    });
    const served = r.after.failsServed['hangup=500'] ?? 0;
    const retried = r.after.retriesAfterFail['hangup=500'] ?? 0;
    return {
      measured: [`sim: ${served} DELETE /channels answered 500, ${retried} of those channels DELETEd again`, reportText(r.run.report), slaFailedText(r.sla)],
      checks: [
        fired('the sim answered 500 to 2 DELETE /channels', served === 2),
        fired('each of those channels was DELETEd again (the retry)', retried === 2),
        loadExit0(r.run), noCallFailed(r.run), noLeak(r.leaked), slaFunctionalPass(r.sla),
      ],
      figures: loadFigures(r, {extra: {served500: served, retried}}),
    };
  },
};

export const hangupNeverWorks: Scenario = {
  name: 'failed-hangup-permanent',
  ci: false,
  done: '1 call of 3 s; the sim answers 500 to every DELETE /channels',
  expected: 'load retries for 10 s, then records the call FAILED and the channel leaked; sla exit 1 (callsFailed, leakedChannels)',
  timeoutMs: 120_000,
  async run(ctx) {
    const r = await loadScenario(ctx, {count: 1, durationMs: 3000, runId: 'hangup-never', loadTimeoutMs: 90_000, leaks: false, sla: true,
      before: (stack) => ctx.inject('the sim answers 500 to every DELETE /channels', () => ctx.simFault(stack, {fail: {operation: 'hangup', status: 500}}), undefined),
    });
    await ctx.simFault(r.stack, {clear: true});
    const error = r.run.report?.calls[0]?.error ?? null;
    const leakedChannels = r.run.report?.summary.leaked.channels ?? null;
    return {
      measured: [`call error: ${error ?? 'none'}`, slaFailedText(r.sla)],
      checks: [
        {fired: true, what: 'the call FAILED: hangup failed after retries', ok: /hangup failed \(\d+ attempts/.test(error ?? '')},
        {fired: true, what: 'the channel is recorded as leaked', ok: leakedChannels !== null && leakedChannels >= 1},
        {...slaFailsOn(r.sla, 'callsFailed', 'leakedChannels'), fired: true},
      ],
      figures: {...loadFigures(r), leaked: r.run.report?.summary.leaked},
    };
  },
};
