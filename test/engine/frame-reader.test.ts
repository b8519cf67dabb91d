import {FrameType, RECORD_BYTES} from '../../src/engine/engine-types.js';
import {FrameReader, type FrameHandler, type RecordViews} from '../../src/engine/frame-reader.js';

/** One record as native/PROTOCOL.md lays it out (little-endian), with distinct values in every field. */
function record(id: number, kind: number, seq: number, tRecvNs: bigint, aux: number): Buffer {
  const b = Buffer.alloc(RECORD_BYTES);
  b.writeUInt32LE(id, 0);
  b[4] = kind;
  b[5] = 96 + (id & 7);
  b[6] = id & 0x0f;
  b.writeUInt16LE(seq, 8);
  b.writeUInt16LE(172, 10);
  b.writeUInt32LE(0xfedcba98 - seq, 12);
  b.writeUInt32LE(0x12345678 + id, 16);
  b.writeBigInt64LE(tRecvNs, 20);
  b.writeBigInt64LE(tRecvNs + 21_000n, 28);
  b.writeInt32LE(aux, 36);
  return b;
}

function frame(type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32LE(payload.length + 1, 0);
  h[4] = type;
  return Buffer.concat([h, payload]);
}

/** What the handler saw, as text lines, so two parses of one stream compare as a whole. */
class Seen implements FrameHandler {
  readonly lines: string[] = [];
  onRecordViews(v: RecordViews, count: number): void {
    for (let i = 0; i < count; i++) {
      const w = i * (RECORD_BYTES / 4);
      const tRecv = BigInt(v.u32[w + 5]) + (BigInt(v.i32[w + 6]) << 32n);
      const tSent = BigInt(v.u32[w + 7]) + (BigInt(v.i32[w + 8]) << 32n);
      this.lines.push(
        `rec id=${v.u32[w]} kind=${v.u8[w * 4 + 4]} pt=${v.u8[w * 4 + 5]} flags=${v.u8[w * 4 + 6]} seq=${v.u16[w * 2 + 4]} size=${v.u16[w * 2 + 5]} ` +
          `ts=${v.u32[w + 3]} ssrc=${v.u32[w + 4]} recv=${tRecv} sent=${tSent} aux=${v.i32[w + 9]}`,
      );
    }
  }
  onTextFrame(type: FrameType.Reply | FrameType.Event, text: string): void {
    this.lines.push(`${type === FrameType.Reply ? 'reply' : 'event'} ${text}`);
  }
}

const records = (first: number, n: number): Buffer =>
  Buffer.concat(Array.from({length: n}, (_, i) => record(first + i, i % 4, 65530 + i, 5_000_000_000_000n + BigInt(i) * 20_000_000n, -i)));

// ready event, a batch of 5 records, a reply, a batch of 3, an unknown frame type, an empty event
const stream = Buffer.concat([
  frame(FrameType.Event, Buffer.from('{"event":"ready","cpus":"all"}')),
  frame(FrameType.Records, records(1, 5)),
  frame(FrameType.Reply, Buffer.from('{"id":1,"ok":true,"note":"é"}')),
  frame(FrameType.Records, records(100, 3)),
  frame(9, Buffer.from('ignored')),
  frame(FrameType.Event, Buffer.alloc(0)),
]);

function parse(chunks: Buffer[], scratchRecords?: number): string[] {
  const seen = new Seen();
  const r = new FrameReader(seen, scratchRecords);
  for (const c of chunks) r.push(c);
  return seen.lines;
}

describe('FrameReader', () => {
  const whole = parse([stream]);

  it('hands on every record field and every text frame in stream order', () => {
    expect(whole).toHaveLength(1 + 5 + 1 + 3 + 1);
    expect(whole[0]).toBe('event {"event":"ready","cpus":"all"}');
    expect(whole[1]).toBe(
      'rec id=1 kind=0 pt=97 flags=1 seq=65530 size=172 ts=4275813022 ssrc=305419897 recv=5000000000000 sent=5000000021000 aux=0',
    );
    expect(whole[5]).toBe(
      'rec id=5 kind=0 pt=101 flags=5 seq=65534 size=172 ts=4275813018 ssrc=305419901 recv=5000080000000 sent=5000080021000 aux=-4',
    );
    expect(whole[6]).toBe('reply {"id":1,"ok":true,"note":"é"}');
    expect(whole[7]).toMatch(/^rec id=100 kind=0 /);
    expect(whole[9]).toMatch(/^rec id=102 kind=2 /);
    expect(whole[10]).toBe('event ');
  });

  it('gives the same result however the stream is cut into chunks', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      expect(parse([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(whole);
    }
    expect(parse([...stream].map((byte) => Buffer.from([byte])))).toEqual(whole);
  });

  it('hands on a batch larger than its scratch buffer in pieces, in order', () => {
    for (const size of [1, 2, 4]) {
      expect(parse([stream], size)).toEqual(whole);
      expect(parse([stream.subarray(0, 77), stream.subarray(77, 150), stream.subarray(150)], size)).toEqual(whole);
    }
  });

  it('hands on a batch in one piece once its frame is complete', () => {
    const batches: number[] = [];
    const r = new FrameReader({onRecordViews: (_v, count) => batches.push(count), onTextFrame: () => undefined});
    const batch = frame(FrameType.Records, records(1, 5));
    r.push(batch.subarray(0, 5 + 2 * RECORD_BYTES + 7));
    expect(batches).toEqual([]);
    r.push(batch.subarray(5 + 2 * RECORD_BYTES + 7));
    expect(batches).toEqual([5]);
  });

  it('drops the tail of a records frame that is not whole records and reads the next frame', () => {
    const odd = Buffer.concat([frame(FrameType.Records, Buffer.concat([records(1, 2), Buffer.alloc(13, 0xff)])), frame(FrameType.Reply, Buffer.from('{"id":2}'))]);
    const lines = parse([odd]);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('reply {"id":2}');
    expect(parse([odd.subarray(0, 90), odd.subarray(90)])).toEqual(lines);
  });
});
