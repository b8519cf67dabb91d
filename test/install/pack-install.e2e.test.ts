/**
 * The CLI as people install it: the project packed (`npm pack`, whose prepack builds dist/ and
 * the manifest), installed globally into a temporary prefix with install scripts IGNORED (as npm 11
 * does for global installs unless allowed, and CI setups with --ignore-scripts), then run from
 * that prefix. The native engine is built on first use, once; without a compiler the Node engine
 * measures and one line says so.
 */
import {execFileSync, spawn} from 'node:child_process';
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {ROOT} from '../helpers/cli.js';
import {TIMING_INVARIANTS} from '../helpers/stack.js';

const BUILD_LINE = /building the native media engine … done/g;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {cwd, env: {...process.env, NO_COLOR: '1', ...env}, stdio: ['ignore', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({code, stdout, stderr});
    });
  });
}

/** The demo's verdict: PASS, or FAIL on timing invariants alone (a busy 2-core machine); anything else fails the test. */
function expectPass(r: Run): void {
  const verdict = r.stdout.match(/^SLA (PASS|FAIL)\b(?:.*\(([^)]*)\))?/m);
  if (!verdict) throw new Error(`no verdict line in:\n${r.stdout}\n${r.stderr}`);
  if (verdict[1] === 'FAIL') expect(verdict[2].replace(/^[^:]*:\s*/, '').split(/,\s*/).filter((i) => !TIMING_INVARIANTS.includes(i))).toEqual([]);
}

function reportEngine(dir: string): string | undefined {
  const files = readdirSync(path.join(dir, 'reports')).filter((f) => f.endsWith('.json'));
  const latest = files.sort().at(-1)!;
  return (JSON.parse(readFileSync(path.join(dir, 'reports', latest), 'utf8')) as {tool: {engine?: string}}).tool.engine;
}

describe('pack, install globally with scripts ignored, run from the prefix', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-install-'));
  const prefix = path.join(dir, 'prefix');
  const rtpsla = path.join(prefix, 'bin', 'rtpsla');
  // a fresh user cache: nothing built before
  const env = {XDG_CACHE_HOME: path.join(dir, 'cache')};
  afterAll(() => rmSync(dir, {recursive: true, force: true}));

  beforeAll(() => {
    execFileSync('npm', ['pack', '--pack-destination', dir], {cwd: ROOT, stdio: 'pipe'});
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    // dependencies from the npm cache the clone's install filled (the registry only for what it lacks)
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, tarball)], {stdio: 'pipe'});
  }, 180_000);

  test('--version and sla --help work from the installed package', async () => {
    const v = await run(rtpsla, ['--version'], env, dir);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^rtpsla\/\d+\.\d+\.\d+/);
    const h = await run(rtpsla, ['sla', '--help'], env, dir);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('USAGE');
    expect(h.stdout).toContain('$ rtpsla sla');
  });

  test('the first demo builds the engine (one line) and measures with it; the second does not build again', async () => {
    const first = await run(rtpsla, ['demo', '--count', '3', '--duration-ms', '3000'], env, dir);
    expectPass(first);
    expect(first.stderr.match(BUILD_LINE)).toHaveLength(1);
    expect(reportEngine(dir)).toBe('native');
    const second = await run(rtpsla, ['demo', '--count', '3', '--duration-ms', '3000'], env, dir);
    expectPass(second);
    expect(second.stderr).not.toMatch(BUILD_LINE);
    expect(reportEngine(dir)).toBe('native');
  }, 180_000);

  test('with no usable compiler the Node engine measures, and one line says so and what it costs', async () => {
    const r = await run(rtpsla, ['demo', '--count', '3', '--duration-ms', '3000'], {...env, CC: path.join(dir, 'no-such-cc')}, dir);
    expectPass(r);
    const lines = r.stderr.split('\n').filter((l) => l.includes('native media engine is not available'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/no C compiler .* the pure-Node engine measures instead/);
    expect(reportEngine(dir)).toBe('node');
  }, 120_000);
});
