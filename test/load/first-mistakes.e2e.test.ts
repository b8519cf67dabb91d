/**
 * A new user's first mistakes name their cause: `load --app otherapp` while serve runs `rtpsla`
 * is refused before any originate, with one line and exit 2.
 */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {CliProcess, freeUdpPort, runCli} from '../helpers/cli.js';
import {ARI_PASS, ARI_USER, startServeProc, startStack, type Stack} from '../helpers/stack.js';
import type {Report} from '../../src/protocol/report.js';

let stack: Stack;
let out: string;
beforeAll(async () => {
  stack = await startStack();
  out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-mistakes-'));
});
afterAll(async () => {
  await stack?.stop();
  rmSync(out, {recursive: true, force: true});
});

async function simOriginated(): Promise<{originated: number; externalMediaCreated: number}> {
  const res = await fetch(`${stack.simUrl}/_sim/stats`, {headers: {authorization: `Basic ${Buffer.from(`${ARI_USER}:${ARI_PASS}`).toString('base64')}`}});
  return ((await res.json()) as {totals: {originated: number; externalMediaCreated: number}}).totals;
}

test.each(['rtp', 'endpoint'])('--caller %s --app otherapp while serve runs rtpsla: exit 2 with one line, nothing originated', async (caller) => {
  const before = await simOriginated();
  const r = await runCli(['load', '--caller', caller, '--app', 'otherapp', '--serve-url', stack.serveUrl, '--out', out, '--count', '2', '--duration-ms', '1000'], {
    env: {ARI_URL: stack.simUrl, ARI_USER, ARI_PASS},
  });
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toEqual([`rtpsla load: serve at ${stack.serveUrl} runs app \`rtpsla\`, not \`otherapp\`: run load with --app rtpsla`]);
  const after = await simOriginated();
  expect(after.originated).toBe(before.originated);
  expect(after.externalMediaCreated).toBe(before.externalMediaCreated);
});

describe('the media server is not running (serve --echo-port at a closed port)', () => {
  let closed: {serve: CliProcess; serveUrl: string};
  beforeAll(async () => {
    const port = await freeUdpPort(); // free now: nothing listens there
    // a second serve on the same sim, for an app of its own
    closed = await startServeProc(stack.simUrl, port, ['--port-range', '40000-40999', '--engine', 'native', '--app', 'rtpsla-closed']);
  });
  afterAll(async () => {
    await closed?.serve.stop();
  });

  test('each call fails naming the media server and the kernel\'s unreachable reports; sla says it once', async () => {
    const r = await runCli(['load', '--caller', 'endpoint', '--app', 'rtpsla-closed', '--serve-url', closed.serveUrl, '--out', out, '--count', '2', '--duration-ms', '2000', '--run-id', 'unreachable'], {
      env: {ARI_URL: stack.simUrl, ARI_USER, ARI_PASS},
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, 'unreachable.json'), 'utf8')) as Report;
    for (const c of report.calls) {
      expect(c.error).toMatch(/^no packet came back from the media server 127\.0\.0\.1:\d+; the kernel reported its port unreachable ×\d+: is it running\?$/);
      expect(c.mediaServerUnreachable).toBeGreaterThan(0);
    }
    const sla = await runCli(['sla', path.join(out, 'unreachable.json')]);
    expect(sla.code).toBe(1);
    expect(sla.stdout.split('\n').filter((l) => l.includes('port unreachable') && l.startsWith('note'))).toHaveLength(1);
    expect(sla.stdout).not.toMatch(/no late packets/);
  });
});

test('--endpoint Local/s@nosuchcontext/n: each call fails with the cause Asterisk gave, the table and sla do not blame serve', async () => {
  const started = Date.now();
  const r = await runCli(['load', '--caller', 'endpoint', '--endpoint', 'Local/s@nosuchcontext/n', '--serve-url', stack.serveUrl, '--out', out, '--count', '2', '--duration-ms', '20000', '--run-id', 'nosuchcontext'], {
    env: {ARI_URL: stack.simUrl, ARI_USER, ARI_PASS},
    timeoutMs: 60_000,
  });
  expect(r.code).toBe(0);
  // the holds ended when the calls did, not after --duration-ms
  expect(Date.now() - started).toBeLessThan(15_000);
  const report = JSON.parse(readFileSync(path.join(out, 'nosuchcontext.json'), 'utf8')) as Report;
  const why = /^originated Local\/s@nosuchcontext\/n but it never entered the Stasis app `rtpsla`: Asterisk hung it up after \d+ ms \(cause 1, unallocated number: no such extension or context\?\)$/;
  expect(report.calls.map((c) => c.index)).toEqual([0, 1]);
  for (const c of report.calls) expect(c.error).toMatch(why);
  expect(report.notes).toEqual(report.calls.map((c) => `call ${c.index}: ${c.error}`));
  const blamesServe = /serve at|serve's records|serve recorded no call|peak concurrency|403/;
  expect(r.stdout).not.toMatch(blamesServe);
  expect(r.stdout).toContain(`note: call 0: ${report.calls[0].error}`);
  const sla = await runCli(['sla', path.join(out, 'nosuchcontext.json')]);
  expect(sla.code).toBe(1);
  expect(sla.stdout).not.toMatch(blamesServe);
  expect(sla.stdout).toContain(`call 0: ${report.calls[0].error}`);
});
