import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {decimal, formatFlag, integer, integerList, portRange} from '../config/flags.js';
import {parsePortRange, portRangeText} from '../config/parse.js';
import {ConfigError} from '../errors.js';
import {ChildRegistry} from '../bench/children.js';
import {hasProc} from '../bench/proc.js';
import {DEFAULT_CALLS, DEFAULT_RTPENGINE_PORT_RANGE, runBench} from '../bench/run.js';
import {runSoak, soakSummaryLine} from '../bench/soak.js';
import {RTPENGINE_SCHEDULINGS} from '../bench/rtpengine/daemon.js';
import {BENCH_DESCRIPTION} from '../bench/help.js';
import {legacyPaths, pathsSetting} from '../bench/paths.js';
import {PLACEMENTS, SHARED_CPU_MAX_CALLS} from '../bench/placement.js';
import {onStopSignals} from '../runtime/signals.js';

export default class Bench extends BaseCommand {
  static override summary = 'Benchmark the media path on this machine with real child processes on 127.0.0.1.';

  static override description = BENCH_DESCRIPTION;

  static override examples = [
    {description: 'The full default run (N = 30 … 1000, 20 s each).', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Two points, all four paths (npm run bench -- --calls 150,600 --duration-ms 15000).', command: '<%= config.bin %> <%= command.id %> --calls 150,600 --duration-ms 15000'},
    {description: 'Only the native relay against rtpengine.', command: '<%= config.bin %> <%= command.id %> --calls 150 --paths direct,native,rtpengine'},
    {description: 'Soak: 150 calls for 10 minutes.', command: '<%= config.bin %> <%= command.id %> --soak-min 10'},
    {description: 'Profile serve (writes .cpuprofile files).', command: '<%= config.bin %> <%= command.id %> --calls 600 --serve-cpu-prof /tmp/prof'},
  ];

  static override flags = {
    calls: integerList({description: `Comma-separated call counts N (default ${DEFAULT_CALLS.join(',')}; soak: 150).`, min: 1, max: 5000}),
    'duration-ms': decimal({description: 'How long each call is held per phase.', default: 20_000, min: 100, max: 3_600_000}),
    'delay-between-ms': decimal({description: 'The spacing between originates (small, so all N calls overlap).', default: 10, min: 0, max: 60_000}),
    'settle-ms': decimal({description: 'After the last originate, the steady window starts this much later.', default: 1500, min: 0, max: 60_000}),
    ...formatFlag,
    endpoint: Flags.string({description: 'The originate endpoint.', default: 'Local/s@rtpsla-source/n'}),
    out: Flags.string({description: 'The directory for the result JSON, the SVG chart and the relay runs\' reports.', default: 'reports/bench'}),
    'sim-rtp-range': portRange({description: 'The sim\'s externalMedia RTP ports.', default: {low: 12000, high: 15999}}),
    'relay-port-range': portRange({description: 'The serve relay ports.', default: {low: 16000, high: 19999}}),
    paths: Flags.custom({parse: async (text) => pathsSetting(text)})({description: 'Comma-separated paths to measure: direct, native, node, rtpengine (default: all that can run here).'}),
    path: Flags.string({description: 'The older form of --paths: relay means the native and node relays.', options: ['both', 'direct', 'relay']}),
    'rtpengine-port-range': portRange({description: 'The media ports rtpengine uses (4 a call).', default: parsePortRange(DEFAULT_RTPENGINE_PORT_RANGE, '--rtpengine-port-range')}),
    placement: Flags.option({options: PLACEMENTS, description: `Where the media chain runs: shared-cpu pins the sim's, echo's and relay's engines (or rtpengine) to the last CPU, free leaves them to the kernel, auto shares a CPU up to ${SHARED_CPU_MAX_CALLS} calls.`, default: 'auto' as const})(),
    'rtpengine-scheduling': Flags.option({options: RTPENGINE_SCHEDULINGS, description: 'The thread scheduling of rtpengine: fifo (priority 10, the class rtpsla\'s engine runs in) or its own default.', default: 'fifo' as const})(),
    chart: Flags.boolean({description: 'Render the SVG chart (the chart\'s spec and data are written either way).', default: true, allowNo: true}),
    'serve-cpu-prof': Flags.string({description: 'Profile serve\'s CPU (V8 sampling profiler) into .cpuprofile files in this directory, one folder per N.', env: 'BENCH_SERVE_CPU_PROF'}),
    'soak-min': integer({description: 'Soak mode: the calls are held on the relay path this many minutes after the warm-up.', min: 1, max: 24 * 60}),
    'soak-warmup-sec': decimal({description: 'Soak mode: the warm-up before the first sample, in seconds.', default: 60, min: 0, max: 3600}),
    'soak-sample-sec': decimal({description: 'Soak mode: seconds between samples.', default: 60, min: 1, max: 3600}),
  };

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
        paths: flags.paths ?? legacyPaths(flags.path), chartSvg: flags.chart, serveCpuProfDir: flags['serve-cpu-prof'], placement: flags.placement, rtpengineScheduling: flags['rtpengine-scheduling'],
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
