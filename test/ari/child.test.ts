/**
 * ari-client's defects seen from outside, as a command's user sees them: a child process using
 * the BUILT adapter (dist/ari; `npm test` builds first) connects to the sim and exits.
 */
import {spawn} from 'node:child_process';
import path from 'node:path';
import {ROOT} from '../helpers/cli.js';
import {SIM_PASS, SIM_USER, startTestSim, type TestSim} from './sim-harness.js';

const SCRIPT = path.join(ROOT, 'test', 'ari', 'fixtures', 'connect-child.mjs');

function runChild(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], {cwd: ROOT, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // It must exit by itself (nothing left running); kill only as a last resort.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({code, stdout, stderr});
    });
  });
}

describe('ARI adapter in a child process', () => {
  let sim: TestSim;
  beforeAll(async () => {
    sim = await startTestSim();
  });
  afterAll(() => sim?.close());

  it('wrong password: exit 2, exactly one line on stderr, no uncaught exception or stack, no password', async () => {
    const r = await runChild([sim.url, SIM_USER, 'wrong-pass-xyz']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`rtpsla test: ARI at ${sim.url} rejected the credentials for user '${SIM_USER}' (401)\n`);
  });

  it('wrong password straight into ari-client (no checkAri): still one line and exit 2, not its uncaught string', async () => {
    const r = await runChild([sim.url, SIM_USER, 'wrong-pass-xyz', 'raw']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`rtpsla test: ari-client could not load the ARI API from ${sim.url}: api-docs answered 401\n`);
  });

  it('connecting keeps stdout clean: only what the program prints itself; the Swagger warning goes to the debug log', async () => {
    const r = await runChild([sim.url, SIM_USER, SIM_PASS], {LOG_LEVEL: 'debug'});
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"connected":true}\n');
    expect(r.stderr).toMatch(/ debug ari\.client\.output .*deprecated version of Swagger/);
    expect(r.stderr).not.toContain(SIM_PASS);
  });
});
