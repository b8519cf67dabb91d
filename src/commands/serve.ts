import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {ariFlags, ariSettings, engineFlag, format, formatFlag, hostSetting, logLevel, logLevelFlag, numberSetting} from '../config/flags.js';
import {parseEngineChoice} from '../engine/engine-select.js';
import {parsePort, parsePortRange} from '../config/parse.js';
import {ConfigError} from '../errors.js';
import {createLogger} from '../log/logger.js';
import {DEFAULT_LATE_THRESHOLD_MS} from '../metrics/call-stats.js';
import {startServe} from '../serve/index.js';

export default class Serve extends BaseCommand {
  static override description = [
    'ARI Stasis app with a measuring RTP relay: answers each call, bridges it with an externalMedia channel',
    'pointed at a relay port, and forwards RTP to the echo (or media) server and back, measuring every packet.',
    '',
    'HTTP on --metrics-host:--metrics-port: /health (503 while ARI is disconnected), /metrics (Prometheus text;',
    'JSON with Accept: application/json), /calls (live calls), /runs/RUNID (per-call records for `rtpsla load`).',
    'Logs one line per event on stderr (call id on every line) and a stats line every --metrics-interval-sec.',
    'SIGINT/SIGTERM: hangs up its calls, destroys its bridges, releases ports, exits 0.',
  ].join('\n');

  static override examples = [
    {
      description: 'Against the embedded sim (rtpsla sim) and echo (rtpsla echo) on their defaults',
      command: 'ARI_USER=rtpsla ARI_PASS=rtpsla <%= config.bin %> <%= command.id %>',
    },
    {
      description: 'Against a real Asterisk, relay ports clear of Asterisk\'s own RTP range (10000-20000)',
      command: 'ARI_URL=http://127.0.0.1:8088 ARI_USER=rtpsla ARI_PASS=secret <%= config.bin %> <%= command.id %> --port-range 30000-39999',
    },
    {description: 'Scrape the metrics', command: 'curl -s 127.0.0.1:9090/metrics'},
  ];

  static override flags = {
    ...ariFlags,
    'bind-ip': Flags.string({description: 'Address the relay ports bind to (and external_host points at).', env: 'BIND_IP', default: '127.0.0.1'}),
    'port-range': Flags.string({description: 'Relay ports, LOW-HIGH inclusive; one per call.', env: 'PORT_RANGE', default: '4500-50000'}),
    'echo-host': Flags.string({description: 'Echo / media server address.', env: 'ECHO_HOST', default: '127.0.0.1'}),
    'echo-port': Flags.string({description: 'Echo / media server UDP port.', env: 'ECHO_PORT', default: '4000'}),
    'metrics-host': Flags.string({description: 'HTTP endpoint address.', env: 'METRICS_HOST', default: '127.0.0.1'}),
    'metrics-port': Flags.string({description: 'HTTP endpoint port (0 = any; the real one is printed).', env: 'METRICS_PORT', default: '9090'}),
    'metrics-interval-sec': Flags.string({description: 'Seconds between stats log lines (0 = off).', env: 'METRICS_INTERVAL_SEC', default: '10'}),
    ...formatFlag,
    'late-threshold-ms': Flags.string({description: 'A packet back later than this after its deadline misses it.', env: 'LATE_THRESHOLD_MS', default: String(DEFAULT_LATE_THRESHOLD_MS)}),
    'drain-ms': Flags.string({description: 'After a call ends, how long its relay still accepts echoed packets.', env: 'DRAIN_MS', default: '200'}),
    'reconcile-interval-sec': Flags.string({description: 'Seconds between zombie clean-ups (0 = only at start-up and after reconnects).', env: 'RECONCILE_INTERVAL_SEC', default: '30'}),
    ...engineFlag,
    ...logLevelFlag,
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Serve);
    const ari = ariSettings(flags);
    const portRange = parsePortRange(flags['port-range'], '--port-range/PORT_RANGE');
    const echoPort = parsePort(flags['echo-port'], '--echo-port/ECHO_PORT');
    if (echoPort === 0) throw new ConfigError('--echo-port/ECHO_PORT: 0 is not a port to send to');
    const options = {
      ...ari,
      bindIp: hostSetting(flags['bind-ip'], '--bind-ip/BIND_IP'),
      portRange,
      echoHost: hostSetting(flags['echo-host'], '--echo-host/ECHO_HOST'),
      echoPort,
      metricsHost: hostSetting(flags['metrics-host'], '--metrics-host/METRICS_HOST'),
      metricsPort: parsePort(flags['metrics-port'], '--metrics-port/METRICS_PORT'),
      metricsIntervalSec: numberSetting(flags['metrics-interval-sec'], '--metrics-interval-sec/METRICS_INTERVAL_SEC', 0, 86_400),
      format: format(flags.format),
      lateThresholdMs: numberSetting(flags['late-threshold-ms'], '--late-threshold-ms/LATE_THRESHOLD_MS', 0.001, 10_000),
      drainMs: numberSetting(flags['drain-ms'], '--drain-ms/DRAIN_MS', 0, 60_000),
      reconcileIntervalSec: numberSetting(flags['reconcile-interval-sec'], '--reconcile-interval-sec/RECONCILE_INTERVAL_SEC', 0, 86_400),
      engine: parseEngineChoice(flags.engine),
    };
    const logger = createLogger({level: logLevel(flags['log-level'])});
    const serve = await startServe({...options, logger});
    process.stdout.write(
      `serve listening on http://${options.metricsHost}:${serve.httpPort} (app ${ari.app}, relay ${options.bindIp}:${portRange.low}-${portRange.high} → echo ${options.echoHost}:${echoPort}, engine ${serve.calls.engine})\n`,
    );
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    logger.info('serve.stopping', {signal});
    await serve.close();
    logger.info('serve.stopped', {callsFinished: serve.calls.finished.calls, portsHeld: serve.calls.pool.held});
  }
}
