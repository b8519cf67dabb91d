import {CUT_SHORT_SLACK_MS, MEDIA_STOP_LIMIT_MS, callEndError, expectedMedia, formatMismatchError, measuredFormat} from '../../src/load/call-outcome.js';

/** serve's record of a call that started at T (wall clock) and how load hung it up. */
const T = Date.parse('2025-01-01T10:00:00.000Z');
const startedAt = new Date(T).toISOString();

describe('callEndError: a call that ends before load hangs it up, or whose media stops, is failed', () => {
  test('Asterisk restarted 5.4 s into a 20 s hold: ended by Asterisk, with when', () => {
    const err = callEndError(
      {startedAt, endMs: 5_400, endReason: 'caller StasisEnd', upGapMaxMs: 25, upGapAtMs: 1_000, lastUpMs: 5_390},
      {durationMs: 20_000, hungUpAtMs: T + 20_050},
    );
    expect(err).toBe('ended by Asterisk after 5.4 s of 20 s');
  });

  test('serve tearing the call down itself is named as serve', () => {
    const err = callEndError({startedAt, endMs: 3_000, endReason: 'serve shutting down', upGapMaxMs: 20, upGapAtMs: 100}, {durationMs: 20_000, hungUpAtMs: T + 20_000});
    expect(err).toBe('ended by serve (serve shutting down) after 3.0 s of 20 s');
  });

  test('a call that ends when load hangs it up (teardown a few ms after the hangup) is not cut short', () => {
    expect(callEndError({startedAt, endMs: 20_030, endReason: 'caller StasisEnd', upGapMaxMs: 40, upGapAtMs: 9_000}, {durationMs: 20_000, hungUpAtMs: T + 20_000})).toBeNull();
    // serve saw the StasisStart a little after load's originate returned: teardown before the hangup, within the slack
    expect(
      callEndError({startedAt, endMs: 20_000 - CUT_SHORT_SLACK_MS + 1, endReason: 'caller StasisEnd', upGapMaxMs: 40, upGapAtMs: 9_000}, {durationMs: 20_000, hungUpAtMs: T + 20_000}),
    ).toBeNull();
    expect(
      callEndError({startedAt, endMs: 20_000 - CUT_SHORT_SLACK_MS - 1, endReason: 'caller StasisEnd', upGapMaxMs: 40, upGapAtMs: 9_000}, {durationMs: 20_000, hungUpAtMs: T + 20_000}),
    ).toBe('ended by Asterisk after 19.0 s of 20 s');
  });

  const hung = {durationMs: 20_000, hungUpAtMs: T + 20_000};

  test('media that stopped for good mid-call: from the last packet to the end of the call, with when and for how long', () => {
    const err = callEndError({startedAt, endMs: 20_010, endReason: 'caller StasisEnd', upGapMaxMs: 40, upGapAtMs: 3_000, lastUpMs: 5_000}, hung);
    expect(err).toBe('media stopped after 5.0 s of 20 s (no packet from Asterisk for 15.0 s)');
  });

  test('media that stopped and came back: the longest stretch between two packets', () => {
    const err = callEndError({startedAt, endMs: 20_010, upGapMaxMs: 1_500, upGapAtMs: 7_000, lastUpMs: 19_990}, hung);
    expect(err).toBe('media stopped after 7.0 s of 20 s (no packet from Asterisk for 1.5 s)');
    // exactly the limit is not a stop; just above it is
    expect(callEndError({startedAt, endMs: 20_010, upGapMaxMs: MEDIA_STOP_LIMIT_MS, upGapAtMs: 7_000, lastUpMs: 19_990}, hung)).toBeNull();
    expect(callEndError({startedAt, endMs: 20_010, upGapMaxMs: MEDIA_STOP_LIMIT_MS + 1, upGapAtMs: 7_000, lastUpMs: 19_990}, hung)).toBe(
      'media stopped after 7.0 s of 20 s (no packet from Asterisk for 1.0 s)',
    );
  });

  test('media until load hung up, and a teardown 2.5 s late (a late StasisEnd): the call was whole', () => {
    expect(callEndError({startedAt, endMs: 22_500, endReason: 'caller StasisEnd', upGapMaxMs: 60, upGapAtMs: 9_000, lastUpMs: 19_990}, hung)).toBeNull();
  });

  test('a call that never had media is no media stop (silentCalls judges it)', () => {
    expect(callEndError({startedAt, endMs: 20_010, upGapMaxMs: 0, upGapAtMs: null, lastUpMs: null}, hung)).toBeNull();
  });

  test('a record from an older serve (no end facts) is judged by nothing it lacks', () => {
    expect(callEndError({startedAt}, {durationMs: 20_000, hungUpAtMs: T + 20_000})).toBeNull();
  });
});

describe('formats: what was asked against what the relay measured', () => {
  test('one frame of each format: payload type and datagram size', () => {
    expect(expectedMedia('ulaw')).toEqual({payloadType: 0, packetBytes: 172});
    expect(expectedMedia('slin16')).toEqual({payloadType: 118, packetBytes: 652});
    expect(expectedMedia('opus')).toBeNull();
  });

  test('slin16 asked, ulaw measured (Asterisk transcoded): an error naming both', () => {
    expect(formatMismatchError('slin16', {payloadType: 0, packetBytes: 172})).toBe(
      'format mismatch: asked slin16 (payload type 118, 652-byte packets), measured ulaw (payload type 0, 172-byte packets)',
    );
  });

  test('the right payload type with another packet size is a mismatch too', () => {
    expect(formatMismatchError('ulaw', {payloadType: 0, packetBytes: 332})).toMatch(/^format mismatch: asked ulaw .* measured ulaw \(payload type 0, 332-byte packets\)$/);
  });

  test('matching media, or no media at all, is no format error', () => {
    expect(formatMismatchError('slin16', {payloadType: 118, packetBytes: 652})).toBeNull();
    expect(formatMismatchError('ulaw', {payloadType: null, packetBytes: null})).toBeNull();
    expect(formatMismatchError('ulaw', {})).toBeNull();
  });

  test('the run records the format most calls measured, the asked one when nothing was measured', () => {
    expect(measuredFormat('slin16', [{payloadType: 0}, {payloadType: 0}, {payloadType: 118}, {payloadType: null}])).toBe('ulaw');
    expect(measuredFormat('slin16', [{payloadType: null}, {}])).toBe('slin16');
    expect(measuredFormat('ulaw', [{payloadType: 96}])).toBe('payload type 96');
  });
});
