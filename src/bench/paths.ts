/**
 * Which of the bench's media paths can run on this machine: direct and the node relay always;
 * the native relay when the engine is built; rtpengine when its daemon is installed. A path that
 * cannot run is skipped with a reason (the bench never builds or installs anything).
 */
import {accessSync, constants} from 'node:fs';
import {fileURLToPath} from 'node:url';
import type {EngineName} from './children.js';
import {findRtpengine} from './rtpengine/daemon.js';
import {PATH_NAMES, type PathName, type PercentilesUs, type SkippedPath} from './types.js';

/** The native media engine serve, echo and sim start (built by `npm install`). */
export const NATIVE_ENGINE_BIN = fileURLToPath(new URL('../../native/build/rtpsla-engine', import.meta.url));

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface PathPlan {
  paths: PathName[];
  skipped: SkippedPath[];
  /** RTPSLA_ENGINE of sim and echo on every path: native when built, so the paths differ only in the relay. */
  simEchoEngine: EngineName;
  rtpengine: string | null;
}

export function planPaths(requested: readonly PathName[], env: {nativeBin?: string; rtpengine?: string | null} = {}): PathPlan {
  const nativeBuilt = executable(env.nativeBin ?? NATIVE_ENGINE_BIN);
  const rtpengine = env.rtpengine === undefined ? findRtpengine() : env.rtpengine;
  const paths: PathName[] = [];
  const skipped: SkippedPath[] = [];
  for (const p of PATH_NAMES) {
    if (!requested.includes(p)) continue;
    if (p === 'native' && !nativeBuilt) skipped.push({path: p, reason: `the native engine is not built (${env.nativeBin ?? NATIVE_ENGINE_BIN} is missing; npm install builds it)`});
    else if (p === 'rtpengine' && !rtpengine) skipped.push({path: p, reason: 'rtpengine is not installed (Debian package rtpengine-daemon: apt-get install rtpengine-daemon)'});
    else paths.push(p);
  }
  return {paths, skipped, simEchoEngine: nativeBuilt ? 'native' : 'node', rtpengine: rtpengine};
}

/** Parse `--paths direct,native,…` (or `all`). */
export function parsePaths(text: string): PathName[] | string {
  if (text.trim() === 'all') return [...PATH_NAMES];
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !(PATH_NAMES as readonly string[]).includes(n));
  if (bad.length > 0 || names.length === 0) return `--paths: "${text}" is not a comma-separated list of ${PATH_NAMES.join(', ')} (or all)`;
  return PATH_NAMES.filter((p) => names.includes(p));
}

/**
 * echo's pacing error (send − due, µs) from its final `echo.stopped` line: a `pacingErrorUs`
 * field holding {p50, p99, p999, max} (quoted JSON, as the logger writes objects).
 */
export function parseEchoPacing(output: string): PercentilesUs | null {
  const lines = output.split('\n').filter((l) => l.includes('echo.stopped'));
  const line = lines.at(-1);
  if (!line) return null;
  const m = /\bpacingErrorUs=("(?:[^"\\]|\\.)*"|\{[^\s]*\})/.exec(line);
  if (!m) return null;
  try {
    const raw: unknown = JSON.parse(m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1]);
    const o = raw as Partial<Record<keyof PercentilesUs, unknown>>;
    const keys: Array<keyof PercentilesUs> = ['p50', 'p99', 'p999', 'max'];
    if (keys.some((k) => typeof o[k] !== 'number')) return null;
    return {p50: o.p50 as number, p99: o.p99 as number, p999: o.p999 as number, max: o.max as number};
  } catch {
    return null;
  }
}
