/**
 * The layer order of src/ (.dependency-cruiser.cjs, CONTRIBUTING.md) is enforced by `npm run lint`:
 * the real tree passes, and a tree with an upward import, a cycle or a protocol file importing
 * another folder fails, each naming its rule.
 */
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const depcruise = path.join(root, 'node_modules', '.bin', 'depcruise');
const config = path.join(root, '.dependency-cruiser.cjs');

function cruise(cwd: string): {status: number | null; out: string} {
  const r = spawnSync(depcruise, ['src', '--config', config, '--output-type', 'err'], {cwd, encoding: 'utf8'});
  return {status: r.status, out: `${r.stdout}${r.stderr}`};
}

/** A scratch tree with the given files (path → source) and a tsconfig like the project's. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rtpsla-layers-'));
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({compilerOptions: {module: 'nodenext', moduleResolution: 'nodenext'}}));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), {recursive: true});
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, {recursive: true, force: true})));

test('the project tree keeps the layer order', () => {
  const r = cruise(root);
  expect(r.out).toContain('no dependency violations');
  expect(r.status).toBe(0);
});

test('an upward import fails and names the layer rule', () => {
  const dir = tree({
    'src/rtp/packet.ts': "import {meter} from '../metrics/meter.js';\nexport const p = meter;\n",
    'src/metrics/meter.ts': 'export const meter = 1;\n',
  });
  dirs.push(dir);
  const r = cruise(dir);
  expect(r.status).not.toBe(0);
  expect(r.out).toMatch(/layer-rtp: src\/rtp\/packet\.ts → src\/metrics\/meter\.ts/);
});

test('a cycle inside one folder fails', () => {
  const dir = tree({
    'src/rtp/a.ts': "import {b} from './b.js';\nexport const a = () => b;\n",
    'src/rtp/b.ts': "import {a} from './a.js';\nexport const b = () => a;\n",
  });
  dirs.push(dir);
  const r = cruise(dir);
  expect(r.status).not.toBe(0);
  expect(r.out).toContain('no-circular');
});

test('protocol importing any other folder fails, even a lower one', () => {
  const dir = tree({
    'src/protocol/report.ts': "import {x} from '../rtp/x.js';\nexport const r = x;\n",
    'src/rtp/x.ts': 'export const x = 1;\n',
  });
  dirs.push(dir);
  const r = cruise(dir);
  expect(r.status).not.toBe(0);
  expect(r.out).toContain('protocol-imports-only-protocol');
});

test('a folder outside the layer order fails', () => {
  const dir = tree({'src/newthing/a.ts': "import {x} from '../rtp/x.js';\nexport const a = x;\n", 'src/rtp/x.ts': 'export const x = 1;\n'});
  dirs.push(dir);
  const r = cruise(dir);
  expect(r.status).not.toBe(0);
  expect(r.out).toContain('not-in-a-layer');
});
