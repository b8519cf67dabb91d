import {readFileSync} from 'node:fs';
import {cpus} from 'node:os';
import {ConfigError} from '../../src/errors.js';
import {selectEngine} from '../../src/engine/engine-select.js';
import {lastCpu} from '../../src/engine/cpu-list.js';
import {ensureEngineBuilt} from '../helpers/engine.js';

const KEY = 'RTPSLA_ENGINE_CPUS';

function withCpus<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env[KEY];
  if (value === undefined) delete process.env[KEY];
  else process.env[KEY] = value;
  return fn().finally(() => {
    if (before === undefined) delete process.env[KEY];
    else process.env[KEY] = before;
  });
}

/** Cpus_allowed_list of a process (Linux). */
function allowedCpus(pid: number): string {
  return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
}

describe('selectEngine with RTPSLA_ENGINE_CPUS', () => {
  beforeAll(() => {
    ensureEngineBuilt();
  });

  test('pins the native engine to the list and says so in its ready event; on a shared CPU the relay runs first, then the echo, then the sim', async () => {
    const cpu = lastCpu();
    const [relay, echo, sim] = await withCpus(cpu, () => Promise.all([selectEngine('native', 'relay'), selectEngine('native', 'echo'), selectEngine('native', 'sim')]));
    try {
      for (const sel of [relay, echo, sim]) {
        expect(sel.kind).toBe('native');
        expect(sel.native!.cpus).toBe(cpu);
        expect(allowedCpus(sel.native!.pid)).toBe(cpu);
      }
      // where real-time scheduling is permitted (root, CAP_SYS_NICE or RLIMIT_RTPRIO)
      if (relay.native!.scheduling.startsWith('fifo:')) {
        expect([relay, echo, sim].map((s) => s.native!.scheduling)).toEqual(['fifo:12', 'fifo:11', 'fifo:10']);
      }
    } finally {
      await Promise.all([relay, echo, sim].map((s) => s.native!.close()));
    }
  });

  test('unpinned engines run on every CPU this process may use; the relay then at the sim\'s priority, below the echo', async () => {
    const relay = await withCpus(undefined, () => selectEngine('native', 'relay'));
    const [echo, sim] = await withCpus('', () => Promise.all([selectEngine('native', 'echo'), selectEngine('native', 'sim')]));
    try {
      expect(relay.native!.cpus).toBe('all');
      expect(allowedCpus(relay.native!.pid)).toBe(allowedCpus(process.pid));
      if (relay.native!.scheduling.startsWith('fifo:')) {
        expect([relay, echo, sim].map((s) => s.native!.scheduling)).toEqual(['fifo:10', 'fifo:11', 'fifo:10']);
      } else {
        expect(relay.native!.scheduling).toBe(sim.native!.scheduling);
      }
    } finally {
      await Promise.all([relay, echo, sim].map((s) => s.native!.close()));
    }
  });

  test.each(['auto', 'native', 'node'] as const)('a list this machine cannot honour is a ConfigError with --engine %s, before anything starts', async (choice) => {
    await expect(withCpus(`${cpus().length}`, () => selectEngine(choice, 'sim'))).rejects.toThrow(ConfigError);
    await expect(withCpus('1-0', () => selectEngine(choice, 'sim'))).rejects.toThrow(/RTPSLA_ENGINE_CPUS: "1-0" has a range that runs backwards/);
  });
});

describe('RTPSLA_ENGINE_CPUS on the command line', () => {
  test('echo refuses a CPU the machine does not have: one line naming the setting, exit 2', async () => {
    const {runCli} = await import('../helpers/cli.js');
    const r = await runCli(['echo', '--port', '0'], {env: {RTPSLA_ENGINE_CPUS: '4096'}, timeoutMs: 20_000});
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/RTPSLA_ENGINE_CPUS: "4096" names CPU 4096/);
  });
});
