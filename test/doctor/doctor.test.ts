/** `rtpsla doctor` asks the real engine what it is granted; the switches below take a grant away. */
import {runCli} from '../helpers/cli.js';

interface Doctor {
  enginePath: string;
  scheduling: Record<string, string>;
  timestamps: string;
  checks: Array<{name: string; ok: boolean; detail: string; fix: string | null}>;
}

test('--json and the text say the same; the exit code is 0 exactly when every check passes', async () => {
  const j = await runCli(['doctor', '--json']);
  const d = JSON.parse(j.stdout) as Doctor;
  expect(d.enginePath).toMatch(/rtpsla-engine$/);
  expect(Object.keys(d.scheduling).sort()).toEqual(['echo', 'relay', 'sim']);
  expect(j.code).toBe(d.checks.every((c) => c.ok) ? 0 : 1);
  const t = await runCli(['doctor']);
  for (const c of d.checks) expect(t.stdout).toContain(`${c.ok ? 'PASS' : 'FAIL'} ${c.name}`);
  expect(t.code).toBe(j.code);
});

test('without real-time scheduling the scheduling line fails and names the setcap command for the engine it uses', async () => {
  const r = await runCli(['doctor'], {env: {RTPSLA_ENGINE_SCHED: 'normal'}});
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/FAIL scheduling +relay normal, echo normal, sim normal/);
  expect(r.stdout).toMatch(/fix: sudo setcap cap_sys_nice=ep \/\S+\/rtpsla-engine/);
});

test('with kernel timestamps turned off (the engine\'s test switch) the timestamps line fails', async () => {
  const r = await runCli(['doctor', '--json'], {env: {RTPSLA_ENGINE_TIMESTAMPS: 'user'}});
  const d = JSON.parse(r.stdout) as Doctor;
  expect(d.timestamps).toBe('user');
  expect(d.checks.find((c) => c.name === 'timestamps')?.ok).toBe(false);
  expect(r.code).toBe(1);
});
