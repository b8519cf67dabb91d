import {writeRtpHeader} from '../../src/rtp/packet.js';

/** Build one RTP packet (12-byte header + payload of `payloadBytes` bytes filled with `fill`). */
export function rtpPacket(h: {seq: number; ts: number; ssrc: number; pt?: number; marker?: boolean; payloadBytes?: number; fill?: number}): Buffer {
  const buf = Buffer.alloc(12 + (h.payloadBytes ?? 160), h.fill ?? 0xff);
  writeRtpHeader(buf, {payloadType: h.pt ?? 0, sequence: h.seq, timestamp: h.ts, ssrc: h.ssrc, marker: h.marker});
  return buf;
}
