import {readFileSync} from 'node:fs';
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

  // Golden vectors: headers Asterisk sent (test/sim/fixtures/rtp-*-sample.jsonl), written out as
  // hex by hand from the recorded fields, not by our serialiser. The payload (not recorded)
  // pads each to its recorded size.
  test.each([
    ['ulaw, first packet', 'rtp-ulaw-sample.jsonl', 0, '80007b4d000000a021a5a57d', 0xff],
    ['ulaw, tenth packet', 'rtp-ulaw-sample.jsonl', 9, '80007b560000064021a5a57d', 0xff],
    ['slin16 (PT 118), first packet', 'rtp-slin16-sample.jsonl', 0, '8076912d0000014039ee5e78', 0x00],
  ])('recorded Asterisk header bytes parse as recorded: %s', (_name, file, line, headerHex, fill) => {
    const rec = JSON.parse(readFileSync(new URL(`../sim/fixtures/${file}`, import.meta.url), 'utf8').split('\n')[line]) as {
      size: number; version: number; marker: number; pt: number; seq: number; ts: number; ssrc: number;
    };
    const header = Buffer.from(headerHex, 'hex');
    const buf = Buffer.concat([header, Buffer.alloc(rec.size - header.length, fill)]);
    const p = newRtpPacket();
    expect(parseRtp(buf, p)).toBe(RtpParse.Ok);
    expect(p).toEqual({version: rec.version, padding: false, extension: false, csrcCount: 0, marker: rec.marker === 1, payloadType: rec.pt,
      sequence: rec.seq, timestamp: rec.ts, ssrc: rec.ssrc, payloadOffset: 12, payloadLength: rec.size - 12});
  });

  test('writeRtpHeader writes the recorded header byte for byte', () => {
    const buf = Buffer.alloc(12);
    writeRtpHeader(buf, {payloadType: 118, sequence: 37165, timestamp: 320, ssrc: 971923064});
    expect(buf.toString('hex')).toBe('8076912d0000014039ee5e78');
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
