/**
 * Send-time ring: remembers when each of the last `size` packets was sent, by a non-negative
 * integer key (a 16-bit sequence number, or an extended one), so a packet coming back can be
 * matched to its send time. Slot = key & (size − 1): a key older than `size` packets is
 * overwritten and no longer matches. Optional value columns keep further per-packet figures
 * beside the send time. Typed arrays only: nothing is allocated per packet.
 */
export class SendRing {
  private readonly mask: number;
  private readonly keys: Int32Array;
  private readonly sentUs: Float64Array;
  private readonly values: Float64Array;

  /** `size`: a power of two; `columns`: extra numbers kept per packet (read with value()). */
  constructor(
    readonly size = 1024,
    private readonly columns = 0,
  ) {
    if (size < 1 || (size & (size - 1)) !== 0) throw new RangeError(`SendRing size ${size} is not a power of two`);
    this.mask = size - 1;
    this.keys = new Int32Array(size).fill(-1);
    this.sentUs = new Float64Array(size);
    this.values = new Float64Array(size * columns);
  }

  /** Remember packet `key` as sent at `tSentUs`; returns its slot (for setValue). */
  record(key: number, tSentUs: number): number {
    const slot = key & this.mask;
    this.keys[slot] = key;
    this.sentUs[slot] = tSentUs;
    return slot;
  }

  /** The slot of packet `key`, or -1 when it is not (or no longer) in the ring. */
  find(key: number): number {
    const slot = key & this.mask;
    return this.keys[slot] === key ? slot : -1;
  }

  /** Like find(), and forgets the key so a second copy of the packet does not match. */
  take(key: number): number {
    const slot = this.find(key);
    if (slot >= 0) this.keys[slot] = -1;
    return slot;
  }

  /** Send time (µs) kept in `slot` (from record/find/take). */
  sentAtUs(slot: number): number {
    return this.sentUs[slot];
  }

  setValue(slot: number, column: number, value: number): void {
    this.values[slot * this.columns + column] = value;
  }

  value(slot: number, column: number): number {
    return this.values[slot * this.columns + column];
  }

  /** Forget every packet. */
  clear(): void {
    this.keys.fill(-1);
  }
}
