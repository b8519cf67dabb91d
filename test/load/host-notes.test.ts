import {STALL_MATCH_MARGIN_MS, STEAL_NOTE_MS, stallNoteFor, stealNoteFor} from '../../src/load/host-notes.js';
import type {CallRecord, HostStalls} from '../../src/protocol/report.js';
import {buildReport} from '../helpers/report-builder.js';

describe('the steal note of a load report', () => {
  test('from STEAL_NOTE_MS of steal on, the note names the amount and the CPUs', () => {
    expect(stealNoteFor({cpus: 2, stealMs: STEAL_NOTE_MS - 1})).toBeNull();
    expect(stealNoteFor({cpus: 2, stealMs: null})).toBeNull();
    const note = stealNoteFor({cpus: 2, stealMs: 860});
    expect(note).toMatch(/lost 860 ms of CPU time to its hypervisor during the run \(steal, 2 CPUs\)/);
    expect(stealNoteFor({cpus: 8, stealMs: STEAL_NOTE_MS})).toMatch(/lost 100 ms .* 8 CPUs/);
  });
});

describe('the stall note of a load report', () => {
  const RUN_START = Date.parse('2026-11-22T10:00:00.000Z');
  /** A measured call started `startS` into the run whose worst packet (maxMs late) came `worstAtMs` after its start. */
  function call(index: number, startS: number, worstAtMs: number | undefined, maxMs: number): CallRecord {
    const c = structuredClone(buildReport({count: 1}).calls[0]);
    Object.assign(c, {index, startedAt: new Date(RUN_START + startS * 1000).toISOString(), packetsBack: 100});
    c.latenessMs = {...c.latenessMs!, max: maxMs};
    if (worstAtMs !== undefined) Object.assign(c, {worstLateAtMs: worstAtMs});
    return c;
  }
  // one stall of 30 ms ending 9 s into the run (so from 8.970 s to 9.000 s), one of 12 ms ending at 20 s
  const stalls: HostStalls = {thresholdMs: 10, count: 2, totalMs: 42, maxMs: 30, events: [{atMs: 9000, stallMs: 30}, {atMs: 20000, stallMs: 12}]};

  test('no stall, or a report without the reading: no note', () => {
    expect(stallNoteFor({cpus: 2, stealMs: 0}, [], RUN_START)).toBeNull();
    expect(stallNoteFor({cpus: 2, stealMs: 0, stalls: {thresholdMs: 10, count: 0, totalMs: 0, maxMs: 0, events: []}}, [], RUN_START)).toBeNull();
  });

  test('names the count, the longest and when, and the calls whose worst packet fell on a stall', () => {
    const calls = [
      call(0, 1, 8000, 35.5), // worst at 9.000 s: on the 30 ms stall
      call(1, 2, 7000 - 30 - STALL_MATCH_MARGIN_MS, 20), // worst at 8.920 s: at the margin before it
      call(2, 3, 6000 + STALL_MATCH_MARGIN_MS + 1, 40), // worst at 9.051 s: just past the margin after it
      call(3, 4, 16_000, 18), // worst at 20.000 s: on the 12 ms stall
      call(4, 5, 1000, 3), // worst at 6 s: no stall
      call(5, 6, undefined, 50), // no worstLateAtMs (an older serve): not counted at all
    ];
    const note = stallNoteFor({cpus: 2, stealMs: 0, stalls}, calls, RUN_START)!;
    expect(note).toMatch(/^load's own event loop was held up 2 times by 10 ms or more while it held the calls \(longest 30 ms, 9\.00 s into the run\); .*most likely one of the machine/);
    expect(note).toMatch(/3 of 5 calls had their worst packet within 50 ms of such a stall \(worst 35\.5 ms late\)$/);
  });

  test('when the longest stall lies past the ones kept with their time, its length is still named', () => {
    const many: HostStalls = {thresholdMs: 10, count: 300, totalMs: 3500, maxMs: 80, events: [{atMs: 20000, stallMs: 12}]};
    expect(stallNoteFor({cpus: 2, stealMs: 0, stalls: many}, [], RUN_START)).toMatch(/^load's own event loop was held up 300 times by 10 ms or more while it held the calls \(longest 80 ms\); /);
  });

  test('stalls that no worst packet fell on say so', () => {
    const one: HostStalls = {thresholdMs: 10, count: 1, totalMs: 12, maxMs: 12, events: [{atMs: 20000, stallMs: 12}]};
    const note = stallNoteFor({cpus: 2, stealMs: 0, stalls: one}, [call(0, 1, 1000, 3)], RUN_START)!;
    expect(note).toMatch(/held up 1 time by 10 ms or more .*; no call had its worst packet within 50 ms of one$/);
  });
});
