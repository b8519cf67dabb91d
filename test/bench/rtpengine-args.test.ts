import {rtpengineArgs} from '../../src/bench/rtpengine/daemon.js';

describe('rtpengine command line in the bench', () => {
  const base = {ngPort: 2223, portMin: 20000, portMax: 29999};

  test('userspace only, on loopback, in the real-time class rtpsla\'s engine runs in by default', () => {
    const args = rtpengineArgs(base);
    expect(args).toEqual(expect.arrayContaining(['--table=-1', '--interface=127.0.0.1', '--listen-ng=127.0.0.1:2223', '--port-min=20000', '--port-max=29999']));
    expect(args).toEqual(expect.arrayContaining(['--scheduling=fifo', '--priority=10']));
    expect(rtpengineArgs({...base, scheduling: 'fifo'})).toEqual(args);
  });

  test('like for like: the priority rtpsla\'s relay engine runs at', () => {
    expect(rtpengineArgs({...base, scheduling: 'fifo', priority: 12})).toEqual(expect.arrayContaining(['--scheduling=fifo', '--priority=12']));
    expect(rtpengineArgs({...base, scheduling: 'fifo', priority: 12})).not.toContain('--priority=10');
  });

  test('--rtpengine-scheduling default leaves rtpengine its own scheduling', () => {
    const args = rtpengineArgs({...base, scheduling: 'default'});
    expect(args.filter((a) => a.startsWith('--scheduling') || a.startsWith('--priority'))).toEqual([]);
    expect(args).toContain('--table=-1');
  });
});
