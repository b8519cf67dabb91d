import {CallMeter} from '../../src/metrics/call-stats.js';
import {CallRecordSchema} from '../../src/protocol/report.js';
import {callRecordFrom, reportCallRecord, unrecordedCallRecord} from '../../src/metrics/call-record-from.js';
import {ServeCallRecordSchema} from '../../src/protocol/serve-api.js';
import {rtpPacket} from '../helpers/rtp.js';

/** Up packets seq0.. of SSRC 42 every 20 ms from `t0Us`, each echoed back 1 ms later. */
function stream(m: CallMeter, n: number, seq0: number, ts0: number, t0Us: number): void {
  for (let i = 0; i < n; i++) {
    const buf = rtpPacket({seq: (seq0 + i) & 0xffff, ts: (ts0 + i * 160) >>> 0, ssrc: 42});
    const t = t0Us + i * 20_000;
    m.up(buf, buf.length, t, t + 10);
    m.back(buf, buf.length, t + 1010);
  }
}

const meta = {
  index: 3,
  runId: 'r1',
  channelId: 'r1-3',
  externalMediaChannelId: 'em-3',
  bridgeId: 'b-3',
  port: 40_000,
  startedAt: new Date('2026-12-01T10:00:00Z'),
  endedAt: new Date('2026-12-01T10:00:03Z'),
  tStartUs: 900_000,
  tEndUs: 3_100_000,
  setupMs: 12,
  endReason: 'caller left Stasis',
  error: null,
};

describe('call record: sequence numbers out of range (RFC 3550 A.1)', () => {
  test('one forged packet far ahead is in outOfRangeUp of the serve record and the report entry, not in lost', () => {
    const m = new CallMeter(8000);
    stream(m, 50, 1000, 160, 1_000_000);
    const forged = rtpPacket({seq: 1049 + 32_000, ts: 160 + 50 * 160, ssrc: 42});
    m.up(forged, forged.length, 1_995_000, 1_995_010);
    m.back(forged, forged.length, 1_996_000);
    stream(m, 50, 1050, 160 + 50 * 160, 2_000_000);

    const record = callRecordFrom(m.snapshot(), meta);
    expect(record.error).toBeNull();
    expect(ServeCallRecordSchema.parse(record)).toMatchObject({outOfRangeUp: 1, outOfRangeBack: 0, resyncsUp: 0, resyncsBack: 0, expected: 100});
    // the echoed copy matched no up packet: unmatched, not a second out-of-range count
    expect(record.unmatchedBack).toBe(1);
    const entry = CallRecordSchema.parse(reportCallRecord(record));
    expect(entry).toMatchObject({packetsUp: 101, packetsBack: 100, lost: 0, outOfRangeUp: 1, outOfRangeBack: 0});
  });

  test('a sender that restarts its numbering is a resync, not loss and not out of range twice', () => {
    const m = new CallMeter(8000);
    stream(m, 50, 1000, 160, 1_000_000);
    stream(m, 50, 40_000, 160 + 50 * 160, 2_000_000);
    const entry = reportCallRecord(callRecordFrom(m.snapshot(), meta));
    // the first packet after the jump is ignored (out of range); the second confirms the restart
    expect(entry).toMatchObject({packetsUp: 100, packetsBack: 99, lost: 0, outOfRangeUp: 1, resyncsUp: 1, outOfRangeBack: 0, resyncsBack: 0});
  });

  test('a call serve never recorded reports zero, and older reports without the fields stay valid', () => {
    const none = unrecordedCallRecord({index: 0, channelId: null, startedAt: meta.startedAt, endedAt: meta.endedAt, error: 'originate failed: 500'});
    expect(none).toMatchObject({outOfRangeUp: 0, outOfRangeBack: 0, resyncsUp: 0, resyncsBack: 0});
    const {outOfRangeUp: _a, outOfRangeBack: _b, resyncsUp: _c, resyncsBack: _d, ...older} = none;
    expect(CallRecordSchema.safeParse(older).success).toBe(true);
  });
});
