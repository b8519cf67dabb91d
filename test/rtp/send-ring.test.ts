import {describe, expect, it} from '@jest/globals';
import {SendRing} from '../../src/rtp/send-ring.js';

describe('SendRing', () => {
  it('matches a key to its send time and extra values', () => {
    const r = new SendRing(8, 2);
    const slot = r.record(1000, 123.5);
    r.setValue(slot, 0, -7);
    r.setValue(slot, 1, 42);
    const found = r.find(1000);
    expect(found).toBe(slot);
    expect(r.sentAtUs(found)).toBe(123.5);
    expect([r.value(found, 0), r.value(found, 1)]).toEqual([-7, 42]);
    expect(r.find(1001)).toBe(-1);
  });

  it('forgets a key once taken, so a duplicate does not match twice', () => {
    const r = new SendRing(8);
    r.record(65535, 10);
    expect(r.sentAtUs(r.take(65535))).toBe(10);
    expect(r.take(65535)).toBe(-1);
    expect(r.find(65535)).toBe(-1);
  });

  it('keeps only the last `size` keys: an older one sharing the slot no longer matches', () => {
    const r = new SendRing(4);
    for (let k = 0; k < 6; k++) r.record(k, k * 20);
    expect(r.find(0)).toBe(-1);
    expect(r.find(1)).toBe(-1);
    for (let k = 2; k < 6; k++) expect(r.sentAtUs(r.find(k))).toBe(k * 20);
  });

  it('clear() forgets everything, including key 0', () => {
    const r = new SendRing(4);
    r.record(0, 1);
    r.record(3, 2);
    r.clear();
    expect([r.find(0), r.find(3)]).toEqual([-1, -1]);
  });

  it('refuses a size that is not a power of two', () => {
    expect(() => new SendRing(1000)).toThrow(/power of two/);
  });
});
