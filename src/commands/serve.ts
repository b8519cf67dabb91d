import {BaseCommand} from '../base-command.js';
import {ariFlags, ariSettings, decimal, engineFlag, formatFlag, host, logLevelFlag, mediaServerFlag, port, portRange} from '../config/flags.js';
import {createLogger} from '../log/logger.js';
import {DEFAULT_LATE_THRESHOLD_MS} from '../metrics/call-stats.js';
import {onStopSignals} from '../runtime/signals.js';
import {SERVE_DESCRIPTION} from '../serve/help.js';
import {startServe} from '../serve/index.js';

export default class Serve extends BaseCommand {
  static override summary = 'Run the ARI Stasis app with a measuring RTP relay between Asterisk and the echo (or media) server.';

  static override description = SERVE_DESCRIPTION;

  static override examples = [
    {
      description: 'Against the embedded sim (rtpsla sim) and echo (rtpsla echo) on their defaults.',
      command: 'ARI_USER=rtpsla ARI_PASS=rtpsla <%= config.bin %> <%= command.id %>',
    },
    {
      description: 'Against a real Asterisk, relay ports clear of Asterisk\'s own RTP range (10000-20000).',
      command: 'ARI_URL=http://127.0.0.1:8088 ARI_USER=rtpsla ARI_PASS=secret <%= config.bin %> <%= command.id %> --port-range 30000-39999',
    },
    {description: 'Scrape the metrics.', command: 'curl -s 127.0.0.1:9090/metrics'},
  ];

  static override flags = {
    ...ariFlags,
    'bind-ip': host({description: 'The address the relay ports bind to (and external_host points at).', env: 'BIND_IP', default: '127.0.0.1'}),
    'port-range': portRange({description: 'Relay ports, LOW-HIGH inclusive; one per call.', env: 'PORT_RANGE', default: {low: 4500, high: 50000}}),
    'echo-host': host({description: 'The echo or media server address.', env: 'ECHO_HOST', default: '127.0.0.1'}),
    'echo-port': port({description: 'The echo or media server UDP port.', env: 'ECHO_PORT', default: 4000, min: 1}),
    'metrics-host': host({description: 'The HTTP endpoint address.', env: 'METRICS_HOST', default: '127.0.0.1'}),
    'metrics-port': port({description: 'The HTTP endpoint port (0 = any; the real one is printed).', env: 'METRICS_PORT', default: 9090}),
    'metrics-interval-sec': decimal({description: 'Seconds between stats log lines (0 = off).', env: 'METRICS_INTERVAL_SEC', default: 10, min: 0, max: 86_400}),
    ...formatFlag,
    'late-threshold-ms': decimal({description: 'A packet back later than this after its deadline misses it.', env: 'LATE_THRESHOLD_MS', default: DEFAULT_LATE_THRESHOLD_MS, min: 0.001, max: 10_000}),
    'drain-ms': decimal({description: 'After a call ends, its relay still accepts echoed packets this long.', env: 'DRAIN_MS', default: 200, min: 0, max: 60_000}),
    'reconcile-interval-sec': decimal({description: 'Seconds between zombie clean-ups (0 = only at start-up and after reconnects).', env: 'RECONCILE_INTERVAL_SEC', default: 30, min: 0, max: 86_400}),
    ...mediaServerFlag,
    ...engineFlag,
    ...logLevelFlag,
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Serve);
    const ari = ariSettings(flags);
    const options = {
      ...ari, bindIp: flags['bind-ip'], portRange: flags['port-range'], echoHost: flags['echo-host'], echoPort: flags['echo-port'],
      metricsHost: flags['metrics-host'], metricsPort: flags['metrics-port'], metricsIntervalSec: flags['metrics-interval-sec'],
      format: flags.format, lateThresholdMs: flags['late-threshold-ms'], drainMs: flags['drain-ms'],
      reconcileIntervalSec: flags['reconcile-interval-sec'], engine: flags.engine, mediaServer: flags['media-server'],
    };
    const logger = createLogger({level: flags['log-level']});
    const stop = onStopSignals();
    let fatal: (line: string) => void = () => undefined;
    const died = new Promise<string>((resolve) => (fatal = resolve));
    const serve = await startServe({...options, logger, onFatal: (line) => fatal(line)});
    const {low, high} = options.portRange;
    process.stdout.write(
      `serve listening on http://${options.metricsHost}:${serve.httpPort} (app ${ari.app}, relay ${options.bindIp}:${low}-${high} → ${options.mediaServer} ${options.echoHost}:${options.echoPort}, engine ${serve.ledger.engine})\n`,
    );
    const ended = await Promise.race([stop.stopped.then((signal) => ({signal, line: null})), died.then((line) => ({signal: null, line}))]);
    logger.info('serve.stopping', ended.line !== null ? {reason: ended.line} : {signal: ended.signal});
    await serve.close();
    stop.dispose();
    if (ended.line !== null) {
      process.stderr.write(`rtpsla serve: ${ended.line}\n`);
      process.exitCode = 1;
    }
    logger.info('serve.stopped', {callsFinished: serve.ledger.callsFinished, portsHeld: serve.ledger.ports.held});
  }
}
