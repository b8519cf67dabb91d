import {lookup} from 'node:dns/promises';
import {existsSync} from 'node:fs';
import {isIP} from 'node:net';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {ConfigError, errorMessage} from '../errors.js';
import {ENGINE_CHOICES, EngineUnavailableError, type EngineChoice, type EngineKind} from './engine-types.js';
import {NativeEngine} from './native-engine.js';

/** native/build/rtpsla-engine of this package (from src/engine or dist/engine alike). */
export function engineBinaryPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build', 'rtpsla-engine');
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

/**
 * Pick the engine: `node` → pure Node; `native` → start the native engine or throw
 * EngineUnavailableError; `auto` → native when the binary exists and starts, else node.
 */
export async function selectEngine(choice: EngineChoice, binaryPath = engineBinaryPath()): Promise<SelectedEngine> {
  if (choice === 'node') return {kind: 'node', native: null, fallbackReason: null};
  if (process.platform !== 'linux' || !existsSync(binaryPath)) {
    const reason = process.platform !== 'linux' ? `${process.platform} is not Linux` : `${binaryPath} is not built`;
    if (choice === 'native') throw new EngineUnavailableError(reason);
    return {kind: 'node', native: null, fallbackReason: reason};
  }
  try {
    const native = await NativeEngine.start({binaryPath});
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
