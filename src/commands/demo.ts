import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {format, formatFlag, numberSetting} from '../config/flags.js';
import {parsePortRange} from '../config/parse.js';
import {runPipeline} from '../demo/pipeline.js';
import {plainProgress} from '../load/progress.js';

export default class Demo extends BaseCommand {
  static override description = [
    'Run the whole chain on this machine with no Asterisk: starts `rtpsla sim` (the embedded Asterisk stand-in),',
    '`rtpsla echo` and `rtpsla serve` as child processes on free 127.0.0.1 ports, runs `rtpsla load`, judges the',
    'report with `rtpsla sla`, prints the tables and stops the children. Exit code = the SLA verdict (0 pass, 1 fail).',
    'This is what `npm start` runs. Reports say "asterisk": "sim": measure a real Asterisk with serve + load.',
  ].join('\n');

  static override examples = [
    {description: 'The default: 30 calls of 10 s', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'A quick one', command: '<%= config.bin %> <%= command.id %> --count 10 --duration-ms 2000'},
    {description: 'Through npm', command: 'npm start -- --count 100 --duration-ms 30000 --delay-between-ms 20'},
  ];

  static override flags = {
    count: Flags.string({description: 'Calls to originate.', default: '30'}),
    'duration-ms': Flags.string({description: 'How long each call is held.', default: '10000'}),
    'delay-between-ms': Flags.string({description: 'Spacing between originates.', default: '100'}),
    ...formatFlag,
    out: Flags.string({description: 'Directory for the report.', default: 'reports'}),
    'relay-port-range': Flags.string({description: 'serve relay ports.', default: '30000-39999'}),
    'sim-rtp-range': Flags.string({description: 'sim externalMedia RTP ports.', default: '20000-29999'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Demo);
    const relay = flags['relay-port-range'];
    const simRange = flags['sim-rtp-range'];
    parsePortRange(relay, '--relay-port-range');
    parsePortRange(simRange, '--sim-rtp-range');
    const controller = new AbortController();
    const onSignal = () => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write('pipeline: interrupted: hanging up, writing a partial report, stopping children\n');
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const progress = plainProgress(process.stderr, 2000);
    try {
      const result = await runPipeline({
        count: numberSetting(flags.count, '--count', 1, 10_000, true),
        durationMs: numberSetting(flags['duration-ms'], '--duration-ms', 0, 86_400_000),
        delayBetweenMs: numberSetting(flags['delay-between-ms'], '--delay-between-ms', 0, 3_600_000),
        format: format(flags.format),
        outDir: flags.out,
        relayPortRange: relay,
        simRtpRange: simRange,
        signal: controller.signal,
        onProgress: (p) => progress.update(p),
      });
      process.exitCode = result.exitCode;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
