/**
 * Preload (`NODE_OPTIONS=--import …/cpu-profile-preload.js`, since `--cpu-prof` is not allowed in
 * NODE_OPTIONS): profiles the whole process with the in-process inspector and writes a
 * `.cpuprofile` (Chrome DevTools format) into BENCH_CPU_PROF_DIR when the process exits.
 */
import {Session} from 'node:inspector';
import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', {interval: 1000});
  session.post('Profiler.start');
  process.once('exit', () => {
    // the in-process session answers synchronously, so this completes before the process ends
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      mkdirSync(dir, {recursive: true});
      writeFileSync(path.join(dir, `${path.basename(process.argv[2] ?? 'node')}-${process.argv[2] ?? ''}-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
