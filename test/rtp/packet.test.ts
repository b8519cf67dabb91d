import {newRtpPacket, parseRtp, RtpParse, RTP_PARSE_REASONS, writeRtpHeader} from '../../src/rtp/packet.js';
import {rtpPacket} from '../helpers/rtp.js';

describe('RTP header parse/serialise', () => {
  test('round trip of every fixed-header field', () => {
    const buf = Buffer.alloc(172);
    writeRtpHeader(buf, {marker: true, payloadType: 118, sequence: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef});
    const p = newRtpPacket();
    expect(parseRtp(buf, p)).toBe(RtpParse.Ok);
    expect(p).toMatchObject({version: 2, padding: false, extension: false, csrcCount: 0, marker: true, payloadType: 118,
      sequence: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, payloadOffset: 12, payloadLength: 160});
  });

  test('recorded Asterisk ulaw header bytes parse as recorded (PT 0, 172 bytes)', () => {
    const buf = rtpPacket({seq: 31565, ts: 160, ssrc: 564503933});
    const p = newRtpPacket();
    expect(parseRtp(buf, p)).toBe(RtpParse.Ok);
    expect([p.sequence, p.timestamp, p.ssrc, p.payloadType, p.marker, p.payloadLength]).toEqual([31565, 160, 564503933, 0, false, 160]);
  });

  test('CSRCs and a header extension move the payload offset', () => {
    const buf = Buffer.alloc(12 + 8 + 4 + 8 + 20);
    writeRtpHeader(buf, {payloadType: 0, sequence: 1, timestamp: 2, ssrc: 3});
    buf[0] = 0x80 | 0x10 | 2; // X=1, CC=2
    buf.writeUInt16BE(0xbede, 20);
    buf.writeUInt16BE(2, 22); // 2 words of extension
    const p = newRtpPacket();
    expect(parseRtp(buf, p)).toBe(RtpParse.Ok);
    expect(p.csrcCount).toBe(2);
    expect(p.extension).toBe(true);
    expect(p.payloadOffset).toBe(12 + 8 + 4 + 8);
    expect(p.payloadLength).toBe(20);
  });

  test('padding is excluded from the payload length', () => {
    const buf = rtpPacket({seq: 1, ts: 1, ssrc: 1, payloadBytes: 20});
    buf[0] |= 0x20;
    buf[buf.length - 1] = 4;
    const p = newRtpPacket();
    expect(parseRtp(buf, p)).toBe(RtpParse.Ok);
    expect(p.payloadLength).toBe(16);
  });

  test.each([
    ['short', Buffer.alloc(11, 0x80), RtpParse.TooShort],
    ['version 1', (() => { const b = rtpPacket({seq: 1, ts: 1, ssrc: 1}); b[0] = 0x40; return b; })(), RtpParse.BadVersion],
    ['version 0 (e.g. STUN)', Buffer.alloc(20, 0), RtpParse.BadVersion],
    ['CSRC count past the end', (() => { const b = rtpPacket({seq: 1, ts: 1, ssrc: 1, payloadBytes: 8}); b[0] = 0x80 | 5; return b; })(), RtpParse.CsrcPastEnd],
    ['extension header past the end', (() => { const b = Buffer.alloc(14); writeRtpHeader(b, {payloadType: 0, sequence: 1, timestamp: 1, ssrc: 1}); b[0] |= 0x10; return b; })(), RtpParse.ExtensionPastEnd],
    ['extension length past the end', (() => { const b = rtpPacket({seq: 1, ts: 1, ssrc: 1, payloadBytes: 8}); b[0] |= 0x10; b.writeUInt16BE(100, 14); return b; })(), RtpParse.ExtensionPastEnd],
    ['padding past the payload', (() => { const b = rtpPacket({seq: 1, ts: 1, ssrc: 1, payloadBytes: 4}); b[0] |= 0x20; b[b.length - 1] = 200; return b; })(), RtpParse.PaddingPastEnd],
  ])('malformed: %s is rejected with its reason', (_name, buf, reason) => {
    const p = newRtpPacket();
    const r = parseRtp(buf, p);
    expect(r).toBe(reason);
    expect(RTP_PARSE_REASONS[r]).not.toBe('ok');
  });

  test('len argument bounds parsing to the received bytes', () => {
    const buf = rtpPacket({seq: 1, ts: 1, ssrc: 1});
    expect(parseRtp(buf, newRtpPacket(), 8)).toBe(RtpParse.TooShort);
  });
});
