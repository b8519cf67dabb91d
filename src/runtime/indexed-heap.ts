/**
 * Indexed binary min-heap (the sim's stream scheduler keys it by each stream's next deadline).
 * Each element remembers its own position (`heapIndex`, -1 when not in the heap) so an owner can
 * re-key or remove any element in O(log n) without searching.
 * Arrays only; no allocation per operation once the backing array has grown.
 */

export interface HeapItem {
  /** Position in the heap array, or -1 when not in it. Owned by the heap. */
  heapIndex: number;
}

export class IndexedMinHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  /** `keyOf(item)`: the item's key (e.g. a due time in µs); read on every comparison. */
  constructor(private readonly keyOf: (item: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  /** The item with the smallest key, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const i = this.items.length;
    this.items.push(item);
    item.heapIndex = i;
    this.siftUp(i);
  }

  /** Remove and return the smallest item. */
  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      last.heapIndex = 0;
      this.siftDown(0);
    }
    top.heapIndex = -1;
    return top;
  }

  /** Remove `item` wherever it is (no-op when it is not in the heap). */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    const items = this.items;
    const last = items.pop()!;
    item.heapIndex = -1;
    if (i < items.length) {
      items[i] = last;
      last.heapIndex = i;
      this.update(last);
    }
  }

  /** Restore heap order after `item`'s key changed (either direction). */
  update(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    if (i > 0 && this.keyOf(this.items[(i - 1) >> 1]) > this.keyOf(item)) this.siftUp(i);
    else this.siftDown(i);
  }

  clear(): void {
    for (const item of this.items) item.heapIndex = -1;
    this.items.length = 0;
  }

  private siftUp(i: number): void {
    const items = this.items;
    const item = items[i];
    const key = this.keyOf(item);
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex];
      if (this.keyOf(parent) <= key) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private siftDown(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i];
    const key = this.keyOf(item);
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.keyOf(items[right]) < this.keyOf(items[left]) ? right : left;
      const c = items[child];
      if (this.keyOf(c) >= key) break;
      items[i] = c;
      c.heapIndex = i;
      i = child;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
