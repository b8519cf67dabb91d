import {NativeCallRelay} from './native.js';
import type {NativeEngine} from '../../engine/native-engine.js';
import {CallRelay} from './node.js';
import {RelayEngineDownError, type RelayOpener} from './types.js';

/** Where serve's native engine is: the one in use now, or why there is none (it died, it is restarting). */
export interface EngineSource {
  current(): NativeEngine | null;
  downReason(): string;
}

/** The relay opener of the engine in use: the native engine's relays (whichever engine is current), or the pure-Node CallRelay. */
export function relayOpener(native: EngineSource | null): RelayOpener {
  if (native === null) return (opts) => CallRelay.open(opts);
  return (opts) => {
    const engine = native.current();
    if (engine === null) return Promise.reject(new RelayEngineDownError(native.downReason()));
    return NativeCallRelay.open(engine, opts);
  };
}
