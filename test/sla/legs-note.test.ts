import {legsNote, groupDigits, sharePercent} from '../../src/sla/legs-note.js';
import {evaluateFiles} from '../../src/sla/run.js';
import {renderJson, renderTable} from '../../src/sla/render.js';
import {buildReport, modify, tempDir, writeJson} from '../helpers/report-builder.js';

describe('legs note', () => {
  test('numbers and shares read as a person writes them', () => {
    expect(groupDigits(27343)).toBe('27 343');
    expect(groupDigits(999)).toBe('999');
    expect(groupDigits(1234567)).toBe('1 234 567');
    expect(sharePercent(24882, 27343)).toBe('91 %');
    expect(sharePercent(1, 1000)).toBe('< 1 %');
    expect(sharePercent(0, 10)).toBe('0 %');
  });

  test('names the shares of the late packets, largest first, and the relay hold with the engine', () => {
    // 30 calls × (asterisk 830, mediaServer 80, relay 1) = 24 900 / 2 400 / 30 of 27 330
    const report = buildReport({count: 30, legs: {lateBy: {asterisk: 830, relay: 1, mediaServer: 80}, engine: 'native'}});
    const note = legsNote(report)!;
    const s = report.summary;
    expect(s.lateBy).toEqual({asterisk: 24_900, relay: 30, mediaServer: 2_400});
    expect(note).toBe(
      `of 27 330 late packets, 91 % were already late arriving from Asterisk, 9 % came back late from the media server, < 1 % were held by the relay; ` +
        `arrival from Asterisk p99.9 ${s.upLatenessMs!.p999} ms; relay hold p99.9 ${s.relayHoldMs!.p999} ms (native engine)`,
    );
  });

  test('no late packets: says so; a leg without late packets is not named; an engine-less report was measured by node', () => {
    const clean = buildReport({count: 30, legs: {lateBy: {asterisk: 0, relay: 0, mediaServer: 0}}});
    expect(legsNote(clean)).toMatch(/^no late packets; arrival from Asterisk p99\.9 [\d.]+ ms; relay hold p99\.9 [\d.]+ ms \(node engine\)$/);
    const onlyEcho = buildReport({count: 30, legs: {lateBy: {asterisk: 0, relay: 0, mediaServer: 2}}});
    expect(legsNote(onlyEcho)).toMatch(/^of 60 late packets, 100 % came back late from the media server;/);
  });

  test('a report from before the legs gets no note', () => {
    expect(legsNote(buildReport({count: 30}))).toBeNull();
  });

  test('sla prints the note under the table and in --json; the verdict is unchanged by it', () => {
    const {dir, cleanup} = tempDir();
    try {
      const withLegs = buildReport({count: 30, runId: 'legs', legs: {lateBy: {asterisk: 2, relay: 0, mediaServer: 0}, engine: 'native'}});
      const file = writeJson(dir, 'legs.json', withLegs);
      const o = evaluateFiles([file]);
      // 60 late of 1500 back: lateRatio fails as it would without the note
      const plain = evaluateFiles([writeJson(dir, 'plain.json', modify(withLegs, (r) => {
        delete r.summary.lateBy;
        delete r.summary.relayHoldMs;
        delete r.summary.upLatenessMs;
      }))]);
      expect(o.reports[0].failed).toEqual(plain.reports[0].failed);
      expect(o.exitCode).toBe(plain.exitCode);
      const note = legsNote(withLegs)!;
      expect(note).toMatch(/^of 60 late packets, 100 % were already late arriving from Asterisk;/);
      const lines = renderTable(o).trimEnd().split('\n');
      expect(lines[lines.length - 2]).toBe(`note (legs): ${note}`);
      expect((renderJson(o) as {reports: Array<{notes: string[]}>}).reports[0].notes).toEqual([note]);
      expect(plain.reports[0].notes).toEqual([]);
    } finally {
      cleanup();
    }
  });
});
