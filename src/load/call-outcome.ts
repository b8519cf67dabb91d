/**
 * Whether a call serve measured counts as failed, beyond the errors serve itself recorded
 * (docs/measurement.md): a call that ended before load hung it up, a call whose up stream stopped for more
 * than 1 s while it was up, and a call whose media was not the format asked for. The one place
 * that turns serve's per-call facts (ServeCallRecord) and load's own (when it hung up) into an
 * error string.
 */
import {findFormat, findFormatByPayloadType} from '../rtp/formats.js';
import {RTP_HEADER_BYTES} from '../rtp/packet.js';

/** No up packet for longer than this while the call is up: the media stopped (docs/measurement.md). */
export const MEDIA_STOP_LIMIT_MS = 1000;
/**
 * serve began tearing the call down more than this before load hung it up: the call ended on its
 * own. (serve's teardown follows load's hangup by an ARI event, milliseconds normally.)
 */
export const CUT_SHORT_SLACK_MS = 1000;

/** What serve recorded about how a call ended (fields of ServeCallRecord). */
export interface ServeEndFacts {
  startedAt: string;
  /** When serve began tearing the call down, ms after startedAt (absent from older serves). */
  endMs?: number;
  endReason?: string;
  /** Longest stretch between two up packets and when it began (ms after startedAt). */
  upGapMaxMs?: number;
  upGapAtMs?: number | null;
  /** The last up packet, ms after startedAt (null: no media at all; silentCalls covers that). */
  lastUpMs?: number | null;
}

/** What load knows: the hold it asked for and when it hung up (wall-clock ms; null: never). */
export interface LoadEndFacts {
  durationMs: number;
  hungUpAtMs: number | null;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * "ended by Asterisk after 5.4 s of 20 s" when serve tore the call down before load hung it up,
 * "media stopped after 5.0 s of 20 s (no packet from Asterisk for 15.0 s)" when the up stream
 * stopped for more than MEDIA_STOP_LIMIT_MS while the call was up — between two packets, or from
 * the last packet to the end of the call (serve's teardown or load's hangup, whichever came first,
 * so a teardown delayed by a late event is not taken for silence); null otherwise.
 */
export function callEndError(serve: ServeEndFacts, load: LoadEndFacts): string | null {
  const of = `of ${Number((load.durationMs / 1000).toFixed(1))} s`; // "of 20 s", "of 2.5 s"
  if (serve.endMs !== undefined && load.hungUpAtMs !== null) {
    const serveEndAtMs = Date.parse(serve.startedAt) + serve.endMs;
    if (serveEndAtMs < load.hungUpAtMs - CUT_SHORT_SLACK_MS) {
      const by = serve.endReason?.startsWith('serve') ? `serve (${serve.endReason})` : 'Asterisk';
      return `ended by ${by} after ${seconds(serve.endMs)} ${of}`;
    }
  }
  let gapMs = serve.upGapAtMs !== null && serve.upGapAtMs !== undefined ? (serve.upGapMaxMs ?? 0) : 0;
  let atMs = serve.upGapAtMs ?? 0;
  if (serve.lastUpMs !== null && serve.lastUpMs !== undefined && serve.endMs !== undefined) {
    const startMs = Date.parse(serve.startedAt);
    const upUntilMs = Math.min(startMs + serve.endMs, load.hungUpAtMs ?? Infinity);
    const trailingMs = Math.round(upUntilMs - (startMs + serve.lastUpMs));
    if (trailingMs > gapMs) {
      gapMs = trailingMs;
      atMs = serve.lastUpMs;
    }
  }
  if (gapMs > MEDIA_STOP_LIMIT_MS) return `media stopped after ${seconds(atMs)} ${of} (no packet from Asterisk for ${seconds(gapMs)})`;
  return null;
}

/** Payload type and datagram size (header included) of one 20 ms frame of `format`. */
export function expectedMedia(format: string): {payloadType: number; packetBytes: number} | null {
  const f = findFormat(format);
  return f === undefined ? null : {payloadType: f.payloadType, packetBytes: RTP_HEADER_BYTES + f.payloadBytes};
}

/** The format name of a payload type (null: not one rtpsla knows). */
export function formatOfPayloadType(payloadType: number): string | null {
  return findFormatByPayloadType(payloadType)?.name ?? null;
}

function describeMedia(payloadType: number, packetBytes: number | null): string {
  const name = formatOfPayloadType(payloadType);
  return `${name ?? 'unknown format'} (payload type ${payloadType}${packetBytes !== null ? `, ${packetBytes}-byte packets` : ''})`;
}

/**
 * "format mismatch: asked slin16 (payload type 118, 652-byte packets), measured ulaw (payload
 * type 0, 172-byte packets)" when the media the relay measured is not the format asked for;
 * null when it is, or when no media came (nothing was measured: other checks cover that).
 */
export function formatMismatchError(asked: string, seen: {payloadType?: number | null; packetBytes?: number | null}): string | null {
  const want = expectedMedia(asked);
  if (want === null || seen.payloadType === null || seen.payloadType === undefined) return null;
  const bytes = seen.packetBytes ?? null;
  if (seen.payloadType === want.payloadType && (bytes === null || bytes === want.packetBytes)) return null;
  return `format mismatch: asked ${describeMedia(want.payloadType, want.packetBytes)}, measured ${describeMedia(seen.payloadType, bytes)}`;
}

/**
 * The format the run actually measured: the format of the payload type most calls saw, or the
 * asked format when no call had media (nothing else to go by).
 */
export function measuredFormat(asked: string, calls: ReadonlyArray<{payloadType?: number | null}>): string {
  const counts = new Map<number, number>();
  for (const c of calls) if (c.payloadType !== null && c.payloadType !== undefined) counts.set(c.payloadType, (counts.get(c.payloadType) ?? 0) + 1);
  let best: number | null = null;
  for (const [pt, n] of counts) if (best === null || n > (counts.get(best) ?? 0)) best = pt;
  if (best === null) return asked;
  return formatOfPayloadType(best) ?? `payload type ${best}`;
}
