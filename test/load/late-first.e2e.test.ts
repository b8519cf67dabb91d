/**
 * A late first packet must not hide lateness: the sim holds the first frames of every tone stream
 * 150 ms (its lateFirstPackets switch, as a loaded Asterisk delivered them), then sends them at
 * once. Judged from each stream's earliest phase, the catch-up burst is late and every call's
 * anchorShiftMs is the hold.
 */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/cli.js';
import {ARI_PASS, ARI_USER, startStack, type Stack} from '../helpers/stack.js';
import type {Report} from '../../src/protocol/report.js';

let stack: Stack;
let out: string;
beforeAll(async () => {
  stack = await startStack({simArgs: ['--late-first-packets', '1:150-150']});
  out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-latefirst-'));
});
afterAll(async () => {
  await stack?.stop();
  rmSync(out, {recursive: true, force: true});
});

test('every stream held 150 ms at its start: the burst counts as late (under Asterisk) and anchorShiftMs is 150', async () => {
  const r = await runCli(['load', '--caller', 'endpoint', '--serve-url', stack.serveUrl, '--out', out, '--count', '3', '--duration-ms', '3000', '--run-id', 'late-first'], {
    env: {ARI_URL: stack.simUrl, ARI_USER, ARI_PASS},
    timeoutMs: 60_000,
  });
  expect(r.code).toBe(0);
  const report = JSON.parse(readFileSync(path.join(out, 'late-first.json'), 'utf8')) as Report;
  const stats = await fetch(`${stack.simUrl}/_sim/stats`, {headers: {authorization: `Basic ${Buffer.from(`${ARI_USER}:${ARI_PASS}`).toString('base64')}`}});
  const faults = ((await stats.json()) as {faults: {lateFirstPackets: {streamsHeld: number; maxHoldMs: number}}}).faults.lateFirstPackets;
  expect(faults.streamsHeld).toBeGreaterThanOrEqual(3);
  expect(faults.maxHoldMs).toBe(150);
  for (const c of report.calls) {
    // the first packet came 150 ms behind the stream's best phase (give or take the machine's own jitter)
    expect(c.anchorShiftMs).toBeGreaterThanOrEqual(145);
    expect(c.anchorShiftMs).toBeLessThanOrEqual(155);
    // frames 0..6 of the burst were 150, 130, …, 30 ms behind: at least 6 late, in a row, from Asterisk's side
    expect(c.late).toBeGreaterThanOrEqual(6);
    expect(c.maxConsecutiveLate).toBeGreaterThanOrEqual(6);
    expect(c.lateBy?.asterisk).toBeGreaterThanOrEqual(6);
    expect(c.latenessMs?.max).toBeGreaterThanOrEqual(140);
  }
}, 90_000);
