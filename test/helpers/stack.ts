import {AriRest} from '../../src/ari/rest.js';
import type {LiveCall} from '../../src/protocol/serve-api.js';
import type {RunRecords} from '../../src/protocol/serve-api.js';
import {CliProcess} from './cli.js';

export const ARI_USER = 'rtpsla';
export const ARI_PASS = 'test-secret-pass';

export interface Stack {
  sim: CliProcess;
  echo: CliProcess;
  serve: CliProcess | null;
  simUrl: string;
  echoPort: number;
  serveUrl: string;
  ari: AriRest;
  stop(): Promise<void>;
}

export async function startSim(extra: string[] = []): Promise<{sim: CliProcess; simUrl: string}> {
  // quiet logs: every line is piped into the test process, which shares the two cores with the stack
  const sim = new CliProcess(['sim', '--port', '0', '--rtp-range', '20000-29999', '--log-level', 'warn', ...extra], {ARI_USER, ARI_PASS});
  const m = await sim.waitFor(/listening on (http:\/\/[\d.]+:\d+)/, 20_000);
  return {sim, simUrl: m[1]};
}

export async function startEchoProc(extra: string[] = []): Promise<{echo: CliProcess; echoPort: number}> {
  const echo = new CliProcess(['echo', '--port', '0', '--stats-interval-sec', '0', ...extra]);
  const m = await echo.waitFor(/echo listening on [\d.]+:(\d+)/, 20_000);
  return {echo, echoPort: Number(m[1])};
}

export async function startServeProc(simUrl: string, echoPort: number, extra: string[] = []): Promise<{serve: CliProcess; serveUrl: string}> {
  const serve = new CliProcess(
    ['serve', '--metrics-port', '0', '--echo-port', String(echoPort), '--metrics-interval-sec', '0', '--log-level', 'warn',
      ...(extra.includes('--port-range') ? [] : ['--port-range', '30000-39999']), ...extra],
    {ARI_URL: simUrl, ARI_USER, ARI_PASS},
  );
  const m = await serve.waitFor(/serve listening on (http:\/\/[\d.]+:\d+)/, 20_000);
  return {serve, serveUrl: m[1]};
}

/** sim + echo + serve as real child processes on 127.0.0.1. */
export async function startStack(opts: {simArgs?: string[]; serveArgs?: string[]; echoArgs?: string[]; withServe?: boolean} = {}): Promise<Stack> {
  const [{sim, simUrl}, {echo, echoPort}] = await Promise.all([startSim(opts.simArgs), startEchoProc(opts.echoArgs)]);
  let serve: CliProcess | null = null;
  let serveUrl = '';
  if (opts.withServe !== false) ({serve, serveUrl} = await startServeProc(simUrl, echoPort, opts.serveArgs));
  const ari = new AriRest({url: simUrl, user: ARI_USER, pass: ARI_PASS});
  return {
    sim,
    echo,
    serve,
    simUrl,
    echoPort,
    serveUrl,
    ari,
    async stop(this: Stack) {
      ari.close();
      // this.serve, not the local: a test may start serve later and put it on the stack
      await Promise.all([this.serve?.stop(), echo.stop()]);
      await sim.stop();
    },
  };
}

function authHeader(): string {
  return 'Basic ' + Buffer.from(`${ARI_USER}:${ARI_PASS}`).toString('base64');
}

/** POST /_sim/faults on the sim. */
export async function simFault(simUrl: string, body: unknown): Promise<void> {
  const res = await fetch(`${simUrl}/_sim/faults`, {method: 'POST', headers: {authorization: authHeader(), 'content-type': 'application/json'}, body: JSON.stringify(body)});
  if (!res.ok) throw new Error(`sim faults answered ${res.status}: ${await res.text()}`);
}

export interface SimChannelStats {
  id: string;
  packetsSent: number;
  packetsReceived: number;
}

export async function simStats(simUrl: string): Promise<{channels: SimChannelStats[]}> {
  const res = await fetch(`${simUrl}/_sim/stats`, {headers: {authorization: authHeader()}});
  return (await res.json()) as {channels: SimChannelStats[]};
}

export async function getJson<T = Record<string, unknown>>(url: string): Promise<{status: number; body: T}> {
  const res = await fetch(url, {headers: {accept: 'application/json'}});
  return {status: res.status, body: (await res.json().catch(() => null)) as T};
}

export async function liveCalls(serveUrl: string): Promise<LiveCall[]> {
  return (await getJson<{calls: LiveCall[]}>(`${serveUrl}/calls`)).body.calls;
}

export async function runOf(serveUrl: string, runId: string): Promise<{status: number; body: RunRecords}> {
  return getJson<RunRecords>(`${serveUrl}/runs/${runId}`);
}

/** Poll `fn` until it returns a truthy value or `timeoutMs` passes: the fault suite's helper. */
export {until} from '../../src/faults/harness.js';

/**
 * SLA invariants whose outcome depends on how fast this (shared, 2-core) machine is at that
 * moment, not on whether the pipeline works: end-to-end tests check that `sla` judges them
 * (measured value, verdict and exit code consistent) but do not require them to pass; the
 * benchmark and the README's level runs measure them.
 */
export const TIMING_INVARIANTS: readonly string[] = ['maxLatenessMs', 'maxConsecutiveLate', 'lateRatio', 'maxLatenessMs@caller', 'maxConsecutiveLate@caller', 'lateRatio@caller'];

export interface SlaJson {
  verdict: {pass: boolean; exitCode: number};
  reports: Array<{pass: boolean; failed: string[]; rows: Array<{invariant: string; pass: boolean}>}>;
}

/** Every invariant not about timing passed, and the verdict agrees with the rows. */
export function expectFunctionalSlaPass(sla: SlaJson, code: number | null): void {
  const report = sla.reports[0];
  const failedFunctional = report.failed.filter((i) => !TIMING_INVARIANTS.includes(i));
  expect(failedFunctional).toEqual([]);
  // the relay's timing rows always; the caller's where the report has a caller side
  const judged = report.rows.map((r) => r.invariant);
  const expected = TIMING_INVARIANTS.filter((i) => !i.endsWith('@caller') || judged.some((x) => x.endsWith('@caller')));
  expect(judged).toEqual(expect.arrayContaining(expected));
  expect(report.pass).toBe(report.rows.every((r) => r.pass));
  expect(code).toBe(report.pass ? 0 : 1);
}
