/** The built binary: `rtpsla sim --port 0` starts, prints its URL, answers, exits 0 on SIGTERM. */
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from '@jest/globals';
import {CliProcess, runCli} from '../helpers/cli.js';

describe('rtpsla sim (CLI)', () => {
  let proc: CliProcess | undefined;
  const dirs: string[] = [];

  afterEach(async () => {
    await proc?.stop('SIGKILL', 1000);
    proc = undefined;
    for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true});
  });

  it('prints its URL, answers /ari/asterisk/info with basic auth, exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rtpsla-sim-'));
    dirs.push(dir);
    const ready = path.join(dir, 'ready.json');
    proc = new CliProcess(['sim', '--port', '0', '--seed', '1', '--ready-file', ready], {ARI_USER: '', ARI_PASS: ''});
    const m = await proc.waitFor(/sim listening on (http:\/\/127\.0\.0\.1:(\d+))/);
    const url = m[1];
    expect(proc.stdout.trim()).toBe(`sim listening on ${url}`);
    expect(JSON.parse(readFileSync(ready, 'utf8'))).toMatchObject({url, port: Number(m[2])});
    const auth = {authorization: 'Basic ' + Buffer.from('rtpsla:rtpsla').toString('base64')};
    const res = await fetch(`${url}/ari/asterisk/info`, {headers: auth});
    expect(res.status).toBe(200);
    const info = (await res.json()) as {system: {version: string; entity_id: string}};
    expect(info.system.version).toBe('22.10.1-rtpsla-sim');
    expect((await fetch(`${url}/ari/asterisk/info`)).status).toBe(401);
    const {code, signal} = await proc.stop('SIGTERM');
    expect({code, signal}).toEqual({code: 0, signal: null});
    expect(proc.stderr).not.toContain('rtpsla:rtpsla');
  });

  it('takes credentials from ARI_USER/ARI_PASS and never prints the password', async () => {
    proc = new CliProcess(['sim', '--port', '0'], {ARI_USER: 'alice', ARI_PASS: 's3cret-pw'});
    const m = await proc.waitFor(/sim listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const ok = await fetch(`${m[1]}/ari/asterisk/info?api_key=alice:s3cret-pw`);
    expect(ok.status).toBe(200);
    const bad = await fetch(`${m[1]}/ari/asterisk/info?api_key=rtpsla:rtpsla`);
    expect(bad.status).toBe(401);
    const {code} = await proc.stop('SIGINT');
    expect(code).toBe(0);
    expect(proc.stdout + proc.stderr).not.toContain('s3cret-pw');
  });

  it('rejects bad configuration with one line and exit 2', async () => {
    const r = await runCli(['sim', '--rtp-range', '20000-10000'], {timeoutMs: 20_000});
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--rtp-range');
    const f = await runCli(['sim', '--port', '0', '--fail', 'nosuchop=500'], {timeoutMs: 20_000});
    expect(f.code).toBe(2);
    expect(f.stderr).toContain('--fail');
  });

  it('arms the media faults from flags (shown by GET /_sim/faults) and refuses bad ones', async () => {
    proc = new CliProcess(['sim', '--port', '0', '--late-first-packets', '0.59:151', '--forward-delay', 'toCaller:30:60000:0+run1-3'], {ARI_USER: '', ARI_PASS: ''});
    const m = await proc.waitFor(/sim listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const res = await fetch(`${m[1]}/_sim/faults`, {headers: {authorization: 'Basic ' + Buffer.from('rtpsla:rtpsla').toString('base64')}});
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.lateFirstPackets).toMatchObject({armed: true, rule: {share: 0.59, maxMs: 151}, streamsHeld: 0});
    expect(body.forwardDelay).toMatchObject({armed: true, rule: {calls: [0, 'run1-3'], direction: 'toCaller', extraMs: 30, durationMs: 60000}, packetsDelayed: 0});
    for (const [flag, value] of [['--late-first-packets', '2:100'], ['--forward-delay', 'up:1:1']]) {
      const r = await runCli(['sim', '--port', '0', flag, value], {timeoutMs: 20_000});
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(flag);
    }
  });
});
