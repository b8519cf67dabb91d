import {NativeCallRelay} from './native.js';
import type {NativeEngine} from '../../engine/native-engine.js';
import {CallRelay} from './node.js';
import type {RelayOpener} from './types.js';

/** The relay opener of the engine in use: the native engine's relays, or the pure-Node CallRelay. */
export function relayOpener(native: NativeEngine | null): RelayOpener {
  if (native === null) return (opts) => CallRelay.open(opts);
  return (opts) => NativeCallRelay.open(native, opts);
}
