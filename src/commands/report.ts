import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {jsonFlag} from '../config/flags.js';
import {writeHtmlReport} from '../report/index.js';
import {SLA_LEVELS, defaultProfile, loadProfile, type SlaLevel} from '../sla/profile.js';

export default class Report extends BaseCommand {
  static override summary = 'Draw one or more run reports into one self-contained HTML page.';

  static override description = [
    'Reads rtpsla.report/v1 files (files, directories or globs, as `rtpsla sla` takes them) and writes one HTML page that needs no network and no server: the SLA verdict and table as `rtpsla sla` gives them, a heatmap of calls × time coloured by each second\'s worst lateness with the stalls load saw as vertical lines, the lateness by leg as CDFs, loss and jitter per call, the media engines and their scheduling, and the run\'s parameters.',
    'With several reports the page shows them side by side, to compare runs. The charts are drawn in the browser by Chart.js, which the page carries inline with their data (hover a heatmap cell for its call, time span, worst lateness, late frames and dominant leg); the page loads nothing from anywhere.',
  ].join('\n\n');

  static override examples = [
    {description: 'The page of one run.', command: '<%= config.bin %> <%= command.id %> reports/20261207-034601-a3f9.json --html run.html'},
    {description: 'Two runs side by side.', command: '<%= config.bin %> <%= command.id %> reports/before.json reports/after.json --html compare.html'},
  ];

  static override strict = false;
  static override enableJsonFlag = true;

  static override args = {
    file: Args.string({required: true, description: 'Report files, directories or globs (rtpsla.report/v1 JSON).'}),
  };

  static override flags = {
    html: Flags.string({required: true, description: 'The HTML file to write (replaced if it exists).', helpValue: 'FILE'}),
    level: Flags.string({options: [...SLA_LEVELS], description: 'Judge every report at this level instead of the one derived from its params.count.'}),
    profile: Flags.string({description: 'A JSON file overriding SLA limits, globally and/or per level, as for `rtpsla sla`.', helpValue: 'FILE'}),
    ...jsonFlag('Print {html, verdict} as JSON on stdout instead of the path and the verdict line.'),
  };

  async run(): Promise<{html: string; verdict: {pass: boolean; line: string}}> {
    const {argv, flags} = await this.parse(Report);
    const profile = flags.profile === undefined ? defaultProfile() : loadProfile(flags.profile);
    const outcome = await writeHtmlReport(argv as string[], flags.html, {profile, level: flags.level as SlaLevel | undefined});
    if (!this.jsonEnabled()) process.stdout.write(`${flags.html}\n${outcome.verdictLine}\n`);
    return {html: flags.html, verdict: {pass: outcome.pass, line: outcome.verdictLine}};
  }
}
