import {readFileSync} from 'node:fs';
import {cpus} from 'node:os';
import {ConfigError} from '../errors.js';

/** The environment variable that pins every native engine started from this process's environment. */
export const ENGINE_CPUS_ENV = 'RTPSLA_ENGINE_CPUS';

const LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** The CPUs of a list such as `1`, `0-1` or `0,2-3`, ascending; null when it is not one (or a range runs backwards). */
function cpusOf(text: string): number[] | null {
  if (!LIST.test(text)) return null;
  const chosen = new Set<number>();
  for (const part of text.split(',')) {
    const [a, b = a] = part.split('-').map(Number);
    if (b < a) return null;
    for (let c = a; c <= b; c++) chosen.add(c);
  }
  return [...chosen].sort((x, y) => x - y);
}

/** A CPU list in its shortest form: ascending, consecutive CPUs as ranges. */
function listOf(sorted: readonly number[]): string {
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    ranges.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}

/**
 * The CPUs this process may run on (and so may pin an engine to): `Cpus_allowed_list` of
 * /proc/self/status on Linux, which a container's cpuset or a `taskset` narrows; else every CPU
 * os.cpus() counts.
 */
export function usableCpus(status: () => string = () => readFileSync('/proc/self/status', 'utf8')): number[] {
  try {
    const line = /^Cpus_allowed_list:\s*(\S+)/m.exec(status());
    const list = line ? cpusOf(line[1]) : null;
    if (list !== null && list.length > 0) return list;
  } catch {
    // not Linux
  }
  return Array.from({length: Math.max(1, cpus().length)}, (_, i) => i);
}

/**
 * Validate a CPU list such as `1`, `0-1` or `0,2-3` (RTPSLA_ENGINE_CPUS) against the CPUs this
 * process may use and return it normalised (ascending, ranges merged). Throws ConfigError naming
 * `setting` for anything else.
 */
export function parseCpuList(text: string, setting = ENGINE_CPUS_ENV, usable: readonly number[] = usableCpus()): string {
  const bad = (why: string) => new ConfigError(`${setting}: "${text}" ${why}`);
  const t = text.trim();
  const list = cpusOf(t);
  if (list === null) throw bad(LIST.test(t) ? 'has a range that runs backwards' : 'is not a CPU list such as 1, 0-1 or 0,2-3');
  const outside = list.filter((c) => !usable.includes(c));
  if (outside.length > 0) throw bad(`names CPU ${outside[0]}, but this process may use CPUs ${listOf(usable)}`);
  return listOf(list);
}

/** The last CPU this process may use: where `npm start` and the bench place the media engines together. */
export function lastCpu(usable: readonly number[] = usableCpus()): string {
  return String(usable[usable.length - 1]);
}

/**
 * The largest number of calls whose co-located media chain (the sim's, echo's and relay's
 * engines) `npm start` and the bench put on one CPU. At 150 calls that CPU was 42-45 % busy (sim
 * 20 %, echo 7 %, relay 14-17 %); at 200 about 60 %, below the kernel's 95 % real-time limit with
 * room for bursts; at 600 the chain needs more than one CPU (docs/measurements/2026-12-01-placement.md).
 */
export const SHARED_CPU_MAX_CALLS = 200;

/** The CPU a co-located chain of `calls` calls shares (the last usable one), or null when it needs more than one. */
export function sharedCpuFor(calls: number, usable: readonly number[] = usableCpus()): string | null {
  return calls <= SHARED_CPU_MAX_CALLS ? lastCpu(usable) : null;
}
