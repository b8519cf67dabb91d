import {runCli} from '../helpers/cli.js';

describe('rtpsla --help', () => {
  test('lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['demo', 'echo', 'load', 'serve', 'sim', 'sla']) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\s+\\S`, 'm'));
  });

  test.each(['demo', 'echo', 'load', 'serve', 'sim', 'sla'])('%s --help explains itself with examples', async (cmd) => {
    const r = await runCli([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^USAGE/m);
    expect(r.stdout).toMatch(/^EXAMPLES/m);
    expect(r.stdout).toMatch(/^FLAG DESCRIPTIONS|^FLAGS/m);
  });

  test('an unknown flag is one line naming it, exit 2', async () => {
    const r = await runCli(['sla', '--bogus', 'x.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--bogus/);
  });
});

describe('help texts are whole sentences', () => {
  const SENTENCE = /^[A-Z0-9`'"].*[.)]$/s;
  test.each(['bench', 'demo', 'echo', 'load', 'serve', 'sim', 'sla'])('%s: summary, examples and every flag', async (cmd) => {
    const C = (await import(`../../src/commands/${cmd}.js`)).default as {
      summary?: string;
      flags: Record<string, {description?: string}>;
      examples: Array<{description: string}>;
    };
    expect(C.summary).toMatch(SENTENCE);
    for (const e of C.examples) expect(e.description).toMatch(SENTENCE);
    const notSentences = Object.entries(C.flags).filter(([, f]) => !SENTENCE.test(f.description ?? ''));
    expect(notSentences.map(([name, f]) => `--${name}: ${f.description}`)).toEqual([]);
  });
});

describe('serve --help', () => {
  test('explains the app lease and when /health turns 503', async () => {
    const {SERVE_DESCRIPTION} = await import('../../src/serve/help.js');
    expect(SERVE_DESCRIPTION).toMatch(/global variable RTPSLA_SERVE_<app> \(refreshed every 5 s, valid for 15 s\)/);
    expect(SERVE_DESCRIPTION).toMatch(/second serve for the same app .* refuses to start/);
    expect(SERVE_DESCRIPTION).toMatch(/ARI user that is not read_only/);
    expect(SERVE_DESCRIPTION).toMatch(/\/health \(503 [^)]*after ApplicationReplaced/);
  });
});
