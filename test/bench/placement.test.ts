import {placementFor, SHARED_CPU_MAX_CALLS} from '../../src/bench/placement.js';

describe('bench placement of the media chain', () => {
  test('auto: the whole chain on the last CPU up to SHARED_CPU_MAX_CALLS calls, placed by the kernel above', () => {
    expect(placementFor('auto', 150, [0, 1])).toEqual({mode: 'shared-cpu', sim: '1', echo: '1', relay: '1'});
    expect(placementFor('auto', SHARED_CPU_MAX_CALLS, [0, 1, 2, 3])).toEqual({mode: 'shared-cpu', sim: '3', echo: '3', relay: '3'});
    expect(placementFor('auto', SHARED_CPU_MAX_CALLS + 1, [0, 1])).toEqual({mode: 'free', sim: null, echo: null, relay: null});
    expect(placementFor('auto', 600, [0, 1]).mode).toBe('free');
  });

  test('shared-cpu and free are what they say at any N', () => {
    expect(placementFor('shared-cpu', 1000, [2, 5])).toEqual({mode: 'shared-cpu', sim: '5', echo: '5', relay: '5'});
    expect(placementFor('free', 30, [0, 1])).toEqual({mode: 'free', sim: null, echo: null, relay: null});
  });
});
