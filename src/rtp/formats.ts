/**
 * The codec table: the one place that knows, per format name, its RTP payload type, clock rate,
 * 20 ms frame size and SDP encoding name. Everything else (the relay's meter, serve, load, the
 * sim's tone streams, the echo's payload type → clock rate map, the bench's SDP) reads it here.
 *
 * `externalMedia: true` marks the formats rtpsla measures end to end (an ARI externalMedia
 * `format`); the others are static payload types the echo also paces by their own clock rate.
 */

/** Milliseconds of audio in one RTP packet (Asterisk's default packetisation). */
export const FRAME_MS = 20;

/** The ARI externalMedia formats rtpsla measures end to end. */
export type MediaFormatName = 'ulaw' | 'alaw' | 'g722' | 'slin16';

export interface RtpFormat {
  /** Asterisk format name (externalMedia `format`). */
  readonly name: string;
  /** RTP payload type (static per RFC 3551; Asterisk maps slin16 to the dynamic 118). */
  readonly payloadType: number;
  /** RTP clock rate, Hz (G.722 uses 8000 by RTP convention, RFC 3551 §4.5.2). */
  readonly clockRateHz: number;
  /** RTP timestamp units per 20 ms frame. */
  readonly samplesPerFrame: number;
  /** Payload bytes in one 20 ms frame. */
  readonly payloadBytes: number;
  /** Encoding name in an SDP rtpmap line. */
  readonly sdpName: string;
  /** An ARI externalMedia format rtpsla measures end to end. */
  readonly externalMedia: boolean;
}

function format(name: string, payloadType: number, clockRateHz: number, payloadBytes: number, sdpName: string, externalMedia: boolean): RtpFormat {
  return Object.freeze({name, payloadType, clockRateHz, samplesPerFrame: (clockRateHz * FRAME_MS) / 1000, payloadBytes, sdpName, externalMedia});
}

/** Every format rtpsla knows, externalMedia ones first in the order the flags list them. */
export const RTP_FORMATS: readonly RtpFormat[] = Object.freeze([
  format('ulaw', 0, 8000, 160, 'PCMU', true),
  format('alaw', 8, 8000, 160, 'PCMA', true),
  format('g722', 9, 8000, 160, 'G722', true),
  format('slin16', 118, 16000, 640, 'L16', true),
  format('gsm', 3, 8000, 33, 'GSM', false),
  format('g729', 18, 8000, 20, 'G729', false),
]);

const BY_NAME: ReadonlyMap<string, RtpFormat> = new Map(RTP_FORMATS.map((f) => [f.name, f]));

/** The externalMedia formats rtpsla supports (docs/design.md, docs/measurement.md). */
export const SUPPORTED_FORMATS: readonly string[] = RTP_FORMATS.filter((f) => f.externalMedia).map((f) => f.name);

/** An externalMedia format (its name typed as one of MediaFormatName). */
export type MediaFormat = RtpFormat & {readonly name: MediaFormatName; readonly externalMedia: true};

/** The externalMedia format called `name`, or undefined. */
export function findFormat(name: string): MediaFormat | undefined {
  const f = BY_NAME.get(name);
  return f?.externalMedia ? (f as MediaFormat) : undefined;
}

export function isMediaFormatName(name: string): name is MediaFormatName {
  return findFormat(name) !== undefined;
}

/** The externalMedia format called `name`; RangeError naming the supported ones otherwise. */
export function formatFor(name: string): MediaFormat {
  const f = findFormat(name);
  if (f === undefined) throw new RangeError(`unsupported format "${name}" (supported: ${SUPPORTED_FORMATS.join(', ')})`);
  return f;
}

/** RTP clock rate (Hz) of an externalMedia format (RangeError when unsupported). */
export function clockRateFor(name: string): number {
  return formatFor(name).clockRateHz;
}

/** The externalMedia format sent with payload type `pt`, or undefined. */
export function findFormatByPayloadType(pt: number): MediaFormat | undefined {
  return RTP_FORMATS.find((f): f is MediaFormat => f.externalMedia && f.payloadType === pt);
}

/** Clock rate (Hz) per payload type of every format in the table (the echo's built-in map). */
export const PAYLOAD_TYPE_CLOCK_RATES: Readonly<Record<number, number>> = Object.freeze(
  Object.fromEntries(RTP_FORMATS.map((f) => [f.payloadType, f.clockRateHz])),
);
