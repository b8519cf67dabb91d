import {BaseCommand} from '../base-command.js';
import {ariFlags, callerFlags, formatFlag, httpUrl, nonEmpty} from '../config/flags.js';
import {chainDoctor, chainSettingsFrom} from '../doctor/chain.js';
import {doctorLines, engineDoctor} from '../doctor/engine-report.js';

export default class Doctor extends BaseCommand {
  static override summary = 'Check what the media engines will get on this machine, and the chain load will use, before you measure with it.';

  static override description = [
    'Starts the native media engine once per role (relay, echo, sim) and prints, one line each with PASS or FAIL: the engine binary\'s path (built now if the install did not build it), the CPU scheduling the OS grants each role (real-time `fifo` needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO), whether kernel receive timestamps work on a loopback socket, and the CPUs this process may use. A failing line is followed by the exact command that fixes it, such as `setcap cap_sys_nice=ep <engine>`.',
    'Given the settings load runs with (ARI credentials or --serve-url, with --ari-url, --app, --format, --caller, --endpoint), it also checks the chain, one line each with its fix: ARI answers and takes the credentials; the ARI user may write (it creates and deletes a bridge: a read_only user cannot originate); serve answers and runs the same app and format; the media server serve sends to answers a probe RTP packet within 1 s (no answer is fine for a sink); with --caller endpoint, one test call of the endpoint enters the app and reaches serve, or fails with the cause Asterisk gave. Exit code 0 when every check passes, 1 otherwise.',
  ].join('\n\n');

  static override enableJsonFlag = true;

  static override examples = [
    {description: 'Before a run, as the user who will run it.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'The chain too, with the settings of the load you plan.', command: 'ARI_USER=rtpsla ARI_PASS=rtpsla <%= config.bin %> <%= command.id %> --serve-url http://127.0.0.1:9090 --caller endpoint'},
    {description: 'As JSON, for a CI step.', command: '<%= config.bin %> <%= command.id %> --json'},
  ];

  static override flags = {
    ...ariFlags,
    'serve-url': httpUrl({description: 'Where `rtpsla serve` answers HTTP, as given to load; with it (or ARI credentials) the chain is checked too.', env: 'SERVE_URL'}),
    ...formatFlag,
    caller: callerFlags.caller,
    endpoint: nonEmpty({description: 'The endpoint load originates with --caller endpoint; doctor makes one test call of it.', env: 'ENDPOINT', default: 'Local/s@rtpsla-source/n'}),
  };

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Doctor);
    const chain = chainSettingsFrom(flags);
    const engines = await engineDoctor();
    const d = {...engines, checks: [...engines.checks, ...(chain ? await chainDoctor(chain) : [])]};
    if (!this.jsonEnabled()) for (const line of doctorLines(d)) this.log(line);
    process.exitCode = d.checks.every((c) => c.ok) ? 0 : 1;
    return d;
  }
}
