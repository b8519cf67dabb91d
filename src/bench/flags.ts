/** `rtpsla bench`'s flags. */
import {Flags} from '@oclif/core';
import {decimal, formatFlag, integer, integerList, portRange, settingName} from '../config/flags.js';
import {parsePortRange} from '../config/parse.js';
import {ConfigError} from '../errors.js';
import {parseResolution, type Resolution} from '../capacity/search.js';
import {RTPENGINE_SCHEDULINGS} from './rtpengine/daemon.js';
import {pathsSetting} from './paths.js';
import {PLACEMENTS, SHARED_CPU_MAX_CALLS} from './placement.js';
import {DEFAULT_CALLS, DEFAULT_RTPENGINE_PORT_RANGE} from './options.js';
import {PATH_NAMES} from './types.js';

export const benchFlags = {
  calls: integerList({description: `Comma-separated call counts N (default ${DEFAULT_CALLS.join(',')}; soak: 150).`, min: 1, max: 5000}),
  'duration-ms': decimal({description: 'How long each call is held per phase.', default: 20_000, min: 100, max: 3_600_000}),
  'delay-between-ms': decimal({description: 'The spacing between originates (small, so all N calls overlap).', default: 10, min: 0, max: 60_000}),
  'settle-ms': decimal({description: 'After the last originate, the steady window starts this much later.', default: 1500, min: 0, max: 60_000}),
  ...formatFlag,
  endpoint: Flags.string({description: 'The originate endpoint.', default: 'Local/s@rtpsla-source/n'}),
  out: Flags.string({description: 'The directory for the result JSON, the chart (its data as JSON and its HTML page) and the relay runs\' reports.', default: 'reports/bench'}),
  'sim-rtp-range': portRange({description: 'The sim\'s externalMedia RTP ports.', default: {low: 12000, high: 15999}}),
  'relay-port-range': portRange({description: 'The serve relay ports.', default: {low: 16000, high: 19999}}),
  paths: Flags.custom({parse: async (text) => pathsSetting(text)})({description: `Comma-separated paths to measure: ${PATH_NAMES.join(', ')} (default: all that can run here).`}),
  path: Flags.string({description: 'The older form of --paths: relay means the native and node relays.', options: ['both', 'direct', 'relay']}),
  'rtpengine-port-range': portRange({description: 'The media ports rtpengine uses (4 a call).', default: parsePortRange(DEFAULT_RTPENGINE_PORT_RANGE, '--rtpengine-port-range')}),
  placement: Flags.option({options: PLACEMENTS, description: `Where the media chain runs: shared-cpu pins the sim's, echo's and relay's engines (or rtpengine) to the last CPU, free leaves them to the kernel, auto shares a CPU up to ${SHARED_CPU_MAX_CALLS} calls.`, default: 'auto' as const})(),
  'rtpengine-scheduling': Flags.option({options: RTPENGINE_SCHEDULINGS, description: 'The thread scheduling of rtpengine on its like-for-like path: fifo at the priority rtpsla\'s relay engine gets, or its own default (the rtpengine-defaults path always runs at its own).', default: 'fifo' as const})(),
  chart: Flags.boolean({description: 'Write the chart as a self-contained HTML page, <timestamp>.html (Chart.js inlined, opens offline); the chart\'s data is written as JSON, <timestamp>.chart.json, either way.', default: true, allowNo: true}),
  'serve-cpu-prof': Flags.string({description: 'Profile serve\'s CPU (V8 sampling profiler) into .cpuprofile files in this directory, one folder per N.', env: 'BENCH_SERVE_CPU_PROF'}),
  repeat: integer({description: 'Runs of every path at every N; above 1 every figure is the median, with min / median / max in the JSON and [min–max] in the table.', default: 1, min: 1, max: 20}),
  search: Flags.boolean({description: 'Find each rtpsla path\'s largest SLA-clean N with the capacity search (up to the largest --calls, as `rtpsla capacity` does) instead of taking the largest of the N values given.', default: false}),
  'search-resolution': Flags.custom<Resolution>({
  parse: async (text, _ctx, o) => {
    const r = parseResolution(text);
    if (r === null) throw new ConfigError(`${settingName(o)}: "${text}" is not a number of calls (e.g. 5) or a percentage below 100 (e.g. 5%)`);
    return r;
  },
  })({description: 'With --search: stop when the last PASS and the first FAIL are this close (calls, or a percentage of the last PASS).', default: {calls: 5}}),
  'soak-min': integer({description: 'Soak mode: the calls are held on the relay path this many minutes after the warm-up.', min: 1, max: 24 * 60}),
  'soak-warmup-sec': decimal({description: 'Soak mode: the warm-up before the first sample, in seconds.', default: 60, min: 0, max: 3600}),
  'soak-sample-sec': decimal({description: 'Soak mode: seconds between samples.', default: 60, min: 1, max: 3600}),
};
