#!/usr/bin/env node
// Builds the native media engine (native/build/rtpsla-engine) with the system C compiler at
// `npm install`. Never fails the install: where it cannot be built, the pure-Node engine is used.
// Prints exactly one line saying which engine is in use.
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binary = join(root, 'native', 'build', 'rtpsla-engine');

function fallback(reason) {
  console.log(`rtpsla: native media engine could not be built (${reason}); the pure-Node engine will be used`);
  process.exit(0);
}

if (process.platform !== 'linux') fallback(`${process.platform} is not Linux`);
const make = spawnSync('make', ['-C', join(root, 'native')], {encoding: 'utf8'});
if (make.error) fallback(make.error.code === 'ENOENT' ? 'make not found; install build-essential' : make.error.message);
if (make.status !== 0) {
  const lines = `${make.stderr}\n${make.stdout}`.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const cause = lines.find((l) => /error|not found/i.test(l)) ?? lines.at(-1) ?? `make exited ${make.status}`;
  fallback(cause.length > 160 ? cause.slice(0, 157) + '...' : cause);
}
if (!existsSync(binary)) fallback('make produced no binary');
console.log('rtpsla: native media engine built; the native engine is in use (native/build/rtpsla-engine)');
