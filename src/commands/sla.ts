import {Args, Flags} from '@oclif/core';
import {Chalk} from 'chalk';
import {BaseCommand} from '../base-command.js';
import {SLA_DEFAULTS, SLA_LEVELS, LEVELS, defaultProfile, loadProfile, type SlaLevel} from '../sla/profile.js';
import {evaluateFiles} from '../sla/run.js';
import {renderJson, renderJunit, renderTable, stdoutColorLevel, writeFileAtomic} from '../sla/render.js';

const pct = (v: number) => `${Number((v * 100).toFixed(4))}%`;

export default class Sla extends BaseCommand {
  static override summary = 'Gate rtpsla.report/v1 report files against the real-time media SLA (CI gate).';

  static override description = `Evaluates each report against the invariants for its call level and prints one row per report × invariant, then a verdict line.

Level: the largest of nominal (${LEVELS.nominal} calls), high (${LEVELS.high}), stress (${LEVELS.stress}) that is ≤ the report's params.count (--level forces one); the run must also have reached peakConcurrent ≥ the level. A report below ${LEVELS.nominal} calls fails "level" unless --level is given.

Invariants (defaults; a --profile file may override any, also per level):
  complete            not an interrupted ("partial") run
  level               params.count ≥ the level's calls
  peakConcurrent      ≥ the level's calls
  maxLatenessMs       worst lateness vs the frame deadline ≤ ${SLA_DEFAULTS.maxLatenessMs} ms
  maxConsecutiveLate  deadline misses in a row on one channel ≤ ${SLA_DEFAULTS.maxConsecutiveLate}
  lateRatio           late / packetsBack ≤ ${pct(SLA_DEFAULTS.maxLateRatio)}
  lossRatio           lost / (packetsBack + lost) ≤ ${pct(SLA_DEFAULTS.maxLossRatio)}
  callsFailed         ≤ ${SLA_DEFAULTS.maxCallsFailed}
  silentCalls         calls without error but no media back ≤ ${SLA_DEFAULTS.maxSilentCalls}
  leaked{Channels,Bridges,Ports}  left after the run ≤ ${SLA_DEFAULTS.maxLeakedChannels}

FILE may be a report, a directory (its *.json files) or a glob (quoted globs are expanded: *, ?, [..], **). A glob matching no file is an error.

Profile file (JSON; unknown keys are an error; ratios are fractions):
  {"maxLatenessMs": 25, "maxLossRatio": 0.005, "levels": {"stress": {"maxLatenessMs": 30}, "high": {"calls": 120}}}
Keys: ${Object.keys(SLA_DEFAULTS).join(', ')}, description, levels.{${SLA_LEVELS.join(',')}}.{<limit keys>, calls}.

Exit codes: 2 if any input was unreadable or invalid (each is named on stderr with its reason; the other files are still evaluated and shown), else 1 if any check failed, else 0.`;

  static override examples = [
    {description: 'Gate every report of a CI run', command: '<%= config.bin %> <%= command.id %> reports/*.json'},
    {description: 'Quoted glob, expanded by rtpsla itself', command: `<%= config.bin %> <%= command.id %> 'reports/run-*.json'`},
    {description: 'Judge a 120-call run at the high level with a relaxed profile', command: '<%= config.bin %> <%= command.id %> --level high --profile sla-lab.json reports/run-42.json'},
    {description: 'Machine-readable verdict', command: '<%= config.bin %> <%= command.id %> --json reports/ | jq .verdict'},
    {description: 'JUnit XML for the CI test report page', command: '<%= config.bin %> <%= command.id %> --junit out/sla.xml reports/*.json'},
  ];

  static override strict = false;

  static override args = {
    file: Args.string({required: true, description: 'report file(s), directories or globs (rtpsla.report/v1 JSON)'}),
  };

  static override flags = {
    level: Flags.string({
      options: [...SLA_LEVELS],
      description: 'judge every report at this level instead of the one derived from its params.count',
    }),
    profile: Flags.string({description: 'JSON file overriding SLA limits (globally and/or per level)', helpValue: 'FILE'}),
    json: Flags.boolean({description: 'print {verdict, reports, errors} as JSON on stdout instead of the table', default: false}),
    junit: Flags.string({description: 'also write JUnit XML to FILE (one testsuite per report, one testcase per invariant)', helpValue: 'FILE'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Sla);
    const profile = flags.profile === undefined ? defaultProfile() : loadProfile(flags.profile);
    const outcome = evaluateFiles(argv as string[], {profile, level: flags.level as SlaLevel | undefined});

    for (const e of outcome.errors) process.stderr.write(`rtpsla sla: ${e.file}: ${e.reason}\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify(renderJson(outcome), null, 2)}\n`);
    else process.stdout.write(renderTable(outcome, new Chalk({level: stdoutColorLevel()})));
    process.exitCode = outcome.exitCode;
    // After the verdict is shown: a JUnit file that cannot be written is an error of its own (exit 2).
    if (flags.junit !== undefined) writeFileAtomic(flags.junit, renderJunit(outcome));
  }
}
