import {BaseCommand} from '../base-command.js';
import {ConfigError} from '../errors.js';
import {ChildRegistry} from '../bench/children.js';
import {hasProc} from '../bench/proc.js';
import {DEFAULT_CALLS, runBench} from '../bench/run.js';
import {runSoak, soakSummaryLine} from '../bench/soak.js';
import {BENCH_DESCRIPTION} from '../bench/help.js';
import {legacyPaths} from '../bench/paths.js';
import {benchFlags} from '../bench/flags.js';
import {portRangeText} from '../config/parse.js';
import {onStopSignals} from '../runtime/signals.js';

export default class Bench extends BaseCommand {
  static override summary = 'Benchmark the media path on this machine with real child processes on 127.0.0.1.';

  static override description = BENCH_DESCRIPTION;

  static override examples = [
    {description: 'The full default run (N = 30 … 1000, 20 s each).', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Two points, every path (npm run bench -- --calls 150,600 --duration-ms 15000).', command: '<%= config.bin %> <%= command.id %> --calls 150,600 --duration-ms 15000'},
    {description: 'Only the native relay against rtpengine.', command: '<%= config.bin %> <%= command.id %> --calls 150 --paths direct,native,rtpengine'},
    {description: 'Two points, each run twice: min / median / max of every figure.', command: '<%= config.bin %> <%= command.id %> --calls 30,150 --duration-ms 10000 --repeat 2'},
    {description: 'Search each rtpsla path\'s largest SLA-clean N up to 600.', command: '<%= config.bin %> <%= command.id %> --calls 150,600 --search --paths native,rtpcaller'},
    {description: 'Soak: 150 calls for 10 minutes.', command: '<%= config.bin %> <%= command.id %> --soak-min 10'},
    {description: 'Profile serve (writes .cpuprofile files).', command: '<%= config.bin %> <%= command.id %> --calls 600 --serve-cpu-prof /tmp/prof'},
  ];

  static override flags = benchFlags;

  async run(): Promise<void> {
    const {flags} = await this.parse(Bench);
    if (!hasProc()) throw new ConfigError('bench: needs Linux /proc to measure CPU and memory of the processes');
    if (flags.paths !== undefined && flags.path !== undefined) throw new ConfigError('give --paths or --path, not both');
    const reg = new ChildRegistry();
    const stop = onStopSignals({message: 'bench: interrupted: hanging up, stopping children', onSecond: () => reg.killNow()});
    const [simRtpRange, relayPortRange] = [portRangeText(flags['sim-rtp-range']), portRangeText(flags['relay-port-range'])];
    const common = {delayBetweenMs: flags['delay-between-ms'], format: flags.format, endpoint: flags.endpoint, outDir: flags.out, simRtpRange, relayPortRange, signal: stop.signal};
    try {
      if (flags['soak-min'] !== undefined) {
        const soak = {...common, calls: flags.calls?.[0] ?? 150, minutes: flags['soak-min'], warmUpMs: flags['soak-warmup-sec'] * 1000, sampleEveryMs: flags['soak-sample-sec'] * 1000};
        const {result, jsonPath} = await runSoak(soak, reg);
        this.log(soakSummaryLine(result, jsonPath));
        if (result.partial) process.exitCode = 130;
        return;
      }
      const {table, result} = await runBench({
        ...common, calls: flags.calls ?? DEFAULT_CALLS, durationMs: flags['duration-ms'], settleMs: flags['settle-ms'], rtpenginePortRange: portRangeText(flags['rtpengine-port-range']),
        paths: flags.paths ?? legacyPaths(flags.path), chartHtml: flags.chart, serveCpuProfDir: flags['serve-cpu-prof'], placement: flags.placement, rtpengineScheduling: flags['rtpengine-scheduling'],
        repeat: flags.repeat, search: flags.search ? {max: Math.max(...(flags.calls ?? DEFAULT_CALLS)), resolution: flags['search-resolution']} : null,
      }, reg);
      this.log(table);
      if (result.partial) process.exitCode = 130;
    } finally {
      await reg.stopAll();
      reg.dispose();
      stop.dispose();
    }
  }
}
