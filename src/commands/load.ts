import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {ariFlags, ariSettings, format, formatFlag, numberSetting} from '../config/flags.js';
import {prepareOutDir} from '../config/checks.js';
import {parseHttpUrl} from '../config/parse.js';
import {ConfigError} from '../errors.js';
import {DEFAULT_LATE_THRESHOLD_MS} from '../metrics/call-stats.js';
import {listrProgress, plainProgress} from '../load/progress.js';
import {runLoad} from '../load/run.js';
import {renderSummaryTable} from '../load/summary-table.js';

export default class Load extends BaseCommand {
  static override description = [
    'Originate N concurrent calls through ARI into the app `rtpsla serve` runs, hold each for --duration-ms,',
    'hang up, collect serve\'s per-call measurements and write reports/<runId>.json (schema rtpsla.report/v1).',
    '',
    'Checks that ARI and serve are reachable first (one clear line and exit 2 otherwise; no report).',
    'Ctrl-C hangs up every call it originated and still writes the report, marked partial (exit 130).',
    'Gate the report with `rtpsla sla`.',
  ].join('\n');

  static override examples = [
    {description: '100 calls of 30 s, originated 100 ms apart', command: 'ARI_USER=rtpsla ARI_PASS=rtpsla <%= config.bin %> <%= command.id %> --count 100 --duration-ms 30000 --delay-between-ms 100'},
    {description: 'Then gate it', command: '<%= config.bin %> sla reports/*.json'},
    {description: 'Machine-readable summary on stdout', command: '<%= config.bin %> <%= command.id %> --count 30 --json'},
  ];

  static override flags = {
    ...ariFlags,
    count: Flags.string({description: 'Calls to originate.', env: 'COUNT', default: '30'}),
    'duration-ms': Flags.string({description: 'How long each call is held after it is originated.', env: 'DURATION_MS', default: '30000'}),
    'delay-between-ms': Flags.string({description: 'Spacing between originates.', env: 'DELAY_BETWEEN_MS', default: '100'}),
    endpoint: Flags.string({description: 'Originate endpoint; the README shows its dialplan.', env: 'ENDPOINT', default: 'Local/s@rtpsla-source/n'}),
    ...formatFlag,
    'serve-url': Flags.string({description: 'Where `rtpsla serve` answers HTTP.', env: 'SERVE_URL', default: 'http://127.0.0.1:9090'}),
    out: Flags.string({description: 'Directory for the report.', env: 'REPORTS_DIR', default: 'reports'}),
    'run-id': Flags.string({description: 'Run id (file name of the report); default: UTC time + random suffix.', env: 'RUN_ID'}),
    'late-threshold-ms': Flags.string({description: 'Deadline used by serve (recorded in the report params).', env: 'LATE_THRESHOLD_MS', default: String(DEFAULT_LATE_THRESHOLD_MS)}),
    json: Flags.boolean({description: 'Print {runId, report, summary} as JSON on stdout (progress stays on stderr).', default: false}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Load);
    const ari = ariSettings(flags);
    const runId = flags['run-id'];
    if (runId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId))
      throw new ConfigError(`--run-id/RUN_ID: "${runId}" is not usable as a file name (letters, digits, . _ -)`);
    const options = {
      ...ari,
      count: numberSetting(flags.count, '--count/COUNT', 1, 100_000, true),
      durationMs: numberSetting(flags['duration-ms'], '--duration-ms/DURATION_MS', 0, 86_400_000),
      delayBetweenMs: numberSetting(flags['delay-between-ms'], '--delay-between-ms/DELAY_BETWEEN_MS', 0, 3_600_000),
      endpoint: flags.endpoint.trim() || (() => { throw new ConfigError('--endpoint/ENDPOINT: empty'); })(),
      format: format(flags.format),
      serveUrl: parseHttpUrl(flags['serve-url'], '--serve-url/SERVE_URL'),
      outDir: prepareOutDir(flags.out, '--out/REPORTS_DIR'), // checked before anything is originated
      runId,
      lateThresholdMs: numberSetting(flags['late-threshold-ms'], '--late-threshold-ms/LATE_THRESHOLD_MS', 0.001, 10_000),
    };

    const controller = new AbortController();
    const onSigint = () => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write('load: interrupted: hanging up and writing a partial report (Ctrl-C again to quit at once)\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    const view = !flags.json && process.stdout.isTTY ? listrProgress() : plainProgress();
    let result;
    try {
      result = await runLoad({...options, signal: controller.signal, onProgress: (p) => view.update(p)});
      await view.finish(true);
    } catch (err) {
      await view.finish(false);
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    if (flags.json) process.stdout.write(JSON.stringify({runId: result.report.runId, report: result.path, partial: result.report.partial ?? false, summary: result.report.summary}) + '\n');
    else process.stdout.write(renderSummaryTable(result.report, result.path) + '\n');
    if (result.report.partial) process.exitCode = 130;
  }
}
