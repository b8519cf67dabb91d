import {readFileSync} from 'node:fs';
import {clockTicksPerSec, hostStealUs} from '../../src/metrics/host.js';

describe('hostStealUs', () => {
  test('reads the steal column of /proc/stat in µs, never going backwards', () => {
    const a = hostStealUs();
    const ticks = Number(readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/)[8]);
    const b = hostStealUs();
    expect(a).not.toBeNull();
    expect(b!).toBeGreaterThanOrEqual(a!);
    // the reading between a and b: a ≤ ticks (in µs) ≤ b
    const us = (ticks * 1e6) / clockTicksPerSec();
    expect(us).toBeGreaterThanOrEqual(a!);
    expect(us).toBeLessThanOrEqual(b!);
  });

  test('clock ticks per second is the kernel USER_HZ (100 on Linux)', () => {
    expect(clockTicksPerSec()).toBe(100);
  });
});
