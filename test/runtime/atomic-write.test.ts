import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from '@jest/globals';
import {atomicWriteFile} from '../../src/runtime/atomic-write.js';

describe('atomicWriteFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-atomic-'));
  });
  afterEach(() => rmSync(dir, {recursive: true, force: true}));

  it('creates missing parent directories and leaves only the file', () => {
    const file = path.join(dir, 'a', 'b', 'out.json');
    atomicWriteFile(file, '{"x":1}\n');
    expect(readFileSync(file, 'utf8')).toBe('{"x":1}\n');
    expect(readdirSync(path.dirname(file))).toEqual(['out.json']);
  });

  it('replaces an existing file whole', () => {
    const file = path.join(dir, 'out.txt');
    writeFileSync(file, 'old contents that are longer');
    atomicWriteFile(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
  });

  it('applies the requested mode', () => {
    const file = path.join(dir, 'report.json');
    atomicWriteFile(file, '{}', {mode: 0o600});
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('throws the error as it came and removes its temp file when the rename fails', () => {
    const target = path.join(dir, 'taken');
    mkdirSync(path.join(target, 'inside'), {recursive: true}); // a non-empty directory: rename over it fails
    expect(() => atomicWriteFile(target, 'x')).toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(readdirSync(dir)).toEqual(['taken']);
  });
});
