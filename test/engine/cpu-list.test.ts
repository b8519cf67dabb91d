import {ConfigError} from '../../src/errors.js';
import {lastCpu, parseCpuList, sharedCpuFor, SHARED_CPU_MAX_CALLS} from '../../src/engine/cpu-list.js';

describe('parseCpuList (RTPSLA_ENGINE_CPUS)', () => {
  test.each([
    ['1', '1'],
    [' 0-1 ', '0-1'],
    ['3,1,2', '1-3'],
    ['0,2-3,2', '0,2-3'],
    ['5,0', '0,5'],
  ])('%j on an 8-CPU machine is %j', (text, want) => {
    expect(parseCpuList(text, 'RTPSLA_ENGINE_CPUS', 8)).toBe(want);
  });

  test.each([
    ['', 'is not a CPU list'],
    ['one', 'is not a CPU list'],
    ['1,', 'is not a CPU list'],
    ['-1', 'is not a CPU list'],
    ['1-', 'is not a CPU list'],
    ['3-1', 'runs backwards (3-1)'],
    ['2', 'names CPU 2, but this machine has CPUs 0-1'],
    ['0-4', 'names CPU 4, but this machine has CPUs 0-1'],
  ])('%j on a 2-CPU machine is refused: %s', (text, why) => {
    let err: unknown;
    try {
      parseCpuList(text, 'RTPSLA_ENGINE_CPUS', 2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(`RTPSLA_ENGINE_CPUS: "${text}" `);
    expect((err as Error).message).toContain(why);
  });
});

describe('where a co-located chain goes', () => {
  test('the last CPU, up to SHARED_CPU_MAX_CALLS calls; nowhere in particular above', () => {
    expect(lastCpu(2)).toBe('1');
    expect(lastCpu(1)).toBe('0');
    expect(sharedCpuFor(30, 2)).toBe('1');
    expect(sharedCpuFor(SHARED_CPU_MAX_CALLS, 4)).toBe('3');
    expect(sharedCpuFor(SHARED_CPU_MAX_CALLS + 1, 4)).toBeNull();
    expect(sharedCpuFor(600, 2)).toBeNull();
  });
});
