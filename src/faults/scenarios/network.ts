/** Fault scenarios: port exhaustion, garbage datagrams on the relay ports, an HTTP flood on serve. */
import {createSocket} from 'node:dgram';
import http from 'node:http';
import {RUN_TOKEN_HEADER} from '../../protocol/app-args.js';
import {type FaultContext, type Stack, liveCalls, serveMetric, sleep} from '../harness.js';
import {Reflector} from '../reflector.js';
import {sprayInWorker} from '../spray.js';
import {type LoadScenarioRun, type Outcome, type Scenario, fired, noLeak, reportText, loadScenario, slaFailedText, slaFunctionalPass, slaFailsOn, noCallFailed, nothingLost, loadFigures} from './kit.js';

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

export const portExhaustion: Scenario = {
  name: 'port-range-exhausted',
  ci: true,
  done: 'relay range of 3 ports, one held by another process; 3 calls of 4 s',
  expected: 'the surplus call is rejected naming EADDRINUSE and the ports tried; the other 2 measured; sla exit 1 (callsFailed); nothing leaked',
  timeoutMs: 90_000,
  async run(ctx) {
    const low = await freeUdpPorts(49_100, 3);
    const blocker = createSocket('udp4');
    await ctx.inject(`another process holds relay port ${low}`, () => new Promise<void>((r) => blocker.bind(low, '127.0.0.1', () => r())), undefined);
    try {
      const r = await loadScenario(ctx, {count: 3, durationMs: 4000, runId: 'ports', serve: {serveArgs: ['--port-range', `${low}-${low + 2}`]}, sla: true});
      const failed = (r.run.report?.calls ?? []).filter((c) => c.error !== null);
      const measuredCalls = (r.run.report?.calls ?? []).filter((c) => c.error === null && c.packetsBack > 0).length;
      return {
        measured: [`error: ${failed.map((c) => c.error).join(' | ') || 'none'}`, `${measuredCalls} calls measured`, slaFailedText(r.sla)],
        checks: [
          fired('exactly 1 call rejected naming EADDRINUSE', failed.length === 1 && /no free relay port .*1 tried.*EADDRINUSE/.test(failed[0].error ?? '')),
          fired('2 calls measured', measuredCalls === 2),
          {...slaFailsOn(r.sla, 'callsFailed'), fired: true},
          noLeak(r.leaked),
        ],
        figures: loadFigures(r),
      };
    } finally {
      try {
        blocker.close();
      } catch {
        // never bound (dry)
      }
    }
  },
};

/** Per call and side, the malformed datagrams sent from the call's own Asterisk and echo addresses. */
const MALFORMED_PER_CALL = 20;

interface GarbageSent {
  ports: number[];
  foreignBefore: number;
  foreign: number;
  fromEcho: number;
}

/** Malformed datagrams from the echo's address (the reflector) and the sim's ports, then junk from a foreign address. */
async function sendGarbage(ctx: FaultContext, stack: Stack, echo: Reflector): Promise<GarbageSent> {
  const ports = (await liveCalls(stack.serveUrl)).map((c) => c.port).filter((p): p is number => p !== null);
  const foreignBefore = (await serveMetric(stack.serveUrl, 'foreign')) ?? 0;
  await ctx.simFault(stack, {malformedMedia: {count: MALFORMED_PER_CALL}});
  const fromEcho = await echo.sendMalformed(ports, MALFORMED_PER_CALL);
  await sleep(300);
  return {ports, foreignBefore, foreign: await sprayInWorker(ports, 100_000), fromEcho};
}

export const garbage: Scenario = {
  name: 'garbage-datagrams',
  ci: false,
  done: `3 calls of 7 s; ${MALFORMED_PER_CALL} malformed datagrams a call from its own Asterisk port (the sim's) and from the echo's address, then 100 000 junk datagrams from a foreign address to the live relay ports`,
  expected: 'serve counts the malformed ones (per call) and the foreign ones, forwards none (neither the echo nor the sim receives a malformed one): calls clean (0 lost, 0 failed), nothing leaked',
  timeoutMs: 90_000,
  async run(ctx) {
    const echo = await Reflector.start();
    try {
      const r = await loadScenario(ctx, {count: 3, durationMs: 7000, runId: 'garbage', sla: true, serve: {simArgs: ['--engine', 'node'], echoPort: echo.port},
        during: (stack) => ctx.inject('malformed datagrams from the calls\' Asterisk and echo addresses; junk from a foreign one', () => sendGarbage(ctx, stack, echo), null),
        after: async (stack) => {
          const sim = await ctx.simStats(stack);
          return {
            foreign: (await serveMetric(stack.serveUrl, 'foreign')) ?? 0,
            malformed: (await serveMetric(stack.serveUrl, 'malformed')) ?? 0,
            fromSim: sim.faults.counters.malformedSent,
            simGotMalformed: sim.channels.reduce((n, c) => n + c.malformedPackets, 0),
          };
        },
      });
      return garbageOutcome(r, echo);
    } finally {
      echo.close();
    }
  },
};

function garbageOutcome(r: LoadScenarioRun<GarbageSent | null, {foreign: number; malformed: number; fromSim: number; simGotMalformed: number}>, echo: Reflector): Outcome {
  const sent = r.during;
  const {fromSim, malformed, simGotMalformed} = r.after;
  const fromEcho = sent?.fromEcho ?? 0;
  const foreign = r.after.foreign - (sent?.foreignBefore ?? 0);
  const calls = sent?.ports.length ?? 0;
  return {
    measured: [
      `malformed sent from Asterisk's ports ${fromSim}, from the echo's ${fromEcho}: serve counted ${malformed} malformed; the echo got ${echo.malformedIn}, the sim ${simGotMalformed}`,
      `foreign sent ${sent?.foreign ?? 0} to ${calls} relays, serve counted ${foreign}`,
      reportText(r.run.report), slaFailedText(r.sla),
    ],
    checks: [
      fired(`the sim sent ${MALFORMED_PER_CALL} malformed a call from its own ports`, calls === 3 && fromSim === calls * MALFORMED_PER_CALL),
      fired(`the echo's address sent ${MALFORMED_PER_CALL} malformed a call`, calls === 3 && fromEcho === calls * MALFORMED_PER_CALL),
      fired('serve counted every malformed one (per-call malformed)', fromSim + fromEcho > 0 && malformed === fromSim + fromEcho),
      fired('junk counted as foreign', foreign > 0),
      {what: 'none forwarded: the echo received no malformed datagram', ok: echo.malformedIn === 0},
      {what: 'none forwarded: the sim received no malformed datagram', ok: simGotMalformed === 0},
      noCallFailed(r.run), nothingLost(r.run), slaFunctionalPass(r.sla), noLeak(r.leaked),
    ],
    figures: loadFigures(r, {extra: {foreignSent: sent?.foreign ?? 0, foreign, malformedSent: fromSim + fromEcho, malformed}}),
  };
}

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

/** 3 waves of 2000 GETs, then one consume with a wrong token (for the record). */
async function floodWaves(serveUrl: string, runId: string): Promise<{totals: Record<string, number>; wrong: number}> {
  const totals: Record<string, number> = {};
  for (let wave = 0; wave < 3; wave++) {
    const c = await flood(serveUrl, ['/metrics', `/runs/${runId}`, `/runs/${runId}?consume=1`, '/calls'], 2000);
    for (const [k, v] of Object.entries(c)) totals[k] = (totals[k] ?? 0) + v;
  }
  const wrong = await fetch(`${serveUrl}/runs/${runId}?consume=1`, {headers: {[RUN_TOKEN_HEADER]: '0'.repeat(32)}}).then((res) => res.status, () => 0);
  return {totals, wrong};
}

export const httpFlood: Scenario = {
  name: 'http-flood',
  ci: false,
  done: '4 calls of 7 s; 3 waves of 2000 concurrent GETs (/metrics, /runs/<id>, /runs/<id>?consume=1 without token, /calls) during the hold',
  expected: 'media not starved (late ≤ 1 %, max lateness < 100 ms), 0 lost, load keeps its records (0 failed), consume refused (403) or shed (503)',
  timeoutMs: 120_000,
  async run(ctx) {
    const runId = 'flood';
    const r = await loadScenario(ctx, {count: 4, durationMs: 7000,
      runId,
      during: (stack) => ctx.inject('3 waves of 2000 concurrent GETs', () => floodWaves(stack.serveUrl, runId), {totals: {}, wrong: 0}),
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
        {what: 'not starved: max lateness < 100 ms', ok: !!s && s.latenessMs !== null && s.latenessMs.max < 100},
        fired('consume without the token refused', wrong === 403 && (totals['403'] ?? 0) + (totals['503'] ?? 0) > 0),
        noLeak(r.leaked),
      ],
      figures: loadFigures(r, {extra: {answers: totals}}),
    };
  },
};
