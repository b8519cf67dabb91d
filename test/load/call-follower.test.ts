/** CallFollower on a fake event stream and a driven clock: entered, hung up with a cause, timed out. */
import {CallFollower, describeCause, neverEnteredNotes} from '../../src/load/call-follower.js';
import {DrivenClock} from '../../src/runtime/clock.js';
import type {AriAnyEvent} from '../../src/ari/types.js';

const ENDPOINT = 'Local/s@nosuchcontext/n';

function ch(id: string, app_name = 'AppDial2', app_data = '(Outgoing Line)') {
  return {id, name: `Local/s@nosuchcontext-00000000;1`, state: 'Down', dialplan: {context: 'nosuchcontext', exten: 's', priority: 1, app_name, app_data}};
}
const ev = (type: string, extra: Record<string, unknown>): AriAnyEvent => ({type, application: 'rtpsla-load-r1', timestamp: '', ...extra}) as AriAnyEvent;

function setup(timeoutMs?: number) {
  const clock = new DrivenClock();
  const failed: Array<[number, string]> = [];
  const f = new CallFollower({app: 'rtpsla', clock, timeoutMs, onFailed: (i, r) => failed.push([i, r])});
  return {clock, failed, f};
}

describe('CallFollower', () => {
  test('hung up with cause 1 before any StasisStart: fails with the cause Asterisk gave and the time since the originate was sent', () => {
    const {clock, failed, f} = setup();
    f.expect('r1-0', 0, ENDPOINT);
    clock.advanceMs(2);
    f.originated('r1-0');
    clock.advanceMs(1);
    f.onEvent(ev('ChannelHangupRequest', {cause: 1, channel: ch('r1-0')}));
    expect(failed).toEqual([]);
    f.onEvent(ev('ChannelDestroyed', {cause: 1, cause_txt: 'Unallocated (unassigned) number', channel: ch('r1-0')}));
    const reason = 'originated Local/s@nosuchcontext/n but it never entered the Stasis app `rtpsla`: Asterisk hung it up after 3 ms (cause 1, unallocated number: no such extension or context?)';
    expect(failed).toEqual([[0, reason]]);
    expect(f.reasonOf('r1-0')).toBe(reason);
    expect(f.pending()).toEqual([]);
    // the timeout no longer fires
    clock.advanceMs(10_000);
    expect(failed).toHaveLength(1);
  });

  test('events before the originate is answered count; an unknown cause shows Asterisk\'s text; seconds past 1 s', async () => {
    const {clock, failed, f} = setup();
    f.expect('r1-1', 1, 'PJSIP/100@trunk');
    const whenFailed = f.whenFailed('r1-1');
    clock.advanceMs(1500);
    f.onEvent(ev('ChannelDestroyed', {cause: 102, cause_txt: 'Recovery on timer expiry', channel: ch('r1-1')}));
    await expect(whenFailed).resolves.toBeUndefined();
    expect(failed).toEqual([[1, 'originated PJSIP/100@trunk but it never entered the Stasis app `rtpsla`: Asterisk hung it up after 1.5 s (cause 102, recovery on timer expiry)']]);
  });

  test('StasisStart, or a snapshot running Stasis for our app, is entering: later hangups do not fail it', () => {
    const {clock, failed, f} = setup();
    f.expect('a', 0, ENDPOINT);
    f.expect('b', 1, ENDPOINT);
    f.expect('c', 2, ENDPOINT);
    for (const id of ['a', 'b', 'c']) f.originated(id);
    f.onEvent(ev('StasisStart', {args: [], channel: ch('a')}));
    f.onEvent(ev('ChannelVarset', {variable: 'STASISSTATUS', value: '', channel: ch('b', 'Stasis', 'rtpsla,rtpsla-load,r1,1,abc')}));
    // Stasis for another app is not ours
    f.onEvent(ev('ChannelVarset', {variable: 'STASISSTATUS', value: '', channel: ch('c', 'Stasis', 'other')}));
    expect(f.pending()).toEqual(['c']);
    for (const id of ['a', 'b']) f.onEvent(ev('ChannelDestroyed', {cause: 16, cause_txt: 'Normal Clearing', channel: ch(id)}));
    clock.advanceMs(6000);
    expect(failed.map(([i]) => i)).toEqual([2]);
    expect(failed[0][1]).toBe('originated Local/s@nosuchcontext/n but it never entered the Stasis app `rtpsla`: no StasisStart and no hangup within 5 s: does the endpoint answer?');
  });

  test('the bound counts from the originate\'s answer; a forgotten call (originate failed) never fails; other channels are ignored', () => {
    const {clock, failed, f} = setup(2000);
    f.expect('x', 0, ENDPOINT);
    f.expect('y', 1, ENDPOINT);
    clock.advanceMs(500);
    f.originated('x');
    f.forget('y');
    f.onEvent(ev('ChannelDestroyed', {cause: 1, channel: ch('y')}));
    f.onEvent(ev('ChannelDestroyed', {cause: 1, channel: ch('someone-else')}));
    clock.advanceMs(1999);
    expect(failed).toEqual([]);
    clock.advanceMs(1);
    expect(failed.map(([i]) => i)).toEqual([0]);
    expect(failed[0][1]).toMatch(/within 2 s: does the endpoint answer\?$/);
  });

  test('a hangup request without the destroy within the bound names its cause', () => {
    const {clock, failed, f} = setup();
    f.expect('z', 4, ENDPOINT);
    f.originated('z');
    f.onEvent(ev('ChannelHangupRequest', {cause: 17, channel: ch('z')}));
    clock.advanceMs(5000);
    expect(failed).toEqual([[4, 'originated Local/s@nosuchcontext/n but it never entered the Stasis app `rtpsla`: Asterisk was asked to hang it up (cause 17, user busy) and it was still not in the app after 5 s']]);
  });

  test('describeCause and the report notes', () => {
    expect(describeCause(1, 'Unallocated (unassigned) number')).toBe('cause 1, unallocated number: no such extension or context?');
    expect(describeCause(99)).toBe('cause 99, no cause text');
    const calls = [0, 1, 2, 3, 4].map((index) => ({index, error: `why ${index}`}));
    expect(neverEnteredNotes(calls, 'rtpsla')).toEqual(['call 0: why 0', 'call 1: why 1', 'call 2: why 2', '2 more calls never entered the Stasis app `rtpsla` (each call\'s error says why)']);
    expect(neverEnteredNotes(calls.slice(0, 1), 'rtpsla')).toEqual(['call 0: why 0']);
  });
});
