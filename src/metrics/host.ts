/**
 * Readings of the machine a command runs on (Linux /proc), for figures that depend on it.
 */
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';

let clkTck: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`; 100 on every mainstream Linux). */
export function clockTicksPerSec(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/**
 * CPU time the hypervisor gave to other guests while this machine's CPUs wanted to run ("steal",
 * field 8 of the `cpu` line of /proc/stat), all CPUs summed, in µs. Steal stalls every process on
 * the machine at once: on a VM it shows up as lateness of every call at the same moment. Null where
 * /proc/stat is not readable (not Linux); 0 on bare metal.
 */
export function hostStealUs(): number | null {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return null;
  }
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'cpu' || fields.length < 9) return null;
  const ticks = Number(fields[8]);
  return Number.isFinite(ticks) ? (ticks * 1e6) / clockTicksPerSec() : null;
}
