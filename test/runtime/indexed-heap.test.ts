import {IndexedMinHeap, type HeapItem} from '../../src/runtime/indexed-heap.js';

interface Item extends HeapItem {
  id: number;
  headDueUs: number;
}

function item(id: number, due: number): Item {
  return {id, headDueUs: due, heapIndex: -1};
}

/** Deterministic PRNG so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('IndexedMinHeap', () => {
  it('pops items in due order', () => {
    const h = new IndexedMinHeap<Item>((x) => x.headDueUs);
    const dues = [50, 10, 40, 30, 20, 60, 0];
    dues.forEach((d, i) => h.push(item(i, d)));
    const out: number[] = [];
    while (h.size > 0) out.push(h.pop()!.headDueUs);
    expect(out).toEqual([...dues].sort((a, b) => a - b));
    expect(h.pop()).toBeUndefined();
  });

  it('stays ordered through random push/update/remove/pop and tracks heapIndex', () => {
    const rand = rng(42);
    const h = new IndexedMinHeap<Item>((x) => x.headDueUs);
    const live = new Set<Item>();
    let next = 0;
    for (let step = 0; step < 5000; step++) {
      const r = rand();
      if (r < 0.4 || live.size === 0) {
        const it = item(next++, Math.floor(rand() * 1000));
        h.push(it);
        live.add(it);
      } else if (r < 0.6) {
        const arr = [...live];
        const it = arr[Math.floor(rand() * arr.length)];
        it.headDueUs = Math.floor(rand() * 1000);
        h.update(it);
      } else if (r < 0.75) {
        const arr = [...live];
        const it = arr[Math.floor(rand() * arr.length)];
        h.remove(it);
        expect(it.heapIndex).toBe(-1);
        live.delete(it);
      } else {
        const min = Math.min(...[...live].map((x) => x.headDueUs));
        const top = h.pop()!;
        expect(top.headDueUs).toBe(min);
        expect(top.heapIndex).toBe(-1);
        live.delete(top);
      }
      expect(h.size).toBe(live.size);
    }
    for (const it of live) expect(it.heapIndex).toBeGreaterThanOrEqual(0);
    const drained: number[] = [];
    while (h.size > 0) drained.push(h.pop()!.headDueUs);
    expect(drained).toEqual([...drained].sort((a, b) => a - b));
  });

  it('remove of an item not in the heap is a no-op', () => {
    const h = new IndexedMinHeap<Item>((x) => x.headDueUs);
    const a = item(1, 5);
    h.remove(a);
    h.push(a);
    h.remove(a);
    h.remove(a);
    expect(h.size).toBe(0);
  });
});
