/**
 * serve --media-server stream|sink end to end with real processes: sim → serve → echo --mode X,
 * driven by load; the report's calls carry the figures of their kind (nulls with their reasons
 * where there is no sample). And a serve that takes its media server for an echo while it streams
 * gives each call an error naming the mismatch.
 */
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {validateReport, type CallRecord, type Report} from '../../src/protocol/report.js';
import {runCli} from '../helpers/cli.js';
import {ARI_PASS, ARI_USER, getJson, simFault, startStack, type Stack} from '../helpers/stack.js';

interface SlaRowJson {
  invariant: string;
  pass: boolean;
  applies?: boolean;
  measuredText: string;
}

/** `rtpsla sla --json` of one report: its rows by invariant. */
async function slaRows(file: string): Promise<{code: number | null; rows: Map<string, SlaRowJson>}> {
  const r = await runCli(['sla', '--json', file]);
  const json = JSON.parse(r.stdout) as {reports: Array<{rows: SlaRowJson[]}>};
  return {code: r.code, rows: new Map(json.reports[0].rows.map((x) => [x.invariant, x]))};
}

/** Freeze a process and its children (the stand-in's native engine) for `ms`: a real stall. */
async function stall(pid: number, ms: number): Promise<void> {
  const kids = execFileSync('pgrep', ['-P', String(pid)], {encoding: 'utf8'}).trim().split('\n').filter(Boolean).map(Number);
  for (const p of [pid, ...kids]) process.kill(p, 'SIGSTOP');
  await new Promise((r) => setTimeout(r, ms));
  for (const p of [pid, ...kids]) process.kill(p, 'SIGCONT');
}

/** A load run in the background; a fault once its calls are up; the report. */
async function loadRunWith(stack: Stack, out: string, runId: string, fault: () => Promise<void>): Promise<Report> {
  const run = loadRun(stack, out, runId);
  await new Promise((r) => setTimeout(r, 1500));
  await fault();
  return run;
}

/** 3 calls × 3 s through the stack; the report. */
async function loadRun(stack: Stack, out: string, runId: string): Promise<Report> {
  const r = await runCli(['load', '--serve-url', stack.serveUrl, '--out', out, '--count', '3', '--duration-ms', '3000', '--delay-between-ms', '100', '--run-id', runId, '--json'], {
    env: {ARI_URL: stack.simUrl, ARI_USER, ARI_PASS},
    timeoutMs: 60_000,
  });
  const json: unknown = JSON.parse(readFileSync(path.join(out, `${runId}.json`), 'utf8'));
  const v = validateReport(json);
  if (!v.ok) throw new Error(`invalid report (load exit ${r.code}): ${v.reason}`);
  return v.report;
}

describe.each(['stream', 'sink'] as const)('serve --media-server %s with echo --mode %s (real processes)', (kind) => {
  let stack: Stack;
  let out: string;
  beforeAll(async () => {
    // a stand-in bot stops 0.5 s after its source (the call's relay) went quiet
    stack = await startStack({echoArgs: ['--mode', kind, '--idle-expiry-ms', '500'], serveArgs: ['--media-server', kind]});
    out = mkdtempSync(path.join(os.tmpdir(), `rtpsla-ms-${kind}-`));
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(out, {recursive: true, force: true});
  });

  test('/health says what the media server is', async () => {
    const h = await getJson<{mediaServer?: string}>(`${stack.serveUrl}/health`);
    expect(h.status).toBe(200);
    expect(h.body.mediaServer).toBe(kind);
  });

  test('a load run reaches a report whose calls have the figures of their kind', async () => {
    const report = await loadRun(stack, out, `ms-${kind}`);
    expect(report.calls).toHaveLength(3);
    for (const c of report.calls as Array<CallRecord & Record<string, unknown>>) {
      expect(c.error).toBeNull();
      expect(c.mediaServer).toBe(kind);
      expect(c.packetsUp).toBeGreaterThan(100);
      expect(c.rttMs).toBeNull();
      expect(c.latenessMs).not.toBeNull();
      expect(c.upLatenessMs).not.toBeNull();
      if (kind === 'stream') {
        // the bot's own stream, ≈ 150 frames in 3 s, judged on its own; no frame is an echo
        expect(c.packetsBack).toBeGreaterThan(100);
        expect(c.unmatchedBack).toBe(0);
        expect(c.nullReasons).toEqual({rttMs: 'media server: stream (no echo)'});
        expect(c.jitterMs).not.toBeNull();
        expect(c.lateBy).toMatchObject({asterisk: 0, relay: 0});
        expect(c.lateBy?.mediaServer).toBe(c.late);
      } else {
        // nothing back, nothing counted lost for it: the up stream as delivered is judged
        expect(c.packetsBack).toBe(0);
        expect(c.lost).toBe(c.uplinkGaps);
        expect(c.jitterMs).toBeNull();
        expect(c.nullReasons).toEqual({rttMs: 'media server: sink (sends nothing back)', jitterMs: 'media server: sink (sends nothing back)'});
        expect(c.lateBy?.mediaServer).toBe(0);
      }
    }
    expect(report.summary.rttMs).toBeNull();
    expect(report.summary.nullReasons?.rttMs).toBe(kind === 'stream' ? 'media server: stream (no echo)' : 'media server: sink (sends nothing back)');
    expect(report.summary.latenessMs).not.toBeNull();
    expect(report.summary.callsFailed).toBe(0);
    expect(report.params.mediaServer).toBe(kind);
    // sla: every functional row passes; with a sink the caller's rows do not apply, and say why
    const {rows} = await slaRows(path.join(out, `ms-${kind}.json`));
    for (const id of ['callsFailed', 'silentCalls', 'lossRatio', 'consistent']) expect({id, pass: rows.get(id)?.pass, text: rows.get(id)?.measuredText}).toMatchObject({id, pass: true});
    for (const id of ['maxLatenessMs@caller', 'lateRatio@caller', 'lossRatio@caller', 'maxConsecutiveLate@caller']) {
      if (kind === 'sink') expect(rows.get(id)).toMatchObject({applies: false, pass: true, measuredText: 'does not apply (media server: sink, the caller hears nothing back)'});
      else expect(rows.get(id)?.applies).not.toBe(false);
    }
  });

  test(kind === 'stream' ? 'a 100 ms stall of the bot fails the back stream\'s lateness, from the media server' : 'the up stream 50 ms late (the sim delays it) fails its lateness, from Asterisk', async () => {
    const runId = `ms-${kind}-fault`;
    const report = await loadRunWith(stack, out, runId, () =>
      kind === 'stream' ? stall(stack.echo.child.pid!, 100) : simFault(stack.simUrl, {forwardDelay: {direction: 'toRelay', extraMs: 50, durationMs: 1000}}),
    );
    const {code, rows} = await slaRows(path.join(out, `${runId}.json`));
    expect(code).toBe(1);
    expect(rows.get('maxLatenessMs')?.pass).toBe(false);
    expect(report.summary.latenessMs!.max).toBeGreaterThan(40);
    if (kind === 'stream') expect(report.summary.lateBy!.mediaServer).toBe(report.summary.late);
    else expect(report.summary.lateBy!.asterisk).toBe(report.summary.late);
    expect(report.summary.late).toBeGreaterThan(0);
  });
});

describe('serve --media-server echo in front of a media server that streams (real processes)', () => {
  let stack: Stack;
  let out: string;
  beforeAll(async () => {
    stack = await startStack({echoArgs: ['--mode', 'stream', '--idle-expiry-ms', '500']});
    out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-ms-mismatch-'));
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(out, {recursive: true, force: true});
  });

  test('each call fails with the mismatch named, not 100 % loss without a word', async () => {
    const report = await loadRun(stack, out, 'ms-mismatch');
    expect(report.calls).toHaveLength(3);
    for (const c of report.calls) {
      expect(c.packetsBack).toBe(0);
      expect(c.error).toMatch(/^the media server sent \d+ packets that are not echoes of the caller's: is it a stream\? run serve --media-server stream$/);
      expect(c.latenessMs).toBeNull();
      expect(c.nullReasons?.latenessMs).toBe(c.error);
    }
    expect(report.summary.callsFailed).toBe(3);
  });
});
