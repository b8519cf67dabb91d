import {lookup} from 'node:dns/promises';
import {existsSync} from 'node:fs';
import {isIP} from 'node:net';
import {ConfigError, errorMessage} from '../errors.js';
import {ENGINE_CHOICES, EngineUnavailableError, type EngineChoice, type EngineKind} from './engine-types.js';
import {ENGINE_CPUS_ENV, parseCpuList} from './cpu-list.js';
import {NativeEngine} from './native-engine.js';
import {packageEnginePath, resolveEngineBinary, sayNodeEngine} from './engine-binary.js';

/** native/build/rtpsla-engine of this package (from src/engine or dist/engine alike). */
export function engineBinaryPath(): string {
  return packageEnginePath();
}

/** Validate --engine / RTPSLA_ENGINE. */
export function parseEngineChoice(text: string, setting = '--engine/RTPSLA_ENGINE'): EngineChoice {
  const t = text.trim() as EngineChoice;
  if (!ENGINE_CHOICES.includes(t)) throw new ConfigError(`${setting}: "${text}" is not one of ${ENGINE_CHOICES.join(', ')}`);
  return t;
}

export interface SelectedEngine {
  kind: EngineKind;
  /** The running native engine, or null when the pure-Node engine measures. */
  native: NativeEngine | null;
  /** Why auto fell back to node (null otherwise). */
  fallbackReason: string | null;
}

/** What the engine is for, which sets its real-time priority (fifoPriority). */
export type EngineRole = 'relay' | 'echo' | 'sim' | 'caller';

/**
 * SCHED_FIFO priority by role (docs/measurements/2026-12-01-placement.md). The echo runs at 11,
 * above the sim (10): its pacing error is a measured figure, and at 600 calls placed by the kernel
 * it was p99 0.07-0.13 ms at 10 against 0.06 at 11. The relay runs at 12 when pinned to a CPU it
 * shares with them (the instrument first: its hold at 150 calls p99.9 0.04 ms against 0.17 at
 * equal priorities), and at 10 when the kernel places it: above the others it then preempts them
 * on their CPU instead of moving to the other one (at 600 calls its CPU rose from 49 % to 66 %).
 */
export function fifoPriority(role: EngineRole, pinned: boolean): number {
  if (role === 'echo') return 11;
  return role === 'relay' && pinned ? 12 : 10;
}

/**
 * Pick the engine: `node` → pure Node; `native` → start the native engine or throw
 * EngineUnavailableError; `auto` → native when the binary exists and starts, else node.
 * RTPSLA_ENGINE_CPUS (a CPU list) pins the native engine; a malformed list or a CPU this machine
 * does not have is a ConfigError whatever the choice.
 */
export async function selectEngine(choice: EngineChoice, role: EngineRole, binary?: string): Promise<SelectedEngine> {
  const cpuList = process.env[ENGINE_CPUS_ENV];
  const cpus = cpuList !== undefined && cpuList.trim() !== '' ? parseCpuList(cpuList) : null;
  if (choice === 'node') return {kind: 'node', native: null, fallbackReason: null};
  const found = binary !== undefined ? {path: existsSync(binary) ? binary : null, reason: `${binary} is not built`} : await resolveEngineBinary();
  if (process.platform !== 'linux' || found.path === null) {
    const reason = process.platform !== 'linux' ? `${process.platform} is not Linux` : (found.reason ?? 'not built');
    if (choice === 'native') throw new EngineUnavailableError(reason);
    sayNodeEngine(reason);
    return {kind: 'node', native: null, fallbackReason: reason};
  }
  const binaryPath = found.path;
  try {
    const native = await NativeEngine.start({
      binaryPath,
      env: {RTPSLA_ENGINE_FIFO_PRIORITY: String(fifoPriority(role, cpus !== null)), ...(cpus !== null ? {[ENGINE_CPUS_ENV]: cpus} : {})},
    });
    return {kind: 'native', native, fallbackReason: null};
  } catch (err) {
    if (choice === 'native') throw new EngineUnavailableError(errorMessage(err));
    return {kind: 'node', native: null, fallbackReason: errorMessage(err)};
  }
}

/** A numeric address for `host` (resolved once); ConfigError when it cannot be resolved. */
export async function numericHost(host: string, setting = '--echo-host/ECHO_HOST'): Promise<string> {
  if (isIP(host) !== 0) return host;
  try {
    return (await lookup(host, {family: 4})).address; // the relay's sockets are udp4
  } catch (err) {
    throw new ConfigError(`${setting}: cannot resolve "${host}": ${errorMessage(err)}`);
  }
}
