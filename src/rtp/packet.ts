/**
 * RTP fixed header (RFC 3550 §5.1), parsed in place from a Buffer into a caller-owned
 * object so the per-packet path allocates nothing.
 *
 *  0                   1                   2                   3
 *  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  |                           timestamp                           |
 *  |           synchronization source (SSRC) identifier            |
 *  |            contributing source (CSRC) identifiers  (CC × 32)  |
 *  | [extension: profile(16) length(16, in 32-bit words) ...]      |
 */

export const RTP_HEADER_BYTES = 12;

/** Why a datagram is not an RTP packet. `Ok` (0) means it parsed. */
export const enum RtpParse {
  Ok = 0,
  TooShort = 1,
  BadVersion = 2,
  CsrcPastEnd = 3,
  ExtensionPastEnd = 4,
  PaddingPastEnd = 5,
}

export const RTP_PARSE_REASONS: Readonly<Record<RtpParse, string>> = {
  [RtpParse.Ok]: 'ok',
  [RtpParse.TooShort]: 'shorter than the 12-byte RTP header',
  [RtpParse.BadVersion]: 'RTP version is not 2',
  [RtpParse.CsrcPastEnd]: 'CSRC count runs past the end of the packet',
  [RtpParse.ExtensionPastEnd]: 'header extension length runs past the end of the packet',
  [RtpParse.PaddingPastEnd]: 'padding length runs past the payload',
};

export interface RtpPacket {
  version: number;
  padding: boolean;
  extension: boolean;
  csrcCount: number;
  marker: boolean;
  payloadType: number;
  /** 16-bit sequence number. */
  sequence: number;
  /** 32-bit unsigned RTP timestamp. */
  timestamp: number;
  /** 32-bit unsigned SSRC. */
  ssrc: number;
  /** Byte offset where the payload starts (after CSRCs and extension). */
  payloadOffset: number;
  /** Payload length in bytes (padding excluded). */
  payloadLength: number;
}

export function newRtpPacket(): RtpPacket {
  return {
    version: 2,
    padding: false,
    extension: false,
    csrcCount: 0,
    marker: false,
    payloadType: 0,
    sequence: 0,
    timestamp: 0,
    ssrc: 0,
    payloadOffset: RTP_HEADER_BYTES,
    payloadLength: 0,
  };
}

/**
 * Parse the RTP header of `buf` (length `len`, default `buf.length`) into `out`.
 * Returns `RtpParse.Ok` or the reason the datagram is malformed; `out` is then undefined-ish.
 */
export function parseRtp(buf: Buffer, out: RtpPacket, len: number = buf.length): RtpParse {
  if (len < RTP_HEADER_BYTES) return RtpParse.TooShort;
  const b0 = buf[0];
  const version = b0 >>> 6;
  if (version !== 2) return RtpParse.BadVersion;
  const csrcCount = b0 & 0x0f;
  let offset = RTP_HEADER_BYTES + csrcCount * 4;
  if (offset > len) return RtpParse.CsrcPastEnd;
  const extension = (b0 & 0x10) !== 0;
  if (extension) {
    if (offset + 4 > len) return RtpParse.ExtensionPastEnd;
    const words = buf.readUInt16BE(offset + 2);
    offset += 4 + words * 4;
    if (offset > len) return RtpParse.ExtensionPastEnd;
  }
  const padding = (b0 & 0x20) !== 0;
  let end = len;
  if (padding) {
    const padLen = buf[len - 1];
    if (padLen === 0 || offset + padLen > len) return RtpParse.PaddingPastEnd;
    end = len - padLen;
  }
  const b1 = buf[1];
  out.version = version;
  out.padding = padding;
  out.extension = extension;
  out.csrcCount = csrcCount;
  out.marker = (b1 & 0x80) !== 0;
  out.payloadType = b1 & 0x7f;
  out.sequence = buf.readUInt16BE(2);
  out.timestamp = buf.readUInt32BE(4);
  out.ssrc = buf.readUInt32BE(8);
  out.payloadOffset = offset;
  out.payloadLength = end - offset;
  return RtpParse.Ok;
}

/**
 * Write the 12-byte fixed header (no CSRCs, no extension, no padding) into `buf` at 0.
 * Used by the sim and tests to build packets; returns the header length.
 */
export function writeRtpHeader(
  buf: Buffer,
  h: {marker?: boolean; payloadType: number; sequence: number; timestamp: number; ssrc: number},
): number {
  buf[0] = 0x80;
  buf[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  buf.writeUInt16BE(h.sequence & 0xffff, 2);
  buf.writeUInt32BE(h.timestamp >>> 0, 4);
  buf.writeUInt32BE(h.ssrc >>> 0, 8);
  return RTP_HEADER_BYTES;
}
