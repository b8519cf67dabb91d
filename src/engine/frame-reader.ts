import {FrameType, RECORD_BYTES} from './engine-types.js';

/** Typed-array views of one scratch buffer of records (native/PROTOCOL.md's layout, host order). */
export interface RecordViews {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
}

/** What a FrameReader hands on. */
export interface FrameHandler {
  /** `count` whole records at the start of `views`; the views are reused after this call returns. */
  onRecordViews(views: RecordViews, count: number): void;
  /** A reply or event frame's JSON text. */
  onTextFrame(type: FrameType.Reply | FrameType.Event, text: string): void;
}

/** Records the scratch buffer holds: the engine's largest batch (8192 × 40 bytes = 320 KiB). */
export const SCRATCH_RECORDS = 8192;
const HEADER_BYTES = 5;

/**
 * Parses the engine's stdout stream (u32 length, u8 type, payload; native/PROTOCOL.md) as it
 * arrives, whatever the chunk boundaries. Record payloads are copied straight from each chunk into
 * one aligned scratch buffer, allocated once, and a whole batch is handed on as typed-array views
 * when its frame is complete (the handler can then take it call by call): nothing is allocated
 * per record or per batch, and a batch larger than a pipe read is never joined into a new buffer.
 * Frames are handed on in stream order, so the records written before a reply are handled before it.
 */
export class FrameReader {
  private readonly views: RecordViews;
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  /** Inside a frame's payload: its type and the payload bytes still to come. */
  private inFrame = false;
  private frameType = 0;
  private frameLeft = 0;
  /** Bytes of records in the scratch buffer (whole records and at most one partial one). */
  private recordFill = 0;
  private textParts: Buffer[] = [];

  constructor(
    private readonly handler: FrameHandler,
    scratchRecords = SCRATCH_RECORDS,
  ) {
    const ab = new ArrayBuffer(scratchRecords * RECORD_BYTES);
    this.views = {u8: new Uint8Array(ab), u16: new Uint16Array(ab), u32: new Uint32Array(ab), i32: new Int32Array(ab)};
  }

  push(chunk: Buffer): void {
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      if (!this.inFrame) {
        off = this.readHeader(chunk, off);
        if (this.inFrame && this.frameLeft === 0) this.endFrame();
        continue;
      }
      const take = Math.min(this.frameLeft, n - off);
      if (this.frameType === FrameType.Records) this.takeRecords(chunk, off, take);
      else if (this.frameType === FrameType.Reply || this.frameType === FrameType.Event) this.textParts.push(chunk.subarray(off, off + take));
      off += take;
      this.frameLeft -= take;
      if (this.frameLeft === 0) this.endFrame();
    }
  }

  /** Consume header bytes from `chunk` at `off`; returns the new offset. */
  private readHeader(chunk: Buffer, off: number): number {
    let len: number;
    let type: number;
    if (this.headerFill === 0 && chunk.length - off >= HEADER_BYTES) {
      len = chunk.readUInt32LE(off);
      type = chunk[off + 4];
      off += HEADER_BYTES;
    } else {
      const take = Math.min(HEADER_BYTES - this.headerFill, chunk.length - off);
      chunk.copy(this.header, this.headerFill, off, off + take);
      this.headerFill += take;
      off += take;
      if (this.headerFill < HEADER_BYTES) return off;
      this.headerFill = 0;
      len = this.header.readUInt32LE(0);
      type = this.header[4];
    }
    this.inFrame = true;
    this.frameType = type;
    this.frameLeft = Math.max(0, len - 1);
    this.recordFill = 0;
    return off;
  }

  private takeRecords(chunk: Buffer, off: number, bytes: number): void {
    const u8 = this.views.u8;
    while (bytes > 0) {
      const c = Math.min(u8.length - this.recordFill, bytes);
      chunk.copy(u8, this.recordFill, off, off + c);
      this.recordFill += c;
      off += c;
      bytes -= c;
      if (this.recordFill === u8.length) this.flushRecords();
    }
  }

  /** Hand on the whole records in the scratch buffer and keep the partial one at its start. */
  private flushRecords(): void {
    const count = Math.floor(this.recordFill / RECORD_BYTES);
    if (count === 0) return;
    this.handler.onRecordViews(this.views, count);
    const used = count * RECORD_BYTES;
    const rest = this.recordFill - used;
    if (rest > 0) this.views.u8.copyWithin(0, used, this.recordFill);
    this.recordFill = rest;
  }

  private endFrame(): void {
    this.inFrame = false;
    if (this.frameType === FrameType.Records) {
      this.flushRecords();
      this.recordFill = 0; // a frame that is not whole records: its tail is no record
      return;
    }
    if (this.frameType !== FrameType.Reply && this.frameType !== FrameType.Event) return;
    const parts = this.textParts;
    this.textParts = [];
    const text = parts.length === 1 ? parts[0].toString('utf8') : Buffer.concat(parts).toString('utf8');
    this.handler.onTextFrame(this.frameType, text);
  }
}
