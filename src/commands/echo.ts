import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {decimal, echoModeFlag, engineFlag, host, logLevelFlag, port, settingName} from '../config/flags.js';
import {ECHO_DESCRIPTION} from '../media/echo/help.js';
import {DEFAULT_ECHO_HOST, DEFAULT_ECHO_PORT, DEFAULT_IDLE_EXPIRY_MS, DEFAULT_MAX_HOLD_MS, engineLine, listeningLine, parseClockRate, parsePtClockRates, statsFields} from '../media/echo/index.js';
import {logMarksOnSignal} from '../media/echo/mark.js';
import {startEchoOn} from '../media/echo/run.js';
import {createLogger} from '../log/logger.js';
import {onStopSignals} from '../runtime/signals.js';

export default class Echo extends BaseCommand {
  static override summary = 'A UDP RTP reflector that sends every packet back to its sender, re-paced by its RTP timestamp.';

  static override description = ECHO_DESCRIPTION;

  static override examples = [
    {description: 'Echo on the default 127.0.0.1:4000.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Any free port (the real one is printed).', command: '<%= config.bin %> <%= command.id %> --port 0'},
    {description: 'From the environment, stats every 5 s.', command: 'ECHO_PORT=4100 <%= config.bin %> <%= command.id %> --stats-interval-sec 5'},
    {description: 'Pace an unknown dynamic payload type at 48 kHz.', command: '<%= config.bin %> <%= command.id %> --pt-clock-rate 96=48000'},
    {description: 'A stand-in voice bot for serve --media-server stream.', command: '<%= config.bin %> <%= command.id %> --mode stream'},
  ];

  static override flags = {
    host: host({description: 'The address to bind.', env: 'ECHO_HOST', default: DEFAULT_ECHO_HOST}),
    port: port({description: 'The UDP port to bind (0 = any free port; the real one is printed).', env: 'ECHO_PORT', default: DEFAULT_ECHO_PORT}),
    'clock-rate': Flags.custom<number>({
      description: 'The RTP clock rate in Hz for payload types without a built-in rate (built in: 0/3/8/9/18 → 8000, 118 → 16000).',
      env: 'ECHO_CLOCK_RATE',
      default: 8000,
      parse: async (text, _ctx, o) => parseClockRate(text, settingName(o)),
    })(),
    'pt-clock-rate': Flags.custom<Record<number, number>>({
      description: 'Extra PT=RATE pairs, comma-separated (e.g. 96=48000,101=8000).',
      env: 'ECHO_PT_CLOCK_RATE',
      parse: async (text, _ctx, o) => parsePtClockRates(text, settingName(o)),
    })(),
    'idle-expiry-ms': decimal({description: 'A source silent this long is forgotten; it re-anchors if it returns.', env: 'ECHO_IDLE_EXPIRY_MS', default: DEFAULT_IDLE_EXPIRY_MS, min: 1, max: 86_400_000}),
    'max-hold-ms': decimal({description: 'No packet waits longer than this: one due further ahead re-anchors its source and goes at once (a timestamp jump).', env: 'ECHO_MAX_HOLD_MS', default: DEFAULT_MAX_HOLD_MS, min: 1, max: 3_600_000}),
    'stats-interval-sec': decimal({description: 'Seconds between stats lines on stderr (0 = off).', env: 'ECHO_STATS_INTERVAL_SEC', default: 10, min: 0, max: 86_400}),
    ...echoModeFlag,
    ...logLevelFlag,
    ...engineFlag,
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Echo);
    // Handlers first: whoever reads the listening line may signal us right away.
    const stop = onStopSignals();
    const logger = createLogger({level: flags['log-level']});
    const echo = await startEchoOn(
      flags.engine,
      {
        host: flags.host,
        port: flags.port,
        clockRateHz: flags['clock-rate'],
        ptClockRates: flags['pt-clock-rate'] ?? {},
        idleExpiryMs: flags['idle-expiry-ms'],
        maxHoldMs: flags['max-hold-ms'],
        statsIntervalSec: flags['stats-interval-sec'],
        mode: flags.mode,
        logger,
      },
      (line) => this.dieWith(line),
    );
    const unmark = logMarksOnSignal(echo.server, logger);
    process.stdout.write(`${echo.kind} engine: ${listeningLine(echo.server)}\n${engineLine(await echo.info())}\n`);
    const signal = await stop.stopped;
    unmark();
    const final = await echo.close();
    stop.dispose();
    logger.info('echo.stopped', {signal, engine: echo.kind, ...statsFields(final)});
  }
}
