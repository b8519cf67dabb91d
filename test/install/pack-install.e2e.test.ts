/**
 * The CLI as people install it: the project packed (`npm pack`, whose prepack builds dist/ and
 * the manifest), installed globally into a temporary prefix with install scripts IGNORED (as npm 11
 * does for global installs unless allowed, and CI setups with --ignore-scripts), then run from
 * that prefix. The native engine is built on first use, once; without a compiler the Node engine
 * measures and one line says so. What the HTML page's charts add to that install is measured
 * against its budget (at most 10 MB).
 */
import {execFileSync, spawn} from 'node:child_process';
import {existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
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

/** The chart libraries the HTML page inlines (src/report/page.ts): runtime dependencies. */
const PAGE_LIBRARIES = ['chart.js', 'chartjs-chart-matrix'];
/** What the page's charts may add to a production install (the budget), bytes. */
const PAGE_BUDGET_BYTES = 10_000_000;

/** The installed package directory `name` resolves to from `dir` (node_modules upwards, not past `root`). */
function installedAt(root: string, dir: string, name: string): string | null {
  for (let d = dir; ; d = path.dirname(d)) {
    const at = path.join(d, 'node_modules', name);
    if (existsSync(path.join(at, 'package.json'))) return at;
    if (d === root || d === path.dirname(d)) return null;
  }
}

/** The installed packages `names` need from `root`'s node_modules: themselves and, transitively, what they depend on. */
function closure(root: string, names: readonly string[]): Set<string> {
  const found = new Set<string>();
  const todo: Array<[string, string]> = names.map((n) => [root, n]);
  while (todo.length > 0) {
    const [from, name] = todo.pop()!;
    const at = installedAt(root, from, name);
    if (at === null || found.has(at)) continue;
    found.add(at);
    const pkg = JSON.parse(readFileSync(path.join(at, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) for (const dep of Object.keys(pkg[field] ?? {})) todo.push([at, dep]);
  }
  return found;
}

/** Disk use (bytes, as du counts it) of a package directory, without the packages nested in its own node_modules. */
function diskUse(dir: string): number {
  let bytes = lstatSync(dir).blocks * 512;
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    if (e.isDirectory() && e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    bytes += e.isDirectory() ? diskUse(p) : lstatSync(p).blocks * 512;
  }
  return bytes;
}

const sum = (dirs: Iterable<string>) => [...dirs].reduce((n, d) => n + diskUse(d), 0);

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

  test('the HTML page\'s charts add at most 10 MB to the install: chart.js, chartjs-chart-matrix and what they need, and no other charting stack', () => {
    const root = path.join(prefix, 'lib', 'node_modules', 'rtpsla');
    const deps = Object.keys((JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {dependencies: Record<string, string>}).dependencies);
    expect(deps).toEqual(expect.arrayContaining(PAGE_LIBRARIES));
    // the production install, and the same without the page's libraries (what the rest needs anyway stays)
    const all = closure(root, deps);
    const without = closure(root, deps.filter((d) => !PAGE_LIBRARIES.includes(d)));
    const added = [...all].filter((d) => !without.has(d));
    expect(added.map((d) => path.relative(path.join(root, 'node_modules'), d)).sort()).toEqual(['@kurkle/color', 'chart.js', 'chartjs-chart-matrix']);
    expect(sum(all) - sum(without)).toBeLessThanOrEqual(PAGE_BUDGET_BYTES);
    expect(sum(added)).toBe(sum(all) - sum(without));
    // and no vega or d3 package is installed
    const installed = readdirSync(path.join(root, 'node_modules')).flatMap((n) => (n.startsWith('@') ? readdirSync(path.join(root, 'node_modules', n)).map((m) => `${n}/${m}`) : [n])).filter((n) => n !== '.bin' && !n.startsWith('.'));
    expect(installed.filter((n) => /^(vega|d3-)/.test(n))).toEqual([]);
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
