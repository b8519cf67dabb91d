import {BaseCommand} from '../base-command.js';
import {ariSettings} from '../config/flags.js';
import {capacityFlags} from '../capacity/flags.js';
import {capacityMain} from '../capacity/main.js';
import type {CapacityFile} from '../capacity/run.js';
import {onStopSignals} from '../runtime/signals.js';

export default class Capacity extends BaseCommand {
  static override summary = 'Find the largest call count the target carries SLA-clean, by running and judging load steps.';

  static override description = [
    'Runs `rtpsla load` against the same target and running serve as load does (a real Asterisk or the sim), or with --embedded against the chain `npm start` runs, for N = 30, 60, 120, 240 … doubling up to --max (tried itself), then bisects between the last PASS and the first FAIL until they are --resolution apart. Every step is a real load run judged by `rtpsla sla` (below 30 calls at the default limits with N as the level\'s call count), must reach N calls up at once, and is followed by --settle-ms of quiet.',
    'Near the edge a PASS counts only when the same N passes twice in a row, so a noisy PASS-FAIL-PASS does not raise the result. The search stops at the first step that leaks or fails calls. It prints e.g. "largest SLA-clean N = 185 (FAIL at 190: lateRatio@caller, 92 % late from Asterisk up)": the limiting invariant and the leg most late frames came from.',
    'Writes reports/capacity/<timestamp>.json with every step\'s verdict and report path; the step reports go in reports/capacity/<timestamp>/, where `sla reports/*.json` does not pick them up. Ctrl-C ends the running step (its calls hung up, its report written), writes the capacity file marked partial and exits 130; a second Ctrl-C quits at once.',
  ].join('\n\n');

  static override examples = [
    {description: 'Against the embedded chain, up to 400 calls.', command: '<%= config.bin %> <%= command.id %> --embedded --max 400'},
    {description: 'Against a real Asterisk and its running serve, 30 s calls, to within 5 %.', command: 'ARI_USER=rtpsla ARI_PASS=rtpsla <%= config.bin %> <%= command.id %> --ari-url http://127.0.0.1:8088 --duration-ms 30000 --resolution 5%'},
    {description: 'Check the search against a known edge: the sim makes every frame late above 50 calls.', command: '<%= config.bin %> <%= command.id %> --embedded --max 120 --duration-ms 3000 --late-above-calls 50'},
  ];

  static override enableJsonFlag = true;

  static override flags = capacityFlags;

  async run(): Promise<CapacityFile> {
    const {flags} = await this.parse(Capacity);
    const stop = onStopSignals({message: 'capacity: interrupted: hanging up the running step and writing a partial result (Ctrl-C again to quit at once)'});
    try {
      const {file, path} = await capacityMain({
        ...(flags.embedded ? {ariUrl: '', ariUser: '', ariPass: '', app: 'rtpsla'} : ariSettings(flags)), serveUrl: flags['serve-url'], embedded: flags.embedded, max: flags.max, resolution: flags.resolution, settleMs: flags['settle-ms'],
        durationMs: flags['duration-ms'], delayBetweenMs: flags['delay-between-ms'], caller: flags.caller, callerBindIp: flags['caller-bind-ip'],
        callerPortRange: flags['caller-port-range'], callerEngine: flags.engine, endpoint: flags.endpoint, format: flags.format,
        lateThresholdMs: flags['late-threshold-ms'], out: flags.out, relayPortRange: flags['relay-port-range'], simRtpRange: flags['sim-rtp-range'],
        lateAboveCalls: flags['late-above-calls'], fancy: !this.jsonEnabled() && process.stderr.isTTY === true, signal: stop.signal,
      });
      if (!this.jsonEnabled()) this.log(`${file.line}\nwrote ${path} (${file.steps.length} steps; their reports in ${file.stepsDir})`);
      if (file.partial) process.exitCode = 130;
      return file;
    } finally {
      stop.dispose();
    }
  }
}
