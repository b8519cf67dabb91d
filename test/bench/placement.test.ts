import {placementFor, SHARED_CPU_MAX_CALLS} from '../../src/bench/placement.js';

describe('bench placement of the media chain', () => {
  test('auto: the whole chain on the last CPU up to SHARED_CPU_MAX_CALLS calls, placed by the kernel above', () => {
    expect(placementFor('auto', 150, 2)).toEqual({mode: 'shared-cpu', sim: '1', echo: '1', relay: '1'});
    expect(placementFor('auto', SHARED_CPU_MAX_CALLS, 4)).toEqual({mode: 'shared-cpu', sim: '3', echo: '3', relay: '3'});
    expect(placementFor('auto', SHARED_CPU_MAX_CALLS + 1, 2)).toEqual({mode: 'free', sim: null, echo: null, relay: null});
    expect(placementFor('auto', 600, 2).mode).toBe('free');
  });

  test('shared-cpu and free are what they say at any N', () => {
    expect(placementFor('shared-cpu', 1000, 2)).toEqual({mode: 'shared-cpu', sim: '1', echo: '1', relay: '1'});
    expect(placementFor('free', 30, 2)).toEqual({mode: 'free', sim: null, echo: null, relay: null});
  });
});
