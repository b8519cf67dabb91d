/**
 * The size rules of eslint.config.js on src/**\/*.ts: a function of at most 80 lines and a file of
 * at most 500, every line counted (blank lines and comments too); tests are not held to them.
 */
import {ESLint} from 'eslint';
import {ROOT} from '../helpers/cli.js';

const eslint = new ESLint({cwd: ROOT});

/** A function whose body is `lines` lines long in all (declaration and closing brace included). */
function fn(lines: number): string {
  const body = Array.from({length: lines - 2}, (_, i) => (i % 3 === 0 ? '' : i % 3 === 1 ? `  // comment ${i}` : `  void ${i};`));
  return ['export function f(): void {', ...body, '}'].join('\n') + '\n';
}

async function sizeRules(code: string, filePath: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, {filePath});
  return r.messages.map((m) => m.ruleId ?? '').filter((id) => id.startsWith('max-lines'));
}

describe('size rules', () => {
  test('a function of 80 lines passes in src/, one of 81 (blank lines and comments counted) fails', async () => {
    expect(await sizeRules(fn(80), 'src/rtp/sizes-probe.ts')).toEqual([]);
    expect(await sizeRules(fn(81), 'src/rtp/sizes-probe.ts')).toEqual(['max-lines-per-function']);
  });

  test('a file of 500 lines passes in src/, one of 501 fails', async () => {
    const file = (n: number) => Array.from({length: n}, (_, i) => (i % 2 ? '' : `// line ${i}`)).join('\n') + '\n';
    expect(await sizeRules(file(500), 'src/rtp/sizes-probe.ts')).toEqual([]);
    expect(await sizeRules(file(501), 'src/rtp/sizes-probe.ts')).toEqual(['max-lines']);
  });

  test('tests are not held to them', async () => {
    expect(await sizeRules(fn(200), 'test/rtp/sizes-probe.test.ts')).toEqual([]);
  });
});
