import {STEAL_NOTE_MS, stealNoteFor} from '../../src/load/run.js';

describe('the steal note of a load report', () => {
  test('from STEAL_NOTE_MS of steal on, the note names the amount and the CPUs', () => {
    expect(stealNoteFor({cpus: 2, stealMs: STEAL_NOTE_MS - 1})).toBeNull();
    expect(stealNoteFor({cpus: 2, stealMs: null})).toBeNull();
    const note = stealNoteFor({cpus: 2, stealMs: 860});
    expect(note).toMatch(/lost 860 ms of CPU time to its hypervisor during the run \(steal, 2 CPUs\)/);
    expect(stealNoteFor({cpus: 8, stealMs: STEAL_NOTE_MS})).toMatch(/lost 100 ms .* 8 CPUs/);
  });
});
