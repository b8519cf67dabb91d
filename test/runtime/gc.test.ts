import {readFileSync} from 'node:fs';
import {NODE_FLAGS, hasNodeFlags} from '../../src/runtime/gc.js';
import {runCli} from '../helpers/cli.js';

describe('node flags of rtpsla processes', () => {
  test('npm start and npm run bench run node with them; the shebang stays plain (BusyBox env has no -S)', () => {
    const shebang = readFileSync(new URL('../../bin/run.js', import.meta.url), 'utf8').split('\n', 1)[0];
    expect(shebang).toBe('#!/usr/bin/env node');
    const scripts = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {scripts: Record<string, string>}).scripts;
    expect(scripts.start).toContain(`node ${NODE_FLAGS.join(' ')} bin/run.js`);
    expect(scripts.bench).toContain(`node ${NODE_FLAGS.join(' ')} bin/run.js`);
  });

  test('hasNodeFlags reads the exec arguments', () => {
    expect(hasNodeFlags(['--no-memory-reducer', '--inspect'])).toBe(true);
    expect(hasNodeFlags(['--inspect'])).toBe(false);
  });

  test('node accepts the flags (the test helpers start every rtpsla child with them)', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rtpsla\/\d/);
  });
});
