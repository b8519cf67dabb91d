/**
 * Which of the bench's media paths can run on this machine: direct and the node relay always;
 * the native relay when the engine is built; rtpengine when its daemon is installed. A path that
 * cannot run is skipped with a reason (the bench never builds or installs anything).
 */
import {accessSync, constants} from 'node:fs';
import {engineBinaryPath} from '../engine/engine-select.js';
import type {EngineName} from './children.js';
import {findRtpengine} from './rtpengine/daemon.js';
import {ConfigError} from '../errors.js';
import {pacingBetweenMarks, type PacingMark} from '../media/echo/mark.js';
import {PATH_SPECS} from './variants.js';
import {PATH_NAMES, type EchoPacingUs, type PathName, type SkippedPath} from './types.js';

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
  const nativeBin = env.nativeBin ?? engineBinaryPath();
  const nativeBuilt = executable(nativeBin);
  const rtpengine = env.rtpengine === undefined ? findRtpengine() : env.rtpengine;
  const paths: PathName[] = [];
  const skipped: SkippedPath[] = [];
  for (const p of PATH_NAMES) {
    if (!requested.includes(p)) continue;
    const spec = PATH_SPECS[p];
    if (spec.serveEngine === 'native' && !nativeBuilt) skipped.push({path: p, reason: `the native engine is not built (${nativeBin} is missing; npm install builds it)`});
    else if (spec.daemon && !rtpengine) skipped.push({path: p, reason: 'rtpengine is not installed (Debian package rtpengine-daemon: apt-get install rtpengine-daemon)'});
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

/** `--paths` as a setting: the list, or a ConfigError with parsePaths' message. */
export function pathsSetting(text: string): PathName[] {
  const parsed = parsePaths(text);
  if (typeof parsed === 'string') throw new ConfigError(parsed);
  return parsed;
}

/** The older `--path`: relay means the native and node relays; both (or none) means the default. */
export function legacyPaths(path: string | undefined): PathName[] | undefined {
  if (path === 'direct') return ['direct'];
  if (path === 'relay') return ['native', 'node'];
  return undefined;
}

/**
 * The `echo.mark` lines (mark.ts) echo logged on each SIGUSR2 the bench sent it, in order: the
 * pacing-error histogram so far (a quoted or bare base64 value) and its count.
 */
export function parseEchoMarks(output: string): PacingMark[] {
  const marks: PacingMark[] = [];
  for (const line of output.split('\n')) {
    if (!/\becho\.mark\b/.test(line)) continue;
    const hist = logValue(line, 'pacingErrorHist');
    const count = logValue(line, 'pacingErrorCount');
    const note = logValue(line, 'pacingErrorNote');
    marks.push({pacingErrorHist: hist === 'null' ? null : hist, pacingErrorCount: count ? Number(count) : 0, ...(note ? {pacingErrorNote: note} : {})});
  }
  return marks;
}

/** One `name=value` field of a logger line (log/logger.ts): a quoted value unquoted, or the bare token; null when absent. */
function logValue(line: string, name: string): string | null {
  const m = new RegExp(`\\b${name}=("(?:[^"\\\\]|\\\\.)*"|\\S+)`).exec(line);
  if (m === null) return null;
  if (!m[1].startsWith('"')) return m[1];
  try {
    return JSON.parse(m[1]) as string;
  } catch {
    return null; // not a JSON string: not a logger value
  }
}

/**
 * echo's pacing error over the steady window: between the first two marks (sent at the window's
 * start and at the first hangup). Null with the reason when there are not two marks, or the echo
 * keeps no histogram, or it held nothing in between.
 */
export function windowEchoPacing(output: string): {pacing: (EchoPacingUs & {count: number}) | null; reason: string | null} {
  const marks = parseEchoMarks(output);
  if (marks.length < 2) return {pacing: null, reason: `echo logged ${marks.length} of the window's 2 marks (echo.mark on SIGUSR2)`};
  return pacingBetweenMarks(marks[0], marks[1]);
}

/**
 * echo's pacing error (send − due, µs, cumulative since it started) from its last line that
 * carries it: the final `echo.stopped`, else the last periodic `echo.stats`. Either a
 * `pacingErrorUs` object {p50, p99, p999, max} (quoted JSON, as the logger writes objects) or the
 * scalars `pacingErrorP99Us` (required), `pacingErrorP50Us`, `pacingErrorP999Us`, `pacingErrorMaxUs`.
 */
export function parseEchoPacing(output: string): EchoPacingUs | null {
  const lines = output.split('\n').filter((l) => /\becho\.(stopped|stats)\b/.test(l));
  const ordered = [...lines.filter((l) => l.includes('echo.stopped')).reverse(), ...lines.filter((l) => l.includes('echo.stats')).reverse()];
  for (const line of ordered) {
    const v = pacingFromLine(line);
    if (v) return v;
  }
  return null;
}

function pacingFromLine(line: string): EchoPacingUs | null {
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const obj = logValue(line, 'pacingErrorUs');
  if (obj) {
    try {
      const o = JSON.parse(obj) as Record<string, unknown>;
      const p99 = num(o.p99);
      if (p99 !== null) return {p50: num(o.p50), p99, p999: num(o.p999), max: num(o.max)};
    } catch {
      // not JSON: try the scalars
    }
  }
  const field = (name: string): number | null => {
    const m = new RegExp(`\\b${name}=(-?\\d+(?:\\.\\d+)?)(?:\\s|$)`).exec(line);
    return m ? Number(m[1]) : null;
  };
  const p99 = field('pacingErrorP99Us');
  if (p99 === null) return null;
  return {p50: field('pacingErrorP50Us'), p99, p999: field('pacingErrorP999Us'), max: field('pacingErrorMaxUs')};
}
