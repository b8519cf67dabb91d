/**
 * Every figure says how it was taken: the demo's report records each engine role's scheduling and
 * timestamps (`tool.engines`), and `sla` prints one note when they are not real-time / kernel.
 * The engine's switches stand in for an unprivileged user and a kernel without SO_TIMESTAMPNS.
 */
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/cli.js';
import type {Report} from '../../src/protocol/report.js';

test('without real-time scheduling or kernel timestamps the report says so per role and sla notes it once', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-engines-'));
  try {
    const r = await runCli(['demo', '--count', '2', '--duration-ms', '1500', '--out', out, '--sim-rtp-range', '26000-26999', '--relay-port-range', '36000-36999'], {
      env: {RTPSLA_ENGINE_SCHED: 'normal', RTPSLA_ENGINE_TIMESTAMPS: 'user'},
      timeoutMs: 120_000,
    });
    const report = JSON.parse(readFileSync(path.join(out, readdirSync(out).find((f) => f.endsWith('.json'))!), 'utf8')) as Report;
    const engines = report.tool.engines!;
    for (const role of ['relay', 'echo', 'caller', 'sim'] as const) {
      expect(engines[role]).toMatchObject({engine: 'native', scheduling: 'normal', timestamps: 'user'});
    }
    const notes = r.stdout.split('\n').filter((l) => l.startsWith('note') && l.includes('without real-time scheduling'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('took receive times in user space');
    expect(notes[0]).toContain('setcap cap_sys_nice=ep');
  } finally {
    rmSync(out, {recursive: true, force: true});
  }
}, 130_000);
