#!/usr/bin/env node
// The native media engine's build, shared by `npm install` (postinstall, when install scripts
// run) and the CLI (when an engine is first needed and the install did not build it: scripts
// blocked or ignored, a new compiler, changed sources).
//
// The engine is keyed by the hash of native/'s sources and the C compiler's version ($CC or cc):
// a binary whose key file matches is used as it is. It is built next to the package
// (native/build/) when that is writable, else under $XDG_CACHE_HOME/rtpsla/engine-<key>/ (or
// ~/.cache/…), under a lock (mkdir) with an atomic rename, so engines starting at once build it
// once. Where it cannot be built (no compiler, not Linux) the result says why; a failure is
// remembered for its key, so the processes of one run do not each try again.
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE_DIR = join(PACKAGE_ROOT, 'native');
const BINARY = 'rtpsla-engine';
const LOCK_STALE_MS = 120_000;
const WAIT_MS = 90_000;

/** The engine path next to the package (what `npm install` builds). */
export function packageEnginePath() {
  return join(NATIVE_DIR, 'build', BINARY);
}

function compiler() {
  return process.env.CC && process.env.CC.trim() !== '' ? process.env.CC.trim() : 'cc';
}

/** `cc --version`'s first line, or null when the compiler cannot be run. */
function compilerVersion(cc) {
  const r = spawnSync(cc, ['--version'], {encoding: 'utf8'});
  if (r.error || r.status !== 0) return null;
  return r.stdout.split('\n')[0].trim();
}

/** sha256 of native/'s sources (sorted by name) and the compiler version, 16 hex digits. */
export function engineKey(ccVersion) {
  const h = createHash('sha256');
  const files = readdirSync(NATIVE_DIR).filter((f) => /\.(c|h)$/.test(f) || f === 'Makefile').sort();
  for (const f of files) h.update(f).update('\0').update(readFileSync(join(NATIVE_DIR, f))).update('\0');
  h.update(ccVersion ?? 'no compiler');
  return h.digest('hex').slice(0, 16);
}

function cacheRoot() {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.trim() !== '' ? xdg : join(homedir(), '.cache'), 'rtpsla');
}

function writable(dir) {
  try {
    mkdirSync(dir, {recursive: true});
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function keyMatches(binary, key) {
  try {
    return existsSync(binary) && readFileSync(`${binary}.key`, 'utf8').trim() === key;
  } catch {
    return false;
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Take the build lock (a directory); waits while another process holds it. False: timed out. */
function lock(lockDir) {
  const until = Date.now() + WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lockDir);
      return true;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    try {
      if (Date.now() - statSync(lockDir).mtimeMs > LOCK_STALE_MS) rmSync(lockDir, {recursive: true, force: true});
    } catch {
      // gone meanwhile
    }
    if (Date.now() > until) return false;
    sleep(100);
  }
}

/** The most telling line of a failed make. */
function makeFailure(r) {
  if (r.error) return r.error.code === 'ENOENT' ? 'make not found; install build-essential' : r.error.message;
  const lines = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const cause = lines.find((l) => /error|not found/i.test(l)) ?? lines.at(-1) ?? `make exited ${r.status}`;
  return cause.length > 160 ? cause.slice(0, 157) + '...' : cause;
}

function build(binary, key, cc) {
  const tmp = `${binary}.build-${process.pid}`;
  rmSync(tmp, {recursive: true, force: true});
  const r = spawnSync('make', ['-C', NATIVE_DIR, `BUILD=${tmp}`, `CC=${cc}`, `${tmp}/${BINARY}`], {encoding: 'utf8'});
  try {
    if (r.error || r.status !== 0) return makeFailure(r);
    if (!existsSync(join(tmp, BINARY))) return 'make produced no binary';
    renameSync(join(tmp, BINARY), binary);
    writeFileSync(`${binary}.key`, `${key}\n`);
    return null;
  } finally {
    rmSync(tmp, {recursive: true, force: true});
  }
}

/**
 * The engine binary to run, built if needed. Returns {path, built} or {path: null, reason}.
 * `say(text)` gets one line in two pieces, from the process that builds: "rtpsla: building the
 * native media engine … " then "done (<path>)\n" or "failed (<reason>)\n".
 */
export function ensureEngine(say = () => undefined) {
  if (process.platform !== 'linux') return {path: null, reason: `${process.platform} is not Linux`};
  const cc = compiler();
  const ccVersion = compilerVersion(cc);
  const key = engineKey(ccVersion);
  const inPackage = packageEnginePath();
  if (keyMatches(inPackage, key)) return {path: inPackage, built: false};
  const cached = join(cacheRoot(), `engine-${key}`, BINARY);
  if (keyMatches(cached, key)) return {path: cached, built: false};
  const failedMarker = join(cacheRoot(), `engine-${key}.failed`);
  if (ccVersion === null) {
    const reason = `no C compiler (${cc} cannot be run; install build-essential, or set CC)`;
    return {path: null, reason};
  }
  if (existsSync(failedMarker)) return {path: null, reason: readFileSync(failedMarker, 'utf8').trim()};
  const binary = writable(dirname(inPackage)) ? inPackage : writable(dirname(cached)) ? cached : null;
  if (binary === null) return {path: null, reason: `neither ${dirname(inPackage)} nor ${dirname(cached)} is writable`};
  const lockDir = `${binary}.lock`;
  if (!lock(lockDir)) return {path: null, reason: `another process has been building the engine for ${WAIT_MS / 1000} s (${lockDir})`};
  try {
    if (keyMatches(binary, key)) return {path: binary, built: false}; // built by whoever held the lock
    say('rtpsla: building the native media engine … ');
    const failure = build(binary, key, cc);
    if (failure !== null) {
      if (writable(cacheRoot())) writeFileSync(failedMarker, `${failure}\n`);
      say(`failed (${failure})\n`);
      return {path: null, reason: failure};
    }
    say(`done (${binary})\n`);
    return {path: binary, built: true};
  } finally {
    rmSync(lockDir, {recursive: true, force: true});
  }
}

// `node scripts/build-engine.mjs` (npm install's postinstall): build now, one line, never fail the install.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = ensureEngine(() => undefined);
  console.log(
    r.path !== null
      ? `rtpsla: native media engine ${r.built ? 'built' : 'up to date'}; the native engine is in use (${r.path})`
      : `rtpsla: native media engine could not be built (${r.reason}); the pure-Node engine will be used`,
  );
}
