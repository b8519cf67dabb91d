import {spawnSync} from 'node:child_process';
import path from 'node:path';
import {ROOT} from '../helpers/cli.js';

/**
 * The engine's C unit tests (native/test/: rtp_parse, pacing arithmetic, forwarding delay and
 * queue, heap, output framing), built and run by `make -C native test`. Each C test case is one
 * jest test, so they count in jest's totals; a build failure is one failing test with make's output.
 */
interface CCase {
  n: number;
  name: string;
  ok: boolean;
  detail: string;
}

function runCUnits(): {cases: CCase[]; failure?: string} {
  const r = spawnSync('make', ['-s', '-C', path.join(ROOT, 'native'), 'test'], {encoding: 'utf8', timeout: 120000});
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const cases: CCase[] = [];
  let detail: string[] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^(ok|not ok) (\d+) - (.*)$/.exec(line);
    if (m) {
      cases.push({n: Number(m[2]), name: m[3], ok: m[1] === 'ok', detail: detail.join('\n')});
      detail = [];
    } else if (line.startsWith('# ')) {
      detail.push(line);
    }
  }
  if (cases.length === 0) return {cases, failure: `make -C native test printed no test lines (exit ${r.status ?? r.error?.message}):\n${out}`};
  // a crash or a failing build after some cases printed: the exit status still tells
  const failedCases = cases.some((c) => !c.ok);
  if (r.status !== 0 && !failedCases) return {cases, failure: `make -C native test exited ${r.status ?? r.signal}:\n${out}`};
  return {cases};
}

const {cases, failure} = runCUnits();

describe('native C unit tests (make -C native test)', () => {
  if (failure !== undefined) {
    test('make -C native test', () => {
      throw new Error(failure);
    });
  }
  if (cases.length > 0) {
    test.each(cases.map((c) => [`${c.n} ${c.name}`, c] as const))('%s', (_name, c) => {
      expect({ok: c.ok, detail: c.detail}).toEqual({ok: true, detail: ''});
    });
  }
});
