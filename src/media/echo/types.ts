/** The echo's options, counters and server surface, shared by every mode and engine (node.ts, stream.ts, native.ts). */
import type {Logger} from '../../log/logger.js';
import type {MediaServerKind} from '../../protocol/media-server.js';
import type {Clock} from '../../runtime/clock.js';

export interface EchoOptions {
  /** Address to bind (default 127.0.0.1). A hostname is resolved once at start. */
  host?: string;
  /** UDP port (default 4000; 0 = any free port, see `EchoServer.port`). */
  port?: number;
  /** Clock rate (Hz) for payload types not in the built-in map (default 8000). */
  clockRateHz?: number;
  /** Extra/overriding PT → clock rate (Hz) entries. */
  ptClockRates?: Readonly<Record<number, number>>;
  /** A source silent this long is forgotten (default 10000). */
  idleExpiryMs?: number;
  /** A packet is never held longer than this: one due further ahead re-anchors its source (a timestamp jump; default 2000). */
  maxHoldMs?: number;
  /** Sources tracked at once; packets of further sources are echoed unpaced (default 100000). */
  maxSources?: number;
  /** Requested SO_RCVBUF / SO_SNDBUF (default 2 MiB). */
  bufferBytes?: number;
  /** Seconds between `echo.stats` log lines; 0 = none (default 0). */
  statsIntervalSec?: number;
  /** Where stats and warnings go (default: nowhere). */
  logger?: Logger;
  /** Arrival times and the idle-expiry/stats timers (default: the real clock; tests drive one). */
  clock?: Clock;
  /** echo (default), stream (a stand-in voice bot: its own paced stream to each source) or sink (counts only): src/media/echo/stream.ts. */
  mode?: MediaServerKind;
}

export interface EchoStats {
  packetsIn: number;
  bytesIn: number;
  /** Datagrams whose send completed without error. */
  packetsOut: number;
  bytesOut: number;
  /** Not RTP v2 (per parseRtp): counted, never echoed. */
  malformed: number;
  sendErrors: number;
  /** Arrived more than 1 ms after their slot (sent at once). */
  late: number;
  /** Subset of `late`: already past their slot on arrival (a held packet is never counted late). */
  arrivedLate: number;
  /** Worst t_sent − due of a held packet, µs: the echo's own pacing error (0: none held). */
  maxSchedulerLagUs: number;
  /** Packets that waited for their slot. */
  held: number;
  /** Times two consecutive early packets moved a source's anchor earlier. */
  anchorMoves: number;
  sourcesActive: number;
  sourcesTotal: number;
  sourcesExpired: number;
  /** Packets that would have waited more than --max-hold-ms (a timestamp jump): their source re-anchored on them. */
  reanchors: number;
  /** Packets sent before their slot because their source's queue was full. */
  queueOverflows: number;
  /** Packets echoed unpaced because the source table was full. */
  unpaced: number;
  /** Packets waiting for their slot right now. */
  queued: number;
}

export interface EchoServer {
  /** Bound address and port (the real port when 0 was asked for). */
  readonly address: string;
  readonly port: number;
  /** Effective receive/send buffer sizes in bytes (as requested, or what the OS capped them to). */
  readonly recvBufferBytes: number;
  readonly sendBufferBytes: number;
  stats(): EchoStats;
  /** Stop: close the socket, stop timers. Returns the final counters. */
  close(): Promise<EchoStats>;
}
