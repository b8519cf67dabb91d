import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {engineFlag, host, integer, decimal, logLevelOption, nonEmpty, port, portRange} from '../config/flags.js';
import {parsePortRange} from '../config/parse.js';
import {createLogger} from '../log/logger.js';
import {atomicWriteFile} from '../runtime/atomic-write.js';
import {onStopSignals} from '../runtime/signals.js';
import {listeningLine, SIM_DEFAULTS, startSim} from '../sim/index.js';
import {simFaultFlags} from '../sim/fault-flags.js';
import {dialplanContexts, simChainFlags} from '../sim/chain-flags.js';

export default class Sim extends BaseCommand {
  static override summary = 'Run an embedded Asterisk 22 stand-in (ARI REST, events WebSocket, externalMedia RTP) on machines without Asterisk.';
  static override description = [
    'Speaks the part of ARI that serve and load use (REST under /ari, the events WebSocket /ari/events, the api-docs ari-client loads) and sends RTP from externalMedia channels, behaving as recorded from a real Asterisk 22.10.1: event order, ids and names, status codes, the externalMedia StasisStart race, 20 ms RTP from UNICASTRTP_LOCAL_PORT.',
    'Dialplan it emulates for Local/<exten>@<context>/n in context rtpsla-source (and each --dialplan-context): exten "silence" answers and stays silent; any other exten answers and plays a 1004 Hz Milliwatt tone after --answer-delay-ms. A Local channel to another context is hung up with cause 1 before it enters Stasis, as Asterisk does. Only Local/ endpoints can be originated.',
    `Credentials default to ${SIM_DEFAULTS.user}/${SIM_DEFAULTS.pass} when neither the flags nor ARI_USER/ARI_PASS are set. Prints "sim listening on http://HOST:PORT" on stdout when ready. GET /ari/asterisk/info reports system.version "22.10.1-rtpsla-sim", so it is never mistaken for a real Asterisk. SIGINT/SIGTERM stop it (exit 0); a second signal exits 130 at once.`,
    'Test controls (same credentials): GET /_sim/stats (which engine sends the RTP; per externalMedia channel: packets sent/received, foreign packets, round trip and send jitter in µs; merged HDR histograms), GET|POST /_sim/faults with e.g. {"fail":{"operation":"externalMedia","status":500,"count":1}}, {"delay":{"operation":"addChannel","delayMs":200}}, {"dropWebSocket":true}, {"eventDelayMs":200}, {"stopMedia":true}, {"clear":true}.',
  ].join('\n\n');

  static override examples = [
    {description: 'Listen on 127.0.0.1:8088 as rtpsla/rtpsla.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Any free port (the real one is printed), reproducible randomness.', command: '<%= config.bin %> <%= command.id %> --port 0 --seed 42'},
    {description: 'Make the first externalMedia answer 500.', command: '<%= config.bin %> <%= command.id %> --fail externalMedia=500:1'},
    {description: 'Check that it answers.', command: 'curl -u rtpsla:rtpsla http://127.0.0.1:8088/ari/asterisk/info'},
  ];

  static override flags = {
    host: host({description: 'The address for ARI HTTP/WebSocket and the RTP sockets.', env: 'SIM_HOST', default: SIM_DEFAULTS.host}),
    port: port({description: 'The TCP port for ARI (0 = any free port; the real one is printed).', env: 'SIM_PORT', default: SIM_DEFAULTS.port}),
    user: nonEmpty({description: `The ARI user the sim accepts (default ${SIM_DEFAULTS.user}).`, env: 'ARI_USER', aliases: ['ari-user']}),
    pass: nonEmpty({description: `The ARI password the sim accepts (default ${SIM_DEFAULTS.pass}); never printed.`, env: 'ARI_PASS', aliases: ['ari-pass']}),
    'rtp-range': portRange({description: 'UDP ports the externalMedia channels send from (the even ones are used).', env: 'SIM_RTP_RANGE', default: parsePortRange(SIM_DEFAULTS.rtpRange, '--rtp-range'), even: true}),
    'answer-delay-ms': decimal({description: 'How long Answer() takes before the Milliwatt tone starts (recorded: 500).', env: 'SIM_ANSWER_DELAY_MS', default: SIM_DEFAULTS.answerDelayMs, min: 0, max: 60_000}),
    seed: integer({description: 'The seed for initial sequence numbers, SSRCs, ids and the StasisStart race (default: random, logged).', env: 'SIM_SEED', min: 0, max: 0xffffffff}),
    ...simFaultFlags,
    ...simChainFlags,
    'event-delay-ms': decimal({description: 'Every event is delayed by this many ms (order kept).', default: 0, min: 0, max: 600_000}),
    'stop-media': Flags.boolean({description: 'Start with media held (no RTP sent) until POST /_sim/faults {"stopMedia":false}.', default: false}),
    'ready-file': Flags.string({description: 'Also write {"url","port","pid"} JSON to this file once listening.'}),
    'log-level': logLevelOption({aliases: ['log']}),
    ...engineFlag,
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Sim);
    const logger = createLogger({level: flags['log-level']});
    const stop = onStopSignals();
    const sim = await startSim({
      onEngineFatal: (line) => this.dieWith(line),
      host: flags.host, port: flags.port, user: flags.user, pass: flags.pass, rtpRange: flags['rtp-range'],
      answerDelayMs: flags['answer-delay-ms'], seed: flags.seed, logger, engine: flags.engine,
      dialplanContexts: dialplanContexts(flags['dialplan-context']), readOnlyUsers: flags['read-only-user'] ?? [],
      faults: {
        fail: flags.fail ?? [], eventDelayMs: flags['event-delay-ms'], stopMedia: flags['stop-media'],
        ...(flags['late-first-packets'] ? {lateFirstPackets: flags['late-first-packets']} : {}),
        ...(flags['forward-delay'] ? {forwardDelay: flags['forward-delay']} : {}),
        ...(flags['late-above-calls'] ? {lateAboveCalls: flags['late-above-calls']} : {}),
      },
    });
    process.stdout.write(listeningLine(sim) + '\n');
    if (flags['ready-file']) atomicWriteFile(flags['ready-file'], JSON.stringify({url: sim.url, port: sim.port, pid: process.pid}) + '\n');
    if (flags.user === undefined && flags.pass === undefined) logger.info('sim.credentials', {user: sim.user, note: 'default credentials (set --user/--pass or ARI_USER/ARI_PASS)'});

    const signal = await stop.stopped;
    const final = sim.stats();
    await sim.close();
    stop.dispose();
    const {originated, externalMediaCreated: externalMedia, media} = final.totals;
    logger.info('sim.stopped', {signal, originated, externalMedia, packetsSent: media.packetsSent, packetsReceived: media.packetsReceived});
  }
}
