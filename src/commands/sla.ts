import {Args, Flags} from '@oclif/core';
import {Chalk} from 'chalk';
import {BaseCommand} from '../base-command.js';
import {jsonFlag} from '../config/flags.js';
import {RtpslaError} from '../errors.js';
import {SLA_DESCRIPTION} from '../sla/help.js';
import {SLA_LEVELS, defaultProfile, loadProfile, type SlaLevel} from '../sla/profile.js';
import {evaluateFiles} from '../sla/run.js';
import {renderJson, renderJunit, renderTable, stdoutColorLevel, writeFileAtomic} from '../sla/render.js';

export default class Sla extends BaseCommand {
  static override summary = 'Gate rtpsla.report/v1 report files against the real-time media SLA, as a CI step.';

  static override description = SLA_DESCRIPTION;

  static override examples = [
    {description: 'Gate every report of a CI run.', command: '<%= config.bin %> <%= command.id %> reports/*.json'},
    {description: 'A quoted glob, expanded by rtpsla itself.', command: `<%= config.bin %> <%= command.id %> 'reports/run-*.json'`},
    {description: 'Judge a 120-call run at the high level with a relaxed profile.', command: '<%= config.bin %> <%= command.id %> --level high --profile sla-lab.json reports/run-42.json'},
    {description: 'A machine-readable verdict.', command: '<%= config.bin %> <%= command.id %> --json reports/ | jq .verdict'},
    {description: 'JUnit XML for the CI test report page.', command: '<%= config.bin %> <%= command.id %> --junit out/sla.xml reports/*.json'},
  ];

  static override strict = false;
  static override enableJsonFlag = true;

  static override args = {
    file: Args.string({required: true, description: 'Report files, directories or globs (rtpsla.report/v1 JSON).'}),
  };

  static override flags = {
    level: Flags.string({
      options: [...SLA_LEVELS],
      description: 'Judge every report at this level instead of the one derived from its params.count.',
    }),
    profile: Flags.string({description: 'A JSON file overriding SLA limits, globally and/or per level.', helpValue: 'FILE'}),
    ...jsonFlag('Print {verdict, reports, errors} as JSON on stdout instead of the table.'),
    junit: Flags.string({description: 'Also write JUnit XML to FILE, one testsuite per report and one testcase per invariant.', helpValue: 'FILE'}),
  };

  async run(): Promise<unknown> {
    const {argv, flags} = await this.parse(Sla);
    const profile = flags.profile === undefined ? defaultProfile() : loadProfile(flags.profile);
    const outcome = evaluateFiles(argv as string[], {profile, level: flags.level as SlaLevel | undefined});

    for (const e of outcome.errors) process.stderr.write(`rtpsla sla: ${e.file}: ${e.reason}\n`);
    if (!this.jsonEnabled()) process.stdout.write(renderTable(outcome, new Chalk({level: stdoutColorLevel()})));
    process.exitCode = outcome.exitCode;
    // The verdict is shown either way: a JUnit file that cannot be written is an error of its own (exit 2).
    if (flags.junit !== undefined) {
      try {
        writeFileAtomic(flags.junit, renderJunit(outcome));
      } catch (err) {
        if (!(err instanceof RtpslaError)) throw err;
        this.reportError(err);
      }
    }
    return renderJson(outcome);
  }
}
