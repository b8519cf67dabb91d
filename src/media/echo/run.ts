import {selectEngine} from '../../engine/engine-select.js';
import {superviseStarted} from '../../engine/engine-supervisor.js';
import {engineRoleInfo} from '../../engine/engine-probe.js';
import type {EngineRoleInfo} from '../../protocol/report.js';
import type {EngineChoice, EngineKind} from '../../engine/engine-types.js';
import {startNativeEcho} from './native.js';
import type {Logger} from '../../log/logger.js';
import {startEcho, type EchoOptions, type EchoServer, type EchoStats} from './node.js';

export interface RunningEcho {
  readonly kind: EngineKind;
  readonly server: EchoServer;
  /** How it measures (scheduling, pinning, timestamps). */
  info(): Promise<EngineRoleInfo>;
  /** Stop the echo, then its engine; the final counters. */
  close(): Promise<EchoStats>;
}

/**
 * `rtpsla echo` on the engine chosen: native (when chosen, or auto and built), else Node; a
 * fallback is logged. `onEngineExit` gets one line if the native engine dies under the echo (the
 * echo then exits non-zero: a supervisor restarts it).
 */
export async function startEchoOn(
  choice: EngineChoice,
  options: EchoOptions & {logger: Logger},
  onEngineExit: (line: string) => void,
): Promise<RunningEcho> {
  const {logger} = options;
  const engine = await selectEngine(choice, 'echo');
  if (engine.fallbackReason !== null) logger.info('engine.fallback', {engine: 'node', reason: engine.fallbackReason});
  const server = await (engine.native ? startNativeEcho(engine.native, options) : startEcho(options)).catch(async (err: unknown) => {
    await engine.native?.close();
    throw err;
  });
  if (engine.native) await superviseStarted('echo', engine.native, (line) => onEngineExit(line));
  return {
    kind: engine.kind,
    server,
    info: () => engineRoleInfo(engine.native),
    close: async () => {
      const final = await server.close();
      await engine.native?.close();
      return final;
    },
  };
}
