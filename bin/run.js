#!/usr/bin/env node
import {fileURLToPath} from 'node:url';
import {relaunchWithNodeFlags} from '../dist/runtime/relaunch.js';

// Long-running commands run with the flags in dist/runtime/gc.js (a child with them when this
// process was started without).
const relaunched = relaunchWithNodeFlags(fileURLToPath(import.meta.url));
if (relaunched) {
  process.exitCode = await relaunched;
} else {
  const {execute} = await import('@oclif/core');
  await execute({dir: import.meta.url});
}
