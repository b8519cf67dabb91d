/**
 * The RTP caller's port range must stay clear of the ports the rest of the media path binds on
 * the same host: serve's relay range (default 4500-50000; a serve that reports its range in
 * /health is taken at its word) and, against the sim, the sim's RTP range (default 10000-20000).
 */
import {ConfigError} from '../errors.js';
import type {PortRange} from '../media/source/caller.js';

/** serve's default relay range (`serve --port-range`). */
export const SERVE_DEFAULT_PORT_RANGE: PortRange = {low: 4500, high: 50000};
/** The sim's default RTP range (`sim --rtp-range`). */
export const SIM_DEFAULT_RTP_RANGE: PortRange = {low: 10000, high: 20000};

const text = (r: PortRange) => `${r.low}-${r.high}`;

function overlaps(a: PortRange, b: PortRange): boolean {
  return a.low <= b.high && b.low <= a.high;
}

/** Throws a ConfigError (exit 2) naming the range the caller's overlaps. */
export function checkCallerPortRange(caller: PortRange, o: {servePortRange: PortRange | null; targetIsSim: boolean}): void {
  const others: Array<[string, PortRange]> = [[o.servePortRange ? "serve's relay range" : "serve's default relay range", o.servePortRange ?? SERVE_DEFAULT_PORT_RANGE]];
  if (o.targetIsSim) others.push(["the sim's RTP range", SIM_DEFAULT_RTP_RANGE]);
  for (const [name, r] of others)
    if (overlaps(caller, r))
      throw new ConfigError(`--caller-port-range/CALLER_PORT_RANGE: ${text(caller)} overlaps ${name} ${text(r)}: choose caller ports outside it (default 52000-59999)`);
}
