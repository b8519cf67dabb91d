import {NativeCallRelay} from '../engine/native-call-relay.js';
import type {NativeEngine} from '../engine/native-engine.js';
import {CallRelay} from './call-relay.js';
import type {RelayOpener} from './relay-types.js';

/** The relay opener of the engine in use: the native engine's relays, or the pure-Node CallRelay. */
export function relayOpener(native: NativeEngine | null): RelayOpener {
  if (native === null) return (opts) => CallRelay.open(opts);
  return (opts) => NativeCallRelay.open(native, opts);
}
