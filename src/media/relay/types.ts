import {RtpslaError} from '../../errors.js';
import type {CallMeter, CallStats} from '../../metrics/call-stats.js';
import type {CallRelayOptions, UdpAddress} from './node.js';

/**
 * The surface of one call's measuring relay that serve uses, whichever engine forwards the
 * packets: the pure-Node CallRelay or the native engine's NativeCallRelay.
 */
export interface MeasuringRelay {
  readonly meter: CallMeter;
  readonly port: number;
  /** The address Asterisk sends this call's media from (UNICASTRTP_LOCAL_ADDRESS/PORT). */
  setAsterisk(addr: UdpAddress): void;
  readonly asteriskAddress: UdpAddress | null;
  stats(): CallStats;
  /** Stop forwarding, keep accepting echoed packets for `drainMs`, then close. Idempotent. */
  close(drainMs?: number): Promise<CallStats>;
  readonly isOpen: boolean;
  readonly sendErrors: number;
}

/** Opens a relay on `opts.port`; rejects with an error whose `code` is EADDRINUSE when the port is taken. */
export type RelayOpener = (opts: CallRelayOptions) => Promise<MeasuringRelay>;

/**
 * No relay can be opened because the media engine is down (died, restarting): the call fails
 * with this reason; no other port is tried (it is no port's fault).
 */
export class RelayEngineDownError extends RtpslaError {
  readonly engineDown = true;
}
