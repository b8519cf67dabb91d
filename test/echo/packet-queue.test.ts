import {PacketQueue} from '../../src/echo/packet-queue.js';

const b = (n: number): Buffer => Buffer.from([n]);

describe('PacketQueue', () => {
  it('is FIFO for in-order inserts and grows past its initial capacity', () => {
    const q = new PacketQueue(2);
    for (let i = 0; i < 100; i++) q.insert(b(i), i * 10);
    expect(q.length).toBe(100);
    expect(q.headDue()).toBe(0);
    const out: number[] = [];
    while (q.length > 0) out.push(q.shift()[0]);
    expect(out).toEqual([...Array(100).keys()]);
    expect(q.headDue()).toBe(Infinity);
  });

  it('puts a reordered packet in due order and says when it became the head', () => {
    const q = new PacketQueue(4);
    expect(q.insert(b(2), 20)).toBe(true);
    expect(q.insert(b(3), 30)).toBe(false);
    expect(q.insert(b(1), 10)).toBe(true);
    expect(q.insert(b(25), 25)).toBe(false);
    expect(q.insert(b(99), 30)).toBe(false); // equal due keeps arrival order
    const out: number[] = [];
    while (q.length > 0) out.push(q.shift()[0]);
    expect(out).toEqual([1, 2, 25, 3, 99]);
  });

  it('keeps order across ring wrap-around', () => {
    const q = new PacketQueue(4);
    let next = 0;
    const out: number[] = [];
    for (let round = 0; round < 50; round++) {
      q.insert(b(next), next);
      next++;
      q.insert(b(next), next);
      next++;
      out.push(q.shift()[0]);
    }
    while (q.length > 0) out.push(q.shift()[0]);
    expect(out).toEqual([...Array(100).keys()]);
  });

  it('returns the same Buffer object it was given (no copy)', () => {
    const q = new PacketQueue();
    const buf = b(7);
    q.insert(buf, 1);
    expect(q.shift()).toBe(buf);
  });
});
