import {readFileSync} from 'node:fs';
import {NODE_FLAGS, hasNodeFlags} from '../../src/runtime/gc.js';
import {runCli} from '../helpers/cli.js';

describe('node flags of rtpsla processes', () => {
  test('the binary, npm start and npm run bench all run node with them', () => {
    const shebang = readFileSync(new URL('../../bin/run.js', import.meta.url), 'utf8').split('\n', 1)[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
    const scripts = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {scripts: Record<string, string>}).scripts;
    expect(scripts.start).toContain(`node ${NODE_FLAGS.join(' ')} bin/run.js`);
    expect(scripts.bench).toContain(`node ${NODE_FLAGS.join(' ')} bin/run.js`);
  });

  test('hasNodeFlags reads the exec arguments', () => {
    expect(hasNodeFlags(['--no-memory-reducer', '--inspect'])).toBe(true);
    expect(hasNodeFlags(['--inspect'])).toBe(false);
  });

  test('V8 accepts the flags (a child started with them runs)', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rtpsla\/\d/);
  });
});
