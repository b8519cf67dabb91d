/** `rtpsla capacity`'s flags: load's target and call flags, the search's, and the embedded chain's. */
import {Flags} from '@oclif/core';
import {ariFlags, callerFlags, decimal, engineFlag, formatFlag, httpUrl, integer, jsonFlag, nonEmpty, portRange, settingName} from '../config/flags.js';
import {ConfigError} from '../errors.js';
import {DEFAULT_LATE_THRESHOLD_MS} from '../metrics/call-stats.js';
import {simFaultFlags} from '../sim/fault-flags.js';
import {parseResolution, type Resolution} from './search.js';

export const capacityFlags = {
  ...ariFlags,
  'serve-url': httpUrl({description: 'Where `rtpsla serve` answers HTTP (not with --embedded).', env: 'SERVE_URL', default: 'http://127.0.0.1:9090'}),
  embedded: Flags.boolean({description: 'Start the embedded chain (sim, echo and serve on 127.0.0.1, as `npm start` does) and search its capacity instead of --ari-url and --serve-url.', default: false}),
  max: integer({description: 'The largest call count tried; it is tried itself when the doubling would pass it.', default: 1000, min: 1, max: 100_000}),
  resolution: Flags.custom<Resolution>({
    parse: async (text, _ctx, o) => {
      const r = parseResolution(text);
      if (r === null) throw new ConfigError(`${settingName(o)}: "${text}" is not a number of calls (e.g. 5) or a percentage below 100 (e.g. 5%)`);
      return r;
    },
  })({description: 'The search stops when the last PASS and the first FAIL are this close: calls (e.g. 5) or a percentage of the last PASS (e.g. 5%).', default: {calls: 5}}),
  'settle-ms': decimal({description: 'The pause between two steps, so the target is idle again before the next one.', default: 3000, min: 0, max: 600_000}),
  'duration-ms': decimal({description: 'How long each call of a step is held after it is originated.', env: 'DURATION_MS', default: 20_000, min: 0, max: 86_400_000}),
  'delay-between-ms': decimal({description: 'The spacing between originates (small, so all N calls of a step are up at once).', env: 'DELAY_BETWEEN_MS', default: 10, min: 0, max: 3_600_000}),
  ...callerFlags,
  endpoint: nonEmpty({description: 'The endpoint originated with --caller endpoint.', env: 'ENDPOINT', default: 'Local/s@rtpsla-source/n'}),
  ...engineFlag,
  ...formatFlag,
  'late-threshold-ms': decimal({description: 'The deadline serve uses, recorded in every step\'s report.', env: 'LATE_THRESHOLD_MS', default: DEFAULT_LATE_THRESHOLD_MS, min: 0.001, max: 10_000}),
  out: Flags.string({description: 'The directory for the capacity file; the step reports go in a folder beside it.', default: 'reports/capacity'}),
  'relay-port-range': portRange({description: 'With --embedded: the relay ports serve uses.', default: {low: 30000, high: 39999}}),
  'sim-rtp-range': portRange({description: 'With --embedded: the ports the sim\'s externalMedia channels send RTP from.', default: {low: 20000, high: 29999}}),
  'late-above-calls': {
    ...simFaultFlags['late-above-calls'],
    description: 'With --embedded: the sim makes every frame it forwards MS late while more than K calls are up (K[:MS], MS default 30), a known edge to check the search against.',
  },
  ...jsonFlag('Print the capacity file (largest SLA-clean N, every step with its verdict and report) as JSON on stdout; progress stays on stderr.'),
};
