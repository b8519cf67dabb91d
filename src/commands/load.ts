import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {ariFlags, ariSettings, callerFlags, decimal, engineFlag, formatFlag, httpUrl, integer, jsonFlag, nonEmpty, runId} from '../config/flags.js';
import {prepareOutDir} from '../config/checks.js';
import {DEFAULT_LATE_THRESHOLD_MS} from '../metrics/call-stats.js';
import {listrProgress, plainProgress} from '../load/progress.js';
import {runLoad} from '../load/run.js';
import {writeHtmlReport} from '../report/index.js';
import {loadSummaryJson, renderSummaryTable} from '../load/summary-table.js';
import {onStopSignals} from '../runtime/signals.js';

export default class Load extends BaseCommand {
  static override summary = 'Originate N concurrent calls into `rtpsla serve` and write a report of every call\'s measurements.';

  static override description = [
    'Originates N concurrent calls through ARI into the app `rtpsla serve` runs, holds each for --duration-ms, hangs up, collects serve\'s per-call measurements and writes reports/<runId>.json (schema rtpsla.report/v1).',
    'By default (--caller rtp) rtpsla itself is each call\'s caller: it creates an externalMedia channel as the caller, sends it 20 ms RTP frames from its own ports and measures what comes back, what a person on the phone would hear, beside the relay\'s figures. With --caller endpoint it originates --endpoint instead and measures at the relay only.',
    'Checks that ARI and serve are reachable first (one clear line and exit 2 otherwise; no report). Ctrl-C hangs up every call it originated and still writes the report, marked partial (exit 130); a second Ctrl-C quits at once. Gate the report with `rtpsla sla`.',
  ].join('\n\n');

  static override examples = [
    {description: '100 calls of 30 s, originated 100 ms apart.', command: 'ARI_USER=rtpsla ARI_PASS=rtpsla <%= config.bin %> <%= command.id %> --count 100 --duration-ms 30000 --delay-between-ms 100'},
    {description: 'Then gate it.', command: '<%= config.bin %> sla reports/*.json'},
    {description: 'A machine-readable summary on stdout.', command: '<%= config.bin %> <%= command.id %> --count 30 --json'},
  ];

  static override enableJsonFlag = true;

  static override flags = {
    ...ariFlags,
    count: integer({description: 'Calls to originate.', env: 'COUNT', default: 30, min: 1, max: 100_000}),
    'duration-ms': decimal({description: 'How long each call is held after it is originated.', env: 'DURATION_MS', default: 30_000, min: 0, max: 86_400_000}),
    'delay-between-ms': decimal({description: 'The spacing between originates.', env: 'DELAY_BETWEEN_MS', default: 100, min: 0, max: 3_600_000}),
    ...callerFlags,
    endpoint: nonEmpty({description: 'The endpoint originated with --caller endpoint; the README shows its dialplan.', env: 'ENDPOINT', default: 'Local/s@rtpsla-source/n'}),
    ...engineFlag,
    ...formatFlag,
    'serve-url': httpUrl({description: 'Where `rtpsla serve` answers HTTP.', env: 'SERVE_URL', default: 'http://127.0.0.1:9090'}),
    out: Flags.string({description: 'The directory for the report (created if missing).', env: 'REPORTS_DIR', default: 'reports'}),
    'run-id': runId({description: 'The run id, also the report\'s file name (default: UTC time + a random suffix).', env: 'RUN_ID'}),
    'late-threshold-ms': decimal({description: 'The deadline serve uses, recorded in the report params.', env: 'LATE_THRESHOLD_MS', default: DEFAULT_LATE_THRESHOLD_MS, min: 0.001, max: 10_000}),
    html: Flags.string({description: 'Also draw the report into this self-contained HTML page (as `rtpsla report --html` does).', helpValue: 'FILE'}),
    ...jsonFlag('Print {runId, report, partial, summary} as JSON on stdout instead of the table (progress stays on stderr).'),
  };

  async run(): Promise<ReturnType<typeof loadSummaryJson> & {html?: string}> {
    const {flags} = await this.parse(Load);
    const options = {
      ...ariSettings(flags), count: flags.count, durationMs: flags['duration-ms'], delayBetweenMs: flags['delay-between-ms'],
      endpoint: flags.endpoint, caller: flags.caller, callerBindIp: flags['caller-bind-ip'], callerPortRange: flags['caller-port-range'], callerEngine: flags.engine,
      format: flags.format, serveUrl: flags['serve-url'], runId: flags['run-id'], lateThresholdMs: flags['late-threshold-ms'],
      outDir: prepareOutDir(flags.out, '--out/REPORTS_DIR'), // checked before anything is originated
    };
    const stop = onStopSignals({message: 'load: interrupted: hanging up and writing a partial report (Ctrl-C again to quit at once)'});
    const view = !this.jsonEnabled() && process.stdout.isTTY ? listrProgress() : plainProgress();
    let result;
    try {
      result = await runLoad({...options, signal: stop.signal, onProgress: (p) => view.update(p)});
      await view.finish(true);
    } catch (err) {
      await view.finish(false);
      throw err;
    } finally {
      stop.dispose();
    }
    if (!this.jsonEnabled()) process.stdout.write(renderSummaryTable(result.report, result.path) + '\n');
    if (flags.html !== undefined) {
      await writeHtmlReport([result.path], flags.html);
      if (!this.jsonEnabled()) process.stdout.write(`HTML report: ${flags.html}\n`);
    }
    if (result.cutShort !== null) {
      process.stderr.write(`rtpsla load: load's caller ${result.cutShort}: the run was cut short; partial report ${result.path}\n`);
      process.exitCode = 1;
    } else if (result.report.partial) process.exitCode = 130;
    return {...loadSummaryJson(result.report, result.path), ...(flags.html !== undefined ? {html: flags.html} : {})};
  }
}
