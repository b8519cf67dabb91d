/**
 * What the media engines get on this machine, found by asking the engine itself (it may hold
 * capabilities Node does not: `setcap cap_sys_nice=ep` on the binary): the CPU scheduling the OS
 * grants each role at its priority, and whether kernel receive timestamps work on a loopback
 * socket. `rtpsla doctor` prints it; `npm start` and the bench use it so that no engine they
 * start takes real-time scheduling when the relay cannot (the instrument is never below what
 * it measures).
 */
import type {EngineRoleInfo} from '../protocol/report.js';
import {resolveEngineBinary} from './engine-binary.js';
import {fifoPriority, type EngineRole} from './engine-select.js';
import {NativeEngine} from './native-engine.js';

export interface EngineProbe {
  /** The executable, or null with the reason it cannot be had. */
  path: string | null;
  reason: string | null;
  /** Scheduling granted per role at its priority ("fifo:12", "nice:-10", "normal"). */
  scheduling: Partial<Record<EngineRole, string>>;
  /** "kernel", "user" or "failed: …" (a datagram sent to the engine's own loopback socket). */
  timestamps: string | null;
}

/** Start the engine once per role (pinned or not decides the relay's priority), read what it was granted, stop it. */
export async function probeEngine(roles: readonly EngineRole[], pinned: boolean, env: Readonly<Record<string, string>> = {}): Promise<EngineProbe> {
  const bin = await resolveEngineBinary();
  if (bin.path === null) return {path: null, reason: bin.reason, scheduling: {}, timestamps: null};
  const scheduling: Partial<Record<EngineRole, string>> = {};
  let timestamps: string | null = null;
  for (const role of roles) {
    const engine = await NativeEngine.start({binaryPath: bin.path, env: {RTPSLA_ENGINE_FIFO_PRIORITY: String(fifoPriority(role, pinned)), ...env}});
    try {
      scheduling[role] = engine.scheduling;
      if (timestamps === null) timestamps = String((await engine.command('probe.timestamps')).timestamps);
    } finally {
      await engine.close();
    }
  }
  return {path: bin.path, reason: null, scheduling, timestamps};
}

/** Whether a scheduling text is real-time. */
export function isRealtime(scheduling: string | undefined): boolean {
  return scheduling !== undefined && scheduling.startsWith('fifo:');
}

/** The `tool.engines` entry of a role on the pure-Node engine: receive times taken in Node. */
export const NODE_ENGINE_INFO: EngineRoleInfo = Object.freeze({engine: 'node', scheduling: 'normal', cpus: 'all', timestamps: 'user'});

/** `tool.engines` entry of one role from the native engine it runs, or the Node engine's (null); counts from a fresh `stats`. */
export async function engineRoleInfo(native: NativeEngine | null): Promise<EngineRoleInfo> {
  if (native === null || !native.alive) return {...NODE_ENGINE_INFO};
  await native.stats().catch(() => undefined);
  const {kernel, user} = native.timestampCounts;
  const timestamps = native.timestamps === 'user' || (user > 0 && kernel === 0) ? 'user' : user > 0 ? 'mixed' : 'kernel';
  return {engine: 'native', scheduling: native.scheduling, cpus: native.cpus, timestamps, timestampCounts: {kernel, user}};
}

/**
 * The scheduling policy of a chain of engines started together (`npm start`, the bench): real-time
 * for all of them only where the relay gets it, so the instrument is never below what it measures
 * (with `ulimit -r 10` the sim alone would get FIFO: inverted priorities). Returns the environment
 * for every engine of the chain and the one note to print, or null.
 */
export function chainScheduling(probe: EngineProbe): {env: Record<string, string>; note: string | null} {
  if (probe.path === null) return {env: {}, note: null};
  const notes: string[] = [];
  let env: Record<string, string> = {};
  if (!isRealtime(probe.scheduling.relay)) {
    env = {RTPSLA_ENGINE_SCHED: 'normal'};
    notes.push(
      `the media engines run without real-time scheduling (the relay would get ${probe.scheduling.relay ?? 'nothing'}): the relay hold and lateness figures include the OS's scheduling delays; grant it with: sudo setcap cap_sys_nice=ep ${probe.path} (see rtpsla doctor)`,
    );
  }
  if (probe.timestamps !== null && probe.timestamps !== 'kernel')
    notes.push(`receive times are not the kernel's (${probe.timestamps}): queueing in the sockets is not seen in the relay hold (see rtpsla doctor)`);
  return {env, note: notes.length > 0 ? `note: ${notes.join('; ')}` : null};
}
