/**
 * Per-source FIFO of datagrams waiting for their slot, kept sorted by due time.
 * A ring buffer (power-of-two capacity, grown by doubling) of the received Buffers (never
 * copied) and their due times. Packets of one source normally arrive in timestamp order, so an
 * insert is an O(1) append; a reordered packet is moved into place from the tail (O(k) for a
 * packet k places out of order).
 */
export class PacketQueue {
  private bufs: (Buffer | undefined)[];
  private dues: Float64Array;
  private mask: number;
  private head = 0;
  private count = 0;

  constructor(initialCapacity = 8) {
    let cap = 1;
    while (cap < initialCapacity) cap <<= 1;
    this.bufs = new Array<Buffer | undefined>(cap).fill(undefined);
    this.dues = new Float64Array(cap);
    this.mask = cap - 1;
  }

  get length(): number {
    return this.count;
  }

  /** Due time (µs) of the earliest packet; +Infinity when empty. */
  headDue(): number {
    return this.count === 0 ? Infinity : this.dues[this.head];
  }

  /** Insert keeping due-time order (stable: equal due times stay in arrival order). Returns true when it became the head. */
  insert(buf: Buffer, dueUs: number): boolean {
    if (this.count === this.bufs.length) this.grow();
    const mask = this.mask;
    let pos = (this.head + this.count) & mask;
    let moved = 0;
    // Shift later-due packets one slot towards the tail until the slot for `dueUs` is found.
    while (moved < this.count) {
      const prev = (pos - 1) & mask;
      if (this.dues[prev] <= dueUs) break;
      this.bufs[pos] = this.bufs[prev];
      this.dues[pos] = this.dues[prev];
      pos = prev;
      moved++;
    }
    this.bufs[pos] = buf;
    this.dues[pos] = dueUs;
    this.count++;
    return moved === this.count - 1;
  }

  /** Remove and return the head packet (caller checks `length` first). */
  shift(): Buffer {
    const i = this.head;
    const buf = this.bufs[i]!;
    this.bufs[i] = undefined;
    this.head = (i + 1) & this.mask;
    this.count--;
    return buf;
  }

  clear(): void {
    this.bufs.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const oldCap = this.bufs.length;
    const cap = oldCap * 2;
    const bufs = new Array<Buffer | undefined>(cap).fill(undefined);
    const dues = new Float64Array(cap);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & this.mask;
      bufs[k] = this.bufs[i];
      dues[k] = this.dues[i];
    }
    this.bufs = bufs;
    this.dues = dues;
    this.mask = cap - 1;
    this.head = 0;
  }
}
