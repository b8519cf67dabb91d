import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {decimal, formatFlag, integer, portRange} from '../config/flags.js';
import {portRangeText} from '../config/parse.js';
import {runPipeline} from '../demo/pipeline.js';
import {plainProgress} from '../load/progress.js';
import {onStopSignals} from '../runtime/signals.js';

export default class Demo extends BaseCommand {
  static override summary = 'Run the whole chain on this machine with no Asterisk and judge the result against the SLA.';

  static override description = [
    'Starts `rtpsla sim` (the embedded Asterisk stand-in), `rtpsla echo` and `rtpsla serve` as child processes on free 127.0.0.1 ports, runs `rtpsla load`, judges the report with `rtpsla sla`, prints the tables and stops the children. Exit code = the SLA verdict (0 pass, 1 fail). This is what `npm start` runs. Reports say "asterisk": "sim": measure a real Asterisk with serve + load. Ctrl-C hangs up, writes a partial report and stops the children; a second Ctrl-C exits 130 at once.',
  ].join('\n\n');

  static override examples = [
    {description: 'The default: 30 calls of 10 s.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'A quick one.', command: '<%= config.bin %> <%= command.id %> --count 10 --duration-ms 2000'},
    {description: 'Through npm.', command: 'npm start -- --count 100 --duration-ms 30000 --delay-between-ms 20'},
  ];

  static override flags = {
    count: integer({description: 'Calls to originate.', default: 30, min: 1, max: 10_000}),
    'duration-ms': decimal({description: 'How long each call is held.', default: 10_000, min: 0, max: 86_400_000}),
    'delay-between-ms': decimal({description: 'The spacing between originates.', default: 100, min: 0, max: 3_600_000}),
    ...formatFlag,
    out: Flags.string({description: 'The directory for the report.', default: 'reports'}),
    'relay-port-range': portRange({description: 'The relay ports serve uses.', default: {low: 30000, high: 39999}}),
    'sim-rtp-range': portRange({description: 'The ports the sim\'s externalMedia channels send RTP from.', default: {low: 20000, high: 29999}}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Demo);
    const stop = onStopSignals({message: 'pipeline: interrupted: hanging up, writing a partial report, stopping children'});
    const progress = plainProgress(process.stderr, 2000);
    try {
      const result = await runPipeline({
        count: flags.count,
        durationMs: flags['duration-ms'],
        delayBetweenMs: flags['delay-between-ms'],
        format: flags.format,
        outDir: flags.out,
        relayPortRange: portRangeText(flags['relay-port-range']),
        simRtpRange: portRangeText(flags['sim-rtp-range']),
        signal: stop.signal,
        onProgress: (p) => progress.update(p),
      });
      process.exitCode = result.exitCode;
    } finally {
      stop.dispose();
    }
  }
}
