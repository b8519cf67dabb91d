import {BaseCommand} from '../base-command.js';
import {doctorLines, engineDoctor} from '../doctor/engine-report.js';

export default class Doctor extends BaseCommand {
  static override summary = 'Check what the media engines will get on this machine before you measure with it.';

  static override description = [
    'Starts the native media engine once per role (relay, echo, sim) and prints, one line each with PASS or FAIL: the engine binary\'s path (built now if the install did not build it), the CPU scheduling the OS grants each role (real-time `fifo` needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO), whether kernel receive timestamps work on a loopback socket, and the CPUs this process may use. A failing line is followed by the exact command that fixes it, such as `setcap cap_sys_nice=ep <engine>`. Exit code 0 when every check passes, 1 otherwise.',
  ].join('\n\n');

  static override enableJsonFlag = true;

  static override examples = [
    {description: 'Before a run, as the user who will run it.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'As JSON, for a CI step.', command: '<%= config.bin %> <%= command.id %> --json'},
  ];

  async run(): Promise<unknown> {
    await this.parse(Doctor);
    const d = await engineDoctor();
    if (!this.jsonEnabled()) for (const line of doctorLines(d)) this.log(line);
    process.exitCode = d.checks.every((c) => c.ok) ? 0 : 1;
    return d;
  }
}
