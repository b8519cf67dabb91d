import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {format, formatFlag, numberSetting} from '../config/flags.js';
import {parsePortRange} from '../config/parse.js';
import {ConfigError} from '../errors.js';
import {ChildRegistry} from '../bench/children.js';
import {hasProc} from '../bench/proc.js';
import {DEFAULT_CALLS, DEFAULT_RTPENGINE_PORT_RANGE, runBench, runSoak} from '../bench/run.js';
import {parsePaths} from '../bench/paths.js';
import type {PathName} from '../bench/types.js';

export default class Bench extends BaseCommand {
  static override description = [
    'Benchmark the media path on this machine with real child processes on 127.0.0.1. For each N in --calls it runs',
    'four paths, each with fresh processes: direct (sim externalMedia → echo, no relay; the benchmark is the Stasis',
    'app), the rtpsla relay with the native engine and with the node engine (sim → serve → echo, driven like `rtpsla',
    'load`), and rtpengine in userspace (sim → rtpengine → echo, ports set up per call over its ng protocol). A path',
    'that cannot run here (native engine not built, rtpengine-daemon not installed) is skipped with a note. It reports',
    'the round trip the sim measures (p50/p99/p99.9/max), what each relay adds over direct, late/loss ratios, CPU % of',
    'every process over the steady window, the relay\'s CPU µs per forwarded packet, peak RSS, UDP buffer errors and',
    'the largest SLA-clean N. Writes <out>/<timestamp>.json, the chart\'s spec (.chart.json) and SVG, prints a table.',
    '--soak-min M instead holds 150 calls on the relay path for M minutes after a 1-minute warm-up and samples serve',
    'RSS and open handles each minute. Linux only (/proc).',
  ].join('\n');

  static override examples = [
    {description: 'The full default run (N = 30 … 1000, 20 s each)', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Two points, all four paths (npm run bench -- --calls 150,600 --duration-ms 15000)', command: '<%= config.bin %> <%= command.id %> --calls 150,600 --duration-ms 15000'},
    {description: 'Only the native relay against rtpengine', command: '<%= config.bin %> <%= command.id %> --calls 150 --paths direct,native,rtpengine'},
    {description: 'Soak: 150 calls for 10 minutes', command: '<%= config.bin %> <%= command.id %> --soak-min 10'},
    {description: 'Profile serve (writes .cpuprofile files)', command: '<%= config.bin %> <%= command.id %> --calls 600 --serve-cpu-prof /tmp/prof'},
  ];

  static override flags = {
    calls: Flags.string({description: `Comma-separated call counts N (default ${DEFAULT_CALLS.join(',')}; soak: 150).`}),
    'duration-ms': Flags.string({description: 'How long each call is held per phase.', default: '20000'}),
    'delay-between-ms': Flags.string({description: 'Spacing between originates (small, so all N calls overlap).', default: '10'}),
    'settle-ms': Flags.string({description: 'After the last originate, wait this long before the steady window starts.', default: '1500'}),
    ...formatFlag,
    endpoint: Flags.string({description: 'Originate endpoint.', default: 'Local/s@rtpsla-source/n'}),
    out: Flags.string({description: 'Directory for the result JSON, the SVG chart and the relay runs\' reports.', default: 'reports/bench'}),
    'sim-rtp-range': Flags.string({description: 'sim externalMedia RTP ports.', default: '12000-15999'}),
    'relay-port-range': Flags.string({description: 'serve relay ports.', default: '16000-19999'}),
    paths: Flags.string({description: 'Comma-separated paths to measure: direct, native, node, rtpengine (default all that can run here).'}),
    path: Flags.string({description: 'Older form of --paths: relay means the native and node relays.', options: ['both', 'direct', 'relay']}),
    'rtpengine-port-range': Flags.string({description: 'rtpengine media ports (4 a call).', default: DEFAULT_RTPENGINE_PORT_RANGE}),
    chart: Flags.boolean({description: 'Render the SVG chart (the chart\'s spec and data are written either way).', default: true, allowNo: true}),
    'serve-cpu-prof': Flags.string({description: 'Profile the CPU of serve (V8 sampling profiler), writing .cpuprofile files into this directory (one folder per N).', env: 'BENCH_SERVE_CPU_PROF'}),
    'soak-min': Flags.string({description: 'Soak mode: hold the calls on the relay path this many minutes after the warm-up.'}),
    'soak-warmup-sec': Flags.string({description: 'Soak mode: warm-up before the first sample.', default: '60'}),
    'soak-sample-sec': Flags.string({description: 'Soak mode: seconds between samples.', default: '60'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Bench);
    if (!hasProc()) throw new ConfigError('bench: needs Linux /proc to measure CPU and memory of the processes');
    parsePortRange(flags['sim-rtp-range'], '--sim-rtp-range');
    parsePortRange(flags['relay-port-range'], '--relay-port-range');
    parsePortRange(flags['rtpengine-port-range'], '--rtpengine-port-range');
    if (flags.paths !== undefined && flags.path !== undefined) throw new ConfigError('give --paths or --path, not both');
    let paths: PathName[] | undefined;
    if (flags.paths !== undefined) {
      const parsed = parsePaths(flags.paths);
      if (typeof parsed === 'string') throw new ConfigError(parsed);
      paths = parsed;
    } else if (flags.path === 'direct') paths = ['direct'];
    else if (flags.path === 'relay') paths = ['native', 'node'];
    const calls = flags.calls === undefined ? undefined : flags.calls.split(',').map((s) => numberSetting(s.trim(), '--calls', 1, 5000, true));
    const delayBetweenMs = numberSetting(flags['delay-between-ms'], '--delay-between-ms', 0, 60_000);
    const controller = new AbortController();
    const reg = new ChildRegistry();
    const onSignal = () => {
      if (controller.signal.aborted) {
        reg.killNow();
        process.exit(130);
      }
      process.stderr.write('bench: interrupted: hanging up, stopping children\n');
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      if (flags['soak-min'] !== undefined) {
        const {result, jsonPath} = await runSoak(
          {
            calls: calls?.[0] ?? 150,
            minutes: numberSetting(flags['soak-min'], '--soak-min', 1, 24 * 60, true),
            warmUpMs: numberSetting(flags['soak-warmup-sec'], '--soak-warmup-sec', 0, 3600) * 1000,
            sampleEveryMs: numberSetting(flags['soak-sample-sec'], '--soak-sample-sec', 1, 3600) * 1000,
            delayBetweenMs,
            format: format(flags.format),
            endpoint: flags.endpoint,
            outDir: flags.out,
            simRtpRange: flags['sim-rtp-range'],
            relayPortRange: flags['relay-port-range'],
            signal: controller.signal,
          },
          reg,
        );
        const mb = (b: number) => (b / 1048576).toFixed(1);
        const f = result.first;
        const l = result.last;
        this.log(
          f && l
            ? `soak: serve RSS ${mb(f.rssBytes)} → ${mb(l.rssBytes)} MB (${((result.rssGrowthRatio ?? 0) * 100).toFixed(1)} %), handles ${f.fds} → ${l.fds}; ` +
                `${result.stable ? 'at most' : 'MORE than'} 10 % above the first sample; SLA ${result.relay?.sla.pass ? 'PASS' : 'FAIL'}; ${jsonPath}`
            : `soak: too few samples (${result.samples.length}); ${jsonPath}`,
        );
        if (result.partial) process.exitCode = 130;
        return;
      }
      const {table, result} = await runBench(
        {
          calls: calls ?? DEFAULT_CALLS,
          durationMs: numberSetting(flags['duration-ms'], '--duration-ms', 100, 3_600_000),
          delayBetweenMs,
          settleMs: numberSetting(flags['settle-ms'], '--settle-ms', 0, 60_000),
          format: format(flags.format),
          endpoint: flags.endpoint,
          outDir: flags.out,
          simRtpRange: flags['sim-rtp-range'],
          relayPortRange: flags['relay-port-range'],
          rtpenginePortRange: flags['rtpengine-port-range'],
          paths,
          chartSvg: flags.chart,
          serveCpuProfDir: flags['serve-cpu-prof'],
          signal: controller.signal,
        },
        reg,
      );
      this.log(table);
      if (result.partial) process.exitCode = 130;
    } finally {
      await reg.stopAll();
      reg.dispose();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
