import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {expandGlob, expandInputs, segmentRegex} from '../../src/sla/inputs.js';
import {tempDir} from '../helpers/report-builder.js';

describe('segmentRegex', () => {
  test.each([
    ['*.json', 'run-1.json', true],
    ['*.json', 'run-1.json.tmp-12', false],
    ['run-?.json', 'run-7.json', true],
    ['run-?.json', 'run-17.json', false],
    ['run-[0-4].json', 'run-3.json', true],
    ['run-[0-4].json', 'run-5.json', false],
    ['run-[!0-4].json', 'run-5.json', true],
    ['a.b', 'axb', false],
    ['(x)+*', '(x)+y', true],
  ])('%s vs %s → %s', (pattern, name, expected) => {
    expect(segmentRegex(pattern).test(name)).toBe(expected);
  });
});

describe('expandInputs', () => {
  const t = tempDir('rtpsla-glob-');
  const d = t.dir;
  beforeAll(() => {
    mkdirSync(path.join(d, 'reports', 'nested', 'deep'), {recursive: true});
    mkdirSync(path.join(d, 'empty'));
    for (const f of ['reports/b.json', 'reports/a.json', 'reports/c.txt', 'reports/.hidden.json', 'reports/nested/n.json', 'reports/nested/deep/z.json'])
      writeFileSync(path.join(d, f), '{}');
  });
  afterAll(() => t.cleanup());

  test('a glob in the last segment matches files sorted, not dotfiles', () => {
    expect(expandGlob(`${d}/reports/*.json`)).toEqual([`${d}/reports/a.json`, `${d}/reports/b.json`]);
  });

  test('globs in directory segments and ** work', () => {
    expect(expandGlob(`${d}/*/nested/*.json`)).toEqual([`${d}/reports/nested/n.json`]);
    expect(expandGlob(`${d}/reports/**/*.json`)).toEqual([
      `${d}/reports/a.json`,
      `${d}/reports/b.json`,
      `${d}/reports/nested/deep/z.json`,
      `${d}/reports/nested/n.json`,
    ]);
  });

  test('plain paths pass through (even missing ones), duplicates are dropped', () => {
    const r = expandInputs([`${d}/reports/a.json`, `${d}/reports/*.json`, `${d}/missing.json`]);
    expect(r.files).toEqual([`${d}/reports/a.json`, `${d}/reports/b.json`, `${d}/missing.json`]);
    expect(r.problems).toEqual([]);
  });

  test('a pattern matching nothing is a problem naming the pattern', () => {
    const r = expandInputs([`${d}/reports/*.xml`, `${d}/reports/a.json`]);
    expect(r.files).toEqual([`${d}/reports/a.json`]);
    expect(r.problems).toEqual([{file: `${d}/reports/*.xml`, reason: 'no file matches this pattern'}]);
  });

  test('a directory stands for its .json files; an empty one is a problem', () => {
    const r = expandInputs([path.join(d, 'reports'), path.join(d, 'empty')]);
    expect(r.files).toEqual([path.join(d, 'reports', 'a.json'), path.join(d, 'reports', 'b.json')]);
    expect(r.problems).toEqual([{file: path.join(d, 'empty'), reason: 'directory contains no .json report files'}]);
  });
});
