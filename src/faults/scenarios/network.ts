/** Fault scenarios: port exhaustion, garbage datagrams on the relay ports, an HTTP flood on serve. */
import {createSocket} from 'node:dgram';
import http from 'node:http';
import {RUN_TOKEN_HEADER} from '../../protocol/app-args.js';
import {liveCalls, serveMetric} from '../harness.js';
import {type Scenario, noLeak, reportText, loadScenario, slaFailedText, slaFunctionalPass, slaFailsOn, noCallFailed, nothingLost, loadFigures} from './kit.js';

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

export const garbage: Scenario = {
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
        {what: 'not starved: max lateness < 100 ms', ok: !!s && s.latenessMs !== null && s.latenessMs.max < 100},
        {what: 'consume without the token refused', ok: wrong === 403 && (totals['403'] ?? 0) + (totals['503'] ?? 0) > 0},
        noLeak(r.leaked),
      ],
      figures: loadFigures(r, {extra: {answers: totals}}),
    };
  },
};
