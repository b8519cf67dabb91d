import {ConfigError} from '../../src/errors.js';
import {lastCpu, parseCpuList, sharedCpuFor, SHARED_CPU_MAX_CALLS, usableCpus} from '../../src/engine/cpu-list.js';

const EIGHT = [0, 1, 2, 3, 4, 5, 6, 7];

describe('parseCpuList (RTPSLA_ENGINE_CPUS)', () => {
  test.each([
    ['1', '1'],
    [' 0-1 ', '0-1'],
    ['3,1,2', '1-3'],
    ['0,2-3,2', '0,2-3'],
    ['5,0', '0,5'],
  ])('%j where CPUs 0-7 may be used is %j', (text, want) => {
    expect(parseCpuList(text, 'RTPSLA_ENGINE_CPUS', EIGHT)).toBe(want);
  });

  test.each([
    ['', [0, 1], 'is not a CPU list'],
    ['one', [0, 1], 'is not a CPU list'],
    ['1,', [0, 1], 'is not a CPU list'],
    ['-1', [0, 1], 'is not a CPU list'],
    ['1-', [0, 1], 'is not a CPU list'],
    ['3-1', EIGHT, 'has a range that runs backwards'],
    ['2', [0, 1], 'names CPU 2, but this process may use CPUs 0-1'],
    ['0-4', [0, 1], 'names CPU 2, but this process may use CPUs 0-1'],
    // a cpuset (container) or taskset narrows what may be used
    ['0', [2, 3, 6], 'names CPU 0, but this process may use CPUs 2-3,6'],
  ])('%j where CPUs %j may be used is refused: %s', (text, usable, why) => {
    let err: unknown;
    try {
      parseCpuList(text, 'RTPSLA_ENGINE_CPUS', usable);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(`RTPSLA_ENGINE_CPUS: "${text}" `);
    expect((err as Error).message).toContain(why);
  });
});

describe('usableCpus', () => {
  test('reads Cpus_allowed_list, which a cpuset or taskset narrows', () => {
    expect(usableCpus(() => 'Name:\tnode\nCpus_allowed:\t4c\nCpus_allowed_list:\t2-3,6\nMems_allowed:\t1\n')).toEqual([2, 3, 6]);
  });

  test('without /proc (not Linux), every CPU the machine has', () => {
    const all = usableCpus(() => {
      throw new Error('ENOENT');
    });
    expect(all.length).toBeGreaterThan(0);
    expect(all).toEqual(all.map((_, i) => i));
  });

  test('this process on Linux: a non-empty ascending list', () => {
    const mine = usableCpus();
    expect(mine.length).toBeGreaterThan(0);
    expect([...mine].sort((a, b) => a - b)).toEqual(mine);
  });
});

describe('where a co-located chain goes', () => {
  test('the last usable CPU, up to SHARED_CPU_MAX_CALLS calls; nowhere in particular above', () => {
    expect(lastCpu([0, 1])).toBe('1');
    expect(lastCpu([0])).toBe('0');
    expect(lastCpu([2, 3, 6])).toBe('6');
    expect(sharedCpuFor(30, [0, 1])).toBe('1');
    expect(sharedCpuFor(SHARED_CPU_MAX_CALLS, [0, 1, 2, 3])).toBe('3');
    expect(sharedCpuFor(SHARED_CPU_MAX_CALLS + 1, [0, 1, 2, 3])).toBeNull();
    expect(sharedCpuFor(600, [0, 1])).toBeNull();
  });
});
