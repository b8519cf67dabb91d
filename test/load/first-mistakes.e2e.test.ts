/**
 * A new user's first mistakes name their cause: `load --app otherapp` while serve runs `rtpsla`
 * is refused before any originate, with one line and exit 2.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/cli.js';
import {ARI_PASS, ARI_USER, startStack, type Stack} from '../helpers/stack.js';

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
