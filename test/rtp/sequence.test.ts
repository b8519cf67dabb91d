import {MAX_DROPOUT, MAX_MISORDER, SequenceTracker, SeqVerdict} from '../../src/rtp/sequence.js';
import {seqDiff, tsDiff} from '../../src/rtp/clock.js';

describe('sequence numbers', () => {
  test('seqDiff and tsDiff are signed across wrap', () => {
    expect(seqDiff(0, 65535)).toBe(1);
    expect(seqDiff(65535, 0)).toBe(-1);
    expect(seqDiff(100, 90)).toBe(10);
    expect(tsDiff(0, 0xffffff60)).toBe(160);
    expect(tsDiff(0xffffff60, 0)).toBe(-160);
  });

  test('extended sequence continues across 65535 → 0', () => {
    const t = new SequenceTracker();
    const seqs = [65533, 65534, 65535, 0, 1, 2];
    for (const s of seqs) expect(t.track(s)).toBe(SeqVerdict.InOrder);
    expect(t.expected).toBe(6);
    expect(t.distinct).toBe(6);
    expect(t.gaps).toBe(0);
  });

  test('loss is counted across a wrap', () => {
    const t = new SequenceTracker();
    for (const s of [65530, 65531, 65534, 0, 3, 4]) t.track(s); // missing 65532, 65533, 65535, 1, 2
    expect(t.expected).toBe(11);
    expect(t.distinct).toBe(6);
    expect(t.gaps).toBe(5);
  });

  test('duplicates and reordering are not loss', () => {
    const t = new SequenceTracker();
    const verdicts = [10, 12, 11, 11, 13, 13, 14].map((s) => t.track(s));
    expect(verdicts).toEqual([SeqVerdict.InOrder, SeqVerdict.InOrder, SeqVerdict.Reordered, SeqVerdict.Duplicate,
      SeqVerdict.InOrder, SeqVerdict.Duplicate, SeqVerdict.InOrder]);
    expect(t.duplicates).toBe(2);
    expect(t.reordered).toBe(1);
    expect(t.gaps).toBe(0);
    expect(t.expected).toBe(5);
  });

  test('a packet older than the first lowers the range and fills it', () => {
    const t = new SequenceTracker();
    t.track(5);
    t.track(6);
    expect(t.track(4)).toBe(SeqVerdict.Reordered);
    expect(t.expected).toBe(3);
    expect(t.gaps).toBe(0);
  });

  test('a long stream through several wraps keeps exact counts', () => {
    const t = new SequenceTracker();
    let lost = 0;
    for (let i = 0; i < 200_000; i++) {
      if (i % 1000 === 999) { lost++; continue; }
      t.track((40000 + i) & 0xffff);
    }
    expect(t.expected).toBe(199_999); // i = 0 … 199998
    expect(t.gaps).toBe(lost - 1); // the very last packet (i = 199999) is missing past the highest seen
    expect(t.duplicates).toBe(0);
  });

  test('duplicates are found fewer than MAX_MISORDER behind; MAX_MISORDER or further behind is out of range', () => {
    const t = new SequenceTracker();
    for (let i = 0; i < 5000; i++) t.track(i);
    expect(t.track(4999 - (MAX_MISORDER - 1))).toBe(SeqVerdict.Duplicate);
    expect(t.track(4999 - MAX_MISORDER)).toBe(SeqVerdict.OutOfRange);
    expect(t.outOfRange).toBe(1);
    expect(t.distinct).toBe(5000);
    expect(t.duplicates).toBe(1);
  });

  test('RFC 3550 A.1: one forged packet far ahead is out of range, not 30 000 lost', () => {
    const t = new SequenceTracker();
    for (let i = 0; i < 50; i++) t.track(1000 + i);
    expect(t.track(1049 + 30_000)).toBe(SeqVerdict.OutOfRange);
    for (let i = 50; i < 100; i++) expect(t.track(1000 + i)).toBe(SeqVerdict.InOrder);
    expect(t.outOfRange).toBe(1);
    expect(t.expected).toBe(100);
    expect(t.gaps).toBe(0);
    expect(t.distinct).toBe(100);
  });

  test('a jump of fewer than MAX_DROPOUT is a gap; MAX_DROPOUT or more is not', () => {
    const t = new SequenceTracker();
    t.track(10);
    expect(t.track(10 + MAX_DROPOUT - 1)).toBe(SeqVerdict.InOrder);
    expect(t.gaps).toBe(MAX_DROPOUT - 2);
    const u = new SequenceTracker();
    u.track(10);
    expect(u.track(10 + MAX_DROPOUT)).toBe(SeqVerdict.OutOfRange);
    expect(u.gaps).toBe(0);
  });

  test('two consecutive packets after a very large jump are a restart: resync, no loss counted', () => {
    const t = new SequenceTracker();
    for (let i = 0; i < 10; i++) t.track(500 + i);
    expect(t.track(40_000)).toBe(SeqVerdict.OutOfRange);
    expect(t.track(40_001)).toBe(SeqVerdict.InOrder);
    expect(t.resyncs).toBe(1);
    for (let i = 2; i < 10; i++) expect(t.track(40_000 + i)).toBe(SeqVerdict.InOrder);
    // 10 before, the first after the jump ignored, 9 after: no gap
    expect(t.distinct).toBe(19);
    expect(t.expected).toBe(19);
    expect(t.gaps).toBe(0);
    expect(t.outOfRange).toBe(1);
  });

  test('has() knows what was seen', () => {
    const t = new SequenceTracker();
    t.track(100);
    t.track(102);
    expect(t.has(t.extend(100))).toBe(true);
    expect(t.has(t.extend(101))).toBe(false);
    expect(t.has(t.extend(102))).toBe(true);
  });
});
