import {clockRateFor, findFormat, findFormatByPayloadType, formatFor, PAYLOAD_TYPE_CLOCK_RATES, RTP_FORMATS, SUPPORTED_FORMATS} from '../../src/rtp/formats.js';

describe('the codec table (src/rtp/formats.ts)', () => {
  test('externalMedia formats: payload type, clock rate, 20 ms frame and SDP name as Asterisk uses them', () => {
    expect(SUPPORTED_FORMATS).toEqual(['ulaw', 'alaw', 'g722', 'slin16']);
    expect(formatFor('ulaw')).toMatchObject({payloadType: 0, clockRateHz: 8000, samplesPerFrame: 160, payloadBytes: 160, sdpName: 'PCMU'});
    expect(formatFor('alaw')).toMatchObject({payloadType: 8, clockRateHz: 8000, samplesPerFrame: 160, payloadBytes: 160, sdpName: 'PCMA'});
    expect(formatFor('g722')).toMatchObject({payloadType: 9, clockRateHz: 8000, samplesPerFrame: 160, payloadBytes: 160, sdpName: 'G722'});
    expect(formatFor('slin16')).toMatchObject({payloadType: 118, clockRateHz: 16000, samplesPerFrame: 320, payloadBytes: 640, sdpName: 'L16'});
  });

  test('clock rates follow the format; an unsupported one is a RangeError naming the supported ones', () => {
    expect(clockRateFor('ulaw')).toBe(8000);
    expect(clockRateFor('g722')).toBe(8000);
    expect(clockRateFor('slin16')).toBe(16000);
    expect(() => clockRateFor('opus')).toThrow(/unsupported format "opus" \(supported: ulaw, alaw, g722, slin16\)/);
    // known to the echo's pacing, but not an externalMedia format rtpsla measures
    expect(findFormat('gsm')).toBeUndefined();
    expect(() => formatFor('g729')).toThrow(RangeError);
  });

  test('payload type → format for externalMedia formats only', () => {
    expect(findFormatByPayloadType(118)?.name).toBe('slin16');
    expect(findFormatByPayloadType(8)?.name).toBe('alaw');
    expect(findFormatByPayloadType(3)).toBeUndefined();
    expect(findFormatByPayloadType(96)).toBeUndefined();
  });

  test("the echo's payload type → clock rate map: 0/3/8/9/18 → 8000, 118 → 16000, nothing else", () => {
    expect(PAYLOAD_TYPE_CLOCK_RATES).toEqual({0: 8000, 3: 8000, 8: 8000, 9: 8000, 18: 8000, 118: 16000});
  });

  test('payload types are unique', () => {
    expect(new Set(RTP_FORMATS.map((f) => f.payloadType)).size).toBe(RTP_FORMATS.length);
  });
});
