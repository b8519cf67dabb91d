/** `rtpsla capacity --help`: whole sentences, examples, listed among the commands, --json. */
import {runCli} from '../helpers/cli.js';
import Capacity from '../../src/commands/capacity.js';

const SENTENCE = /^[A-Z0-9`'"].*[.)]$/s;

describe('rtpsla capacity --help', () => {
  test('summary, examples and every flag are whole sentences', () => {
    expect(Capacity.summary).toMatch(SENTENCE);
    for (const e of Capacity.examples as Array<{description: string}>) expect(e.description).toMatch(SENTENCE);
    const flags = Capacity.flags as Record<string, {description?: string}>;
    const notSentences = Object.entries(flags).filter(([, f]) => !SENTENCE.test(f.description ?? ''));
    expect(notSentences.map(([name, f]) => `--${name}: ${f.description}`)).toEqual([]);
    expect(Capacity.enableJsonFlag).toBe(true);
  });

  test('is listed with the other commands and explains itself with examples', async () => {
    const all = await runCli(['--help']);
    expect(all.stdout).toMatch(/^\s+capacity\s+\S/m);
    const r = await runCli(['capacity', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^EXAMPLES/m);
    expect(r.stdout).toMatch(/--resolution/);
  });

  test('a bad --resolution or --late-above-calls without --embedded is one line, exit 2, before any call', async () => {
    const bad = await runCli(['capacity', '--embedded', '--resolution', '100%']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--resolution.*"100%" is not a number of calls/);
    const fault = await runCli(['capacity', '--late-above-calls', '50'], {env: {ARI_USER: 'u', ARI_PASS: 'p'}});
    expect(fault.code).toBe(2);
    expect(fault.stderr).toMatch(/--late-above-calls .* give it with --embedded/);
  });
});
