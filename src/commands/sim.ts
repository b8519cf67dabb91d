import {Flags} from '@oclif/core';
import {BaseCommand} from '../base-command.js';
import {parsePort, parsePortRange} from '../config/parse.js';
import {engineFlag} from '../config/flags.js';
import {parseEngineChoice} from '../engine/engine-select.js';
import {ConfigError} from '../errors.js';
import {createLogger, parseLogLevel} from '../log/logger.js';
import {atomicWriteFile} from '../runtime/atomic-write.js';
import {listeningLine, parseFailFlag, SIM_DEFAULTS, startSim, type FailRule} from '../sim/index.js';

export default class Sim extends BaseCommand {
  static override summary = 'Embedded Asterisk 22 stand-in (ARI REST, events WebSocket, externalMedia RTP) for machines without Asterisk.';

  static override description = [
    'Speaks the part of ARI that serve and load use (REST under /ari, the events WebSocket /ari/events, the api-docs ari-client loads) and sends RTP from externalMedia channels, behaving as recorded from a real Asterisk 22.10.1: event order, ids and names, status codes, the externalMedia StasisStart race, 20 ms RTP from UNICASTRTP_LOCAL_PORT.',
    'Dialplan it emulates for Local/<exten>@<context>/n: exten "silence" answers and stays silent; any other exten answers and plays a 1004 Hz Milliwatt tone after --answer-delay-ms. Only Local/ endpoints can be originated.',
    `Credentials default to ${SIM_DEFAULTS.user}/${SIM_DEFAULTS.pass} when neither the flags nor ARI_USER/ARI_PASS are set. Prints "sim listening on http://HOST:PORT" on stdout when ready. GET /ari/asterisk/info reports system.version "22.10.1-rtpsla-sim", so it is never mistaken for a real Asterisk.`,
    'Test controls (same credentials): GET /_sim/stats (which engine sends the RTP; per externalMedia channel: packets sent/received, foreign packets, round trip and send jitter in µs; merged HDR histograms), GET|POST /_sim/faults with e.g. {"fail":{"operation":"externalMedia","status":500,"count":1}}, {"delay":{"operation":"addChannel","delayMs":200}}, {"dropWebSocket":true}, {"eventDelayMs":200}, {"stopMedia":true}, {"clear":true}.',
  ].join('\n\n');

  static override examples = [
    {description: 'Listen on 127.0.0.1:8088 as rtpsla/rtpsla', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Any free port (the real one is printed), reproducible randomness', command: '<%= config.bin %> <%= command.id %> --port 0 --seed 42'},
    {description: 'Make the first externalMedia answer 500', command: '<%= config.bin %> <%= command.id %> --fail externalMedia=500:1'},
    {description: 'Check it answers', command: 'curl -u rtpsla:rtpsla http://127.0.0.1:8088/ari/asterisk/info'},
  ];

  static override flags = {
    host: Flags.string({description: 'Address for ARI HTTP/WebSocket (and the RTP sockets).', env: 'SIM_HOST', default: SIM_DEFAULTS.host}),
    port: Flags.string({description: 'TCP port for ARI (0 = any free port; the real one is printed).', env: 'SIM_PORT', default: String(SIM_DEFAULTS.port)}),
    user: Flags.string({description: `ARI user the sim accepts (default ${SIM_DEFAULTS.user}).`, env: 'ARI_USER', aliases: ['ari-user']}),
    pass: Flags.string({description: `ARI password the sim accepts (default ${SIM_DEFAULTS.pass}; never printed).`, env: 'ARI_PASS', aliases: ['ari-pass']}),
    'rtp-range': Flags.string({description: 'UDP ports the externalMedia channels send from (even ports are used).', env: 'SIM_RTP_RANGE', default: SIM_DEFAULTS.rtpRange}),
    'answer-delay-ms': Flags.string({description: 'How long Answer() takes before the Milliwatt tone starts (recorded: 500).', env: 'SIM_ANSWER_DELAY_MS', default: String(SIM_DEFAULTS.answerDelayMs)}),
    seed: Flags.string({description: 'Seed for initial sequence numbers, SSRCs, ids and the StasisStart race (default: random, logged).', env: 'SIM_SEED'}),
    fail: Flags.string({description: 'Make an ARI operation fail: OPERATION=STATUS[:COUNT] (e.g. externalMedia=500:1, addChannel=422). Repeatable.', multiple: true}),
    'event-delay-ms': Flags.string({description: 'Delay every event by this many ms (order kept).', default: '0'}),
    'stop-media': Flags.boolean({description: 'Start with media held (no RTP sent) until POST /_sim/faults {"stopMedia":false}.', default: false}),
    'ready-file': Flags.string({description: 'Also write {"url","port","pid"} JSON to this file once listening.'}),
    'log-level': Flags.string({description: 'Log level on stderr: debug, info, warn, error, silent.', env: 'LOG_LEVEL', default: 'info', aliases: ['log']}),
    ...engineFlag,
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Sim);
    const port = parsePort(flags.port, '--port/SIM_PORT');
    const rtpRange = parsePortRange(flags['rtp-range'], '--rtp-range/SIM_RTP_RANGE');
    if (rtpRange.high - rtpRange.low < 1) throw new ConfigError('--rtp-range/SIM_RTP_RANGE: needs at least one even port');
    const answerDelayMs = parseNumber(flags['answer-delay-ms'], '--answer-delay-ms/SIM_ANSWER_DELAY_MS', 0, 60_000);
    const eventDelayMs = parseNumber(flags['event-delay-ms'], '--event-delay-ms', 0, 600_000);
    const seed = flags.seed === undefined ? undefined : parseNumber(flags.seed, '--seed/SIM_SEED', 0, 0xffffffff);
    if (seed !== undefined && !Number.isInteger(seed)) throw new ConfigError(`--seed/SIM_SEED: "${flags.seed}" is not an integer`);
    const level = parseLogLevel(flags['log-level']);
    if (level === undefined) throw new ConfigError(`--log-level/LOG_LEVEL: "${flags['log-level']}" is not one of debug, info, warn, error, silent`);
    const host = flags.host.trim();
    if (host === '') throw new ConfigError('--host/SIM_HOST: empty');
    if (flags.user === '') throw new ConfigError('--user/ARI_USER: empty');
    if (flags.pass === '') throw new ConfigError('--pass/ARI_PASS: empty');
    const engine = parseEngineChoice(flags.engine);
    const fails: FailRule[] = [];
    for (const f of flags.fail ?? []) {
      try {
        fails.push(parseFailFlag(f));
      } catch (err) {
        throw new ConfigError(`--fail: ${(err as Error).message}`);
      }
    }

    const logger = createLogger({level});
    const sim = await startSim({
      host, port, user: flags.user, pass: flags.pass, rtpRange, answerDelayMs, seed, logger, engine,
      faults: {fail: fails, eventDelayMs, stopMedia: flags['stop-media']},
    });
    process.stdout.write(listeningLine(sim) + '\n');
    if (flags['ready-file']) {
      const file = flags['ready-file'];
      atomicWriteFile(file, JSON.stringify({url: sim.url, port: sim.port, pid: process.pid}) + '\n');
    }
    if (flags.user === undefined && flags.pass === undefined) logger.info('sim.credentials', {user: sim.user, note: 'default credentials (set --user/--pass or ARI_USER/ARI_PASS)'});

    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    const final = sim.stats();
    await sim.close();
    logger.info('sim.stopped', {
      signal,
      originated: final.totals.originated,
      externalMedia: final.totals.externalMediaCreated,
      packetsSent: final.totals.media.packetsSent,
      packetsReceived: final.totals.media.packetsReceived,
    });
  }
}

function parseNumber(text: string, setting: string, min: number, max: number): number {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${setting}: "${text}" is not a number in ${min}-${max}`);
  return n;
}
