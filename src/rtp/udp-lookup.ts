import {lookup as dnsLookup} from 'node:dns';
import {isIP} from 'node:net';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * The `lookup` for media sockets (`dgram.createSocket({lookup})`). Media goes to numeric
 * addresses (where a packet came from, UNICASTRTP_LOCAL_ADDRESS, a resolved echo host), and for
 * those dgram's default lookup still defers every send to the next tick (dns.lookup answers an
 * IP literal through process.nextTick): one queued callback per packet. This answers at once;
 * a name still goes through dns.lookup.
 */
export function numericLookup(address: string, family: unknown, callback: LookupCallback): void {
  const f = isIP(address);
  if (f !== 0) {
    callback(null, address, f);
    return;
  }
  dnsLookup(address, {family: family === 6 || family === 'IPv6' ? 6 : 4}, (err, addr, fam) => callback(err, addr, fam));
}

/** Options for `createSocket` with the numeric lookup. */
export function mediaSocketOptions(type: 'udp4' | 'udp6' = 'udp4'): {type: 'udp4' | 'udp6'; lookup: never} {
  return {type, lookup: numericLookup as never};
}
