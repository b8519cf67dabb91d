import {Parser} from '@oclif/core';
import {flagErrorLine} from '../../src/base-command.js';
import {decimal, engineFlag, formatFlag, host, httpUrl, integer, integerList, logLevelFlag, nonEmpty, port, portRange, runId} from '../../src/config/flags.js';
import {ConfigError, errorMessage} from '../../src/errors.js';

type Flags = Parameters<typeof Parser.parse>[1]['flags'];

/** Parse `argv` with oclif's own parser; the value of flag `name`. */
async function value(flags: Flags, argv: string[], name = Object.keys(flags!)[0]): Promise<unknown> {
  const out = await Parser.parse(argv, {flags});
  return (out.flags as Record<string, unknown>)[name];
}

/** The line a user sees for a bad value (BaseCommand prints flagErrorLine of the message). */
async function errorLine(flags: Flags, argv: string[]): Promise<string> {
  try {
    await Parser.parse(argv, {flags});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError); // exit code 2
    return flagErrorLine(errorMessage(err));
  }
  throw new Error('parsed without an error');
}

const cases: Array<[string, Flags, string[], RegExp]> = [
  ['integer: not a number', {count: integer({env: 'COUNT', min: 1, max: 100_000})}, ['--count', 'many'], /^--count\/COUNT: "many" is not a whole number in 1-100000$/],
  ['integer: a fraction', {count: integer({env: 'COUNT', min: 1, max: 100_000})}, ['--count', '1.5'], /^--count\/COUNT: "1.5" is not a whole number in 1-100000$/],
  ['integer: below min', {count: integer({env: 'COUNT', min: 1, max: 100_000})}, ['--count', '0'], /^--count\/COUNT: "0" is not a whole number in 1-100000$/],
  ['integer without env', {'soak-min': integer({min: 1, max: 1440})}, ['--soak-min', '1441'], /^--soak-min: "1441" is not a whole number in 1-1440$/],
  ['integer list', {calls: integerList({min: 1, max: 5000})}, ['--calls', '30,x'], /^--calls: "x" is not a whole number in 1-5000$/],
  ['decimal', {'duration-ms': decimal({env: 'DURATION_MS', min: 0, max: 86_400_000})}, ['--duration-ms', '-5'], /^--duration-ms\/DURATION_MS: "-5" is not a number in 0-86400000$/],
  ['port: text', {port: port({env: 'ECHO_PORT'})}, ['--port', 'abc'], /^--port\/ECHO_PORT: "abc" is not a port in 0-65535$/],
  ['port: 0 where a peer is meant', {'echo-port': port({env: 'ECHO_PORT', min: 1})}, ['--echo-port', '0'], /^--echo-port\/ECHO_PORT: "0" is not a port in 1-65535$/],
  ['port range: inverted', {'port-range': portRange({env: 'PORT_RANGE'})}, ['--port-range', '50000-40000'], /^--port-range\/PORT_RANGE: 50000-40000 is inverted \(low > high\)$/],
  ['port range: not a range', {'port-range': portRange({env: 'PORT_RANGE'})}, ['--port-range', 'lots'], /^--port-range\/PORT_RANGE: "lots" is not a port range like 4500-50000$/],
  ['port range: outside 1-65535', {'port-range': portRange({env: 'PORT_RANGE'})}, ['--port-range', '0-10'], /^--port-range\/PORT_RANGE: 0-10 is outside 1-65535$/],
  ['port range: RTP needs two ports', {'rtp-range': portRange({env: 'SIM_RTP_RANGE', even: true})}, ['--rtp-range', '5000-5000'], /^--rtp-range\/SIM_RTP_RANGE: needs at least one even port$/],
  ['URL without scheme', {'serve-url': httpUrl({env: 'SERVE_URL'})}, ['--serve-url', '127.0.0.1:9090'], /^--serve-url\/SERVE_URL: "127.0.0.1:9090" needs a scheme \(http:\/\/ or https:\/\/\)$/],
  ['URL unparseable', {'serve-url': httpUrl({env: 'SERVE_URL'})}, ['--serve-url', 'http://'], /^--serve-url\/SERVE_URL: "http:\/\/" is not a valid URL$/],
  ['host with a space', {'bind-ip': host({env: 'BIND_IP'})}, ['--bind-ip', 'a b'], /^--bind-ip\/BIND_IP: "a b" is not a host address$/],
  ['empty text', {endpoint: nonEmpty({env: 'ENDPOINT'})}, ['--endpoint', ' '], /^--endpoint\/ENDPOINT: empty$/],
  ['run id', {'run-id': runId({env: 'RUN_ID'})}, ['--run-id', '../x'], /^--run-id\/RUN_ID: "..\/x" is not usable as a file name \(letters, digits, \. _ -\)$/],
  ['format', formatFlag, ['--format', 'opus'], /^--format\/FORMAT: "opus" is not one of ulaw, alaw, g722, slin16$/],
  ['engine', engineFlag, ['--engine', 'rust'], /^--engine\/RTPSLA_ENGINE: "rust" is not one of auto, native, node$/],
  ['log level', logLevelFlag, ['--log-level', 'loud'], /^--log-level\/LOG_LEVEL: "loud" is not one of debug, info, warn, error, silent$/],
];

describe('typed flags', () => {
  test.each(cases)('%s: one line naming the setting', async (_name, flags, argv, line) => {
    const text = await errorLine(flags, argv);
    expect(text).not.toContain('\n');
    expect(text).toMatch(line);
  });

  test('values come out typed; defaults are typed too', async () => {
    expect(await value({count: integer({min: 1, max: 10, default: 3})}, ['--count', '7'])).toBe(7);
    expect(await value({count: integer({min: 1, max: 10, default: 3})}, [])).toBe(3);
    expect(await value({ms: decimal({min: 0.001, max: 10})}, ['--ms', '0.5'])).toBe(0.5);
    expect(await value({calls: integerList({min: 1, max: 5000})}, ['--calls', '150, 600'])).toEqual([150, 600]);
    expect(await value({r: portRange({default: {low: 4500, high: 50000}})}, ['--r', '30000-39999'])).toEqual({low: 30000, high: 39999});
    expect(await value({u: httpUrl({})}, ['--u', 'http://127.0.0.1:9090/'])).toBe('http://127.0.0.1:9090');
    expect(await value(formatFlag, ['--format', 'slin16'])).toBe('slin16');
  });

  describe('environment variables (every flag reads its env var, the flag wins)', () => {
    const saved = process.env.RTPSLA_TEST_COUNT;
    afterEach(() => {
      if (saved === undefined) delete process.env.RTPSLA_TEST_COUNT;
      else process.env.RTPSLA_TEST_COUNT = saved;
    });
    const flags = {count: integer({env: 'RTPSLA_TEST_COUNT', min: 1, max: 100, default: 30})};

    test('the env var is read and parsed', async () => {
      process.env.RTPSLA_TEST_COUNT = '12';
      expect(await value(flags, [])).toBe(12);
    });

    test('the flag wins over the env var', async () => {
      process.env.RTPSLA_TEST_COUNT = '12';
      expect(await value(flags, ['--count', '5'])).toBe(5);
    });

    test('a bad env value is one line naming the flag and the env var', async () => {
      process.env.RTPSLA_TEST_COUNT = '-1';
      expect(await errorLine(flags, [])).toBe('--count/RTPSLA_TEST_COUNT: "-1" is not a whole number in 1-100');
    });
  });
});

describe('flagErrorLine', () => {
  test("oclif's wrapper around a flag error is taken off", () => {
    expect(flagErrorLine('Parsing --count \n\t--count/COUNT: "x" is not a whole number in 1-5\nSee more help with --help')).toBe('--count/COUNT: "x" is not a whole number in 1-5');
  });

  test('any other message keeps its first line', () => {
    expect(flagErrorLine('Expected --level=x to be one of: nominal, high, stress\nSee more help with --help')).toBe('Expected --level=x to be one of: nominal, high, stress');
  });
});

describe("commands' own typed flags", () => {
  test.each([
    ['sim --fail', async () => (await import('../../src/commands/sim.js')).default.flags, ['--fail', 'nosuchop=500'], /^--fail: /],
    ['echo --clock-rate', async () => (await import('../../src/commands/echo.js')).default.flags, ['--clock-rate', '100'], /^--clock-rate\/ECHO_CLOCK_RATE: "100" is not a clock rate in 1000-192000 Hz$/],
    ['echo --pt-clock-rate', async () => (await import('../../src/commands/echo.js')).default.flags, ['--pt-clock-rate', '96'], /^--pt-clock-rate\/ECHO_PT_CLOCK_RATE: "96" is not PT=RATE/],
    ['bench --paths', async () => (await import('../../src/commands/bench.js')).default.flags, ['--paths', 'relay'], /^--paths: "relay" is not a comma-separated list of direct, native, native-defaults, node, rtpengine, rtpengine-defaults, rtpcaller \(or all\)$/],
  ])('%s: one line naming the setting', async (_name, flags, argv, line) => {
    const text = await errorLine(await flags(), argv as string[]);
    expect(text).not.toContain('\n');
    expect(text).toMatch(line as RegExp);
  });
});
