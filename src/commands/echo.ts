import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {parsePort} from '../config/parse.js';
import {ConfigError} from '../errors.js';
import {
  DEFAULT_ECHO_HOST,
  DEFAULT_ECHO_PORT,
  DEFAULT_IDLE_EXPIRY_MS,
  DEFAULT_MAX_HOLD_MS,
  listeningLine,
  parseClockRate,
  parsePtClockRates,
  startEcho,
  statsFields,
} from '../echo/index.js';
import {engineFlag} from '../config/flags.js';
import {parseEngineChoice, selectEngine} from '../engine/engine-select.js';
import {startNativeEcho} from '../engine/native-echo.js';
import {createLogger, parseLogLevel} from '../log/logger.js';

export default class Echo extends BaseCommand {
  static override description = [
    'UDP RTP reflector that sends every packet back to its sender, re-paced by its RTP timestamp.',
    '',
    'Each source (address:port + SSRC) is anchored at its first packet; a packet is sent back at max(now, t0 + (ts - ts0) / clock_rate). ' +
      'Early packets wait for their slot, late ones go at once, and the datagram is returned byte-identical. ' +
      'Malformed datagrams are counted and not echoed; idle sources expire.',
    '',
    'With --engine native (or auto, when the engine is built) the native media engine reflects the packets with kernel receive times. ' +
      'Prints one "ENGINE engine: echo listening on HOST:PORT (rcvbuf N, sndbuf N)" line on stdout once bound, periodic stats on stderr, ' +
      'and the final counters on stderr at SIGINT/SIGTERM (exit 0).',
  ].join('\n');

  static override examples = [
    {description: 'Echo on the default 127.0.0.1:4000', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Any free port (the real one is printed)', command: '<%= config.bin %> <%= command.id %> --port 0'},
    {description: 'From the environment, stats every 5 s', command: 'ECHO_PORT=4100 <%= config.bin %> <%= command.id %> --stats-interval-sec 5'},
    {description: 'Pace an unknown dynamic payload type at 48 kHz', command: '<%= config.bin %> <%= command.id %> --pt-clock-rate 96=48000'},
  ];

  static override flags = {
    host: Flags.string({description: 'Address to bind.', env: 'ECHO_HOST', default: DEFAULT_ECHO_HOST}),
    port: Flags.string({description: 'UDP port to bind (0 = any free port; the real one is printed).', env: 'ECHO_PORT', default: String(DEFAULT_ECHO_PORT)}),
    'clock-rate': Flags.string({
      description: 'RTP clock rate (Hz) for payload types without a built-in rate (built in: 0/3/8/9/18 → 8000, 118 → 16000).',
      env: 'ECHO_CLOCK_RATE',
      default: '8000',
    }),
    'pt-clock-rate': Flags.string({description: 'Extra PT=RATE pairs, comma-separated (e.g. 96=48000,101=8000).', env: 'ECHO_PT_CLOCK_RATE'}),
    'idle-expiry-ms': Flags.string({description: 'Forget a source silent this long; it re-anchors if it returns.', env: 'ECHO_IDLE_EXPIRY_MS', default: String(DEFAULT_IDLE_EXPIRY_MS)}),
    'max-hold-ms': Flags.string({description: 'A packet due further ahead than this re-anchors its source (timestamp jump).', env: 'ECHO_MAX_HOLD_MS', default: String(DEFAULT_MAX_HOLD_MS)}),
    'stats-interval-sec': Flags.string({description: 'Seconds between stats lines on stderr (0 = off).', env: 'ECHO_STATS_INTERVAL_SEC', default: '10'}),
    'log-level': Flags.string({description: 'Log level on stderr: debug, info, warn, error, silent.', env: 'LOG_LEVEL', default: 'info'}),
    ...engineFlag,
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Echo);
    const port = parsePort(flags.port, '--port/ECHO_PORT');
    const clockRateHz = parseClockRate(flags['clock-rate'], '--clock-rate/ECHO_CLOCK_RATE');
    const ptClockRates = parsePtClockRates(flags['pt-clock-rate'] ?? '', '--pt-clock-rate/ECHO_PT_CLOCK_RATE');
    const idleExpiryMs = parseNumber(flags['idle-expiry-ms'], '--idle-expiry-ms/ECHO_IDLE_EXPIRY_MS', 1, 86_400_000);
    const maxHoldMs = parseNumber(flags['max-hold-ms'], '--max-hold-ms/ECHO_MAX_HOLD_MS', 1, 3_600_000);
    const statsIntervalSec = parseNumber(flags['stats-interval-sec'], '--stats-interval-sec/ECHO_STATS_INTERVAL_SEC', 0, 86_400);
    const level = parseLogLevel(flags['log-level']);
    if (level === undefined) throw new ConfigError(`--log-level/LOG_LEVEL: "${flags['log-level']}" is not one of debug, info, warn, error, silent`);
    const host = flags.host.trim();
    if (host === '') throw new ConfigError('--host/ECHO_HOST: empty');
    const engineChoice = parseEngineChoice(flags.engine);

    // Handlers first: whoever reads the listening line may signal us right away.
    const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    const logger = createLogger({level});
    const engine = await selectEngine(engineChoice);
    if (engine.fallbackReason !== null) logger.info('engine.fallback', {engine: 'node', reason: engine.fallbackReason});
    const echoOptions = {host, port, clockRateHz, ptClockRates, idleExpiryMs, maxHoldMs, statsIntervalSec, logger};
    const echo = await (engine.native ? startNativeEcho(engine.native, echoOptions) : startEcho(echoOptions)).catch(async (err: unknown) => {
      await engine.native?.close();
      throw err;
    });
    engine.native?.on('error', (err: Error) => {
      logger.error('engine.exited', {error: err.message});
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    });
    process.stdout.write(`${engine.kind} engine: ${listeningLine(echo)}\n`);

    const signal = await stopSignal;
    const final = await echo.close();
    await engine.native?.close();
    logger.info('echo.stopped', {signal, engine: engine.kind, ...statsFields(final)});
  }
}

function parseNumber(text: string, setting: string, min: number, max: number): number {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${setting}: "${text}" is not a number in ${min}-${max}`);
  return n;
}
