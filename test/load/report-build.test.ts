import {setupNote} from '../../src/load/report-build.js';

const call = (setupMs: number | null, error: string | null = null) => ({setupMs, error});

describe('the set-up note beside a peak concurrency short of the count', () => {
  test('names the longest and median set-up against the hold, and the calls still in set-up when it ended', () => {
    const records = [call(120), call(10_200), call(10_900), call(14_400), call(null, 'call ended during setup (caller left Stasis)'), call(null, 'call ended during setup (caller left Stasis)')];
    expect(setupNote(records, 15_000)).toBe("set-up took up to 14.4 s (median 10.2 s) of each call's 15.0 s hold; 2 calls were still in set-up when the hold ended");
  });

  test('one call still in set-up, or none set up at all', () => {
    expect(setupNote([call(200), call(null, 'call ended during setup (left Stasis)')], 15_000)).toBe(
      "set-up took up to 0.2 s (median 0.2 s) of each call's 15.0 s hold; 1 call was still in set-up when the hold ended",
    );
    expect(setupNote([call(null, 'call ended during setup (left Stasis)')], 2_000)).toBe("no call finished its set-up within its 2.0 s hold; 1 call was still in set-up when the hold ended");
  });

  test('nothing to say when every set-up took less than a tenth of the hold and none was cut short', () => {
    expect(setupNote([call(100), call(1_400), call(null, 'originate failed: 500')], 15_000)).toBeNull();
    expect(setupNote([], 15_000)).toBeNull();
  });
});
