/**
 * `rtpsla doctor`'s engine section: the engine binary, the scheduling each role would be granted,
 * kernel receive timestamps, the usable CPUs, and how to grant real-time scheduling, as a VoIP
 * engineer checks before a run.
 */
import {usableCpus} from '../engine/cpu-list.js';
import {isRealtime, probeEngine} from '../engine/engine-probe.js';
import type {EngineRole} from '../engine/engine-select.js';

export const ENGINE_ROLES: readonly EngineRole[] = ['relay', 'echo', 'sim'];

export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** What was found. */
  detail: string;
  /** How to fix it (null when ok). */
  fix: string | null;
}

export interface EngineDoctor {
  user: string;
  enginePath: string | null;
  scheduling: Record<string, string>;
  timestamps: string | null;
  cpus: number[];
  checks: DoctorCheck[];
}

function whoAmI(): string {
  const uid = process.getuid?.() ?? -1;
  return uid === 0 ? 'root' : (process.env.USER ?? `uid ${uid}`);
}

/** Probe the engine and turn what it was granted into checks, each with its fix. */
export async function engineDoctor(): Promise<EngineDoctor> {
  const probe = await probeEngine(ENGINE_ROLES, true);
  const cpus = usableCpus();
  const checks: DoctorCheck[] = [];
  if (probe.path === null) {
    checks.push({name: 'engine', ok: false, detail: `not available: ${probe.reason}`, fix: 'install a C compiler (Debian: apt-get install build-essential); the pure-Node engine adds 1.9-3.9 ms at p99'});
  } else {
    checks.push({name: 'engine', ok: true, detail: probe.path, fix: null});
    const sched = ENGINE_ROLES.map((r) => `${r} ${probe.scheduling[r] ?? '?'}`).join(', ');
    const realtime = ENGINE_ROLES.every((r) => isRealtime(probe.scheduling[r]));
    checks.push({
      name: 'scheduling',
      ok: realtime,
      detail: realtime ? sched : `${sched}: no real-time scheduling; the relay's hold and the lateness it reports then include the OS's scheduling delays`,
      fix: realtime ? null : `sudo setcap cap_sys_nice=ep ${probe.path}   (or LimitRTPRIO=12 in the systemd unit, or ulimit -r 12 as root before starting)`,
    });
    const kernel = probe.timestamps === 'kernel';
    checks.push({
      name: 'timestamps',
      ok: kernel,
      detail: kernel ? 'kernel receive timestamps (SO_TIMESTAMPNS) work' : `receive times are not the kernel's (${probe.timestamps}): queueing in the socket is not seen`,
      fix: kernel ? null : 'run on Linux with SO_TIMESTAMPNS (not inside a sandbox that filters socket options)',
    });
  }
  checks.push({name: 'cpus', ok: cpus.length >= 2, detail: `${cpus.join(',')} (${cpus.length} usable)`, fix: cpus.length >= 2 ? null : 'give the process at least 2 CPUs (taskset, the container cpuset)'});
  return {user: whoAmI(), enginePath: probe.path, scheduling: {...probe.scheduling}, timestamps: probe.timestamps, cpus, checks};
}

/** One line a check: `PASS scheduling  relay fifo:12, …` and, when it fails, the fix on the next line. */
export function doctorLines(d: EngineDoctor): string[] {
  const lines = [`rtpsla doctor (as ${d.user})`];
  for (const c of d.checks) {
    lines.push(`${c.ok ? 'PASS' : 'FAIL'} ${c.name.padEnd(11)} ${c.detail}`);
    if (c.fix !== null) lines.push(`     ${''.padEnd(11)} fix: ${c.fix}`);
  }
  return lines;
}
