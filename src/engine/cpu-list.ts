import {cpus} from 'node:os';
import {ConfigError} from '../errors.js';

/** The environment variable that pins every native engine started from this process's environment. */
export const ENGINE_CPUS_ENV = 'RTPSLA_ENGINE_CPUS';

/**
 * Validate a CPU list such as `1`, `0-1` or `0,2-3` (RTPSLA_ENGINE_CPUS) against the CPUs this
 * machine has (`cpuCount`, default os.cpus().length) and return it normalised (ascending, ranges
 * merged). Throws ConfigError naming `setting` for anything else.
 */
export function parseCpuList(text: string, setting = ENGINE_CPUS_ENV, cpuCount = cpus().length): string {
  const t = text.trim();
  const bad = (why: string) => new ConfigError(`${setting}: "${text}" ${why}`);
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(t)) throw bad('is not a CPU list such as 1, 0-1 or 0,2-3');
  const chosen = new Set<number>();
  for (const part of t.split(',')) {
    const [a, b = a] = part.split('-').map(Number);
    if (b < a) throw bad(`has a range that runs backwards (${part})`);
    if (b >= cpuCount) throw bad(`names CPU ${b}, but this machine has CPUs 0-${cpuCount - 1}`);
    for (let c = a; c <= b; c++) chosen.add(c);
  }
  const sorted = [...chosen].sort((x, y) => x - y);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    ranges.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}

/** The last CPU of this machine: where `npm start` and the bench place the media engines together. */
export function lastCpu(cpuCount = cpus().length): string {
  return String(Math.max(0, cpuCount - 1));
}

/**
 * The largest number of calls whose co-located media chain (the sim's, echo's and relay's
 * engines) `npm start` and the bench put on one CPU. At 150 calls that CPU was 42-45 % busy (sim
 * 20 %, echo 7 %, relay 14-17 %); at 200 about 60 %, below the kernel's 95 % real-time limit with
 * room for bursts; at 600 the chain needs more than one CPU (docs/measurements/2026-12-01-placement.md).
 */
export const SHARED_CPU_MAX_CALLS = 200;

/** The CPU a co-located chain of `calls` calls shares (the last one), or null when it needs more than one. */
export function sharedCpuFor(calls: number, cpuCount = cpus().length): string | null {
  return calls <= SHARED_CPU_MAX_CALLS ? lastCpu(cpuCount) : null;
}
