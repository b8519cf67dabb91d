import {chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {findExecutable} from '../../src/runtime/find-executable.js';

describe('findExecutable', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'rtpsla-exe-'));
    for (const d of ['first', 'second', 'onpath']) mkdirSync(path.join(root, d));
  });
  afterEach(() => rmSync(root, {recursive: true, force: true}));

  const put = (dir: string, mode: number) => {
    const f = path.join(root, dir, 'tool');
    writeFileSync(f, '#!/bin/sh\n');
    chmodSync(f, mode);
    return f;
  };

  test('the given directories first, in order, then $PATH; a file that is not executable does not count', () => {
    const dirs = [path.join(root, 'first'), path.join(root, 'second')];
    const envPath = path.join(root, 'onpath');
    expect(findExecutable('tool', dirs, envPath)).toBeNull();
    const onPath = put('onpath', 0o755);
    expect(findExecutable('tool', dirs, envPath)).toBe(onPath);
    put('first', 0o644); // not executable
    expect(findExecutable('tool', dirs, envPath)).toBe(onPath);
    const second = put('second', 0o755);
    expect(findExecutable('tool', dirs, envPath)).toBe(second);
    const first = put('first', 0o755);
    expect(findExecutable('tool', dirs, envPath)).toBe(first);
  });
});
