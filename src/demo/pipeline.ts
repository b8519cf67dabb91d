import {randomBytes} from 'node:crypto';
import {Chalk} from 'chalk';
import {buildProfile} from '../sla/profile.js';
import {LEVELS} from '../sla/profile.js';
import {evaluateFiles} from '../sla/run.js';
import {renderTable, stdoutColorLevel} from '../sla/render.js';
import {runLoad, type LoadProgress} from '../load/run.js';
import {renderSummaryTable} from '../load/summary-table.js';
import {writeHtmlReport} from '../report/index.js';
import {ENGINE_CPUS_ENV, sharedCpuFor} from '../engine/cpu-list.js';
import {resolveEngineBinary, sayNodeEngine} from '../engine/engine-binary.js';
import {parseEngineLine} from '../media/echo/index.js';
import {chainScheduling, probeEngine} from '../engine/engine-probe.js';
import {RtpslaChild} from './children.js';

export interface PipelineOptions {
  count: number;
  durationMs: number;
  delayBetweenMs: number;
  format: string;
  outDir: string;
  /** Relay ports for serve, sim RTP ports: kept apart so neither has to skip the other's ports. */
  relayPortRange: string;
  simRtpRange: string;
  /** Who calls (default rtp: rtpsla's own RTP stream, measured at the caller beside the relay). */
  caller?: 'rtp' | 'endpoint';
  signal?: AbortSignal;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  onProgress?: (p: LoadProgress) => void;
}

export interface PipelineResult {
  exitCode: 0 | 1 | 2 | 130;
  reportPath: string | null;
  /** The HTML page of the report, beside it (null: no report). */
  htmlPath?: string | null;
}

/**
 * The whole chain on one machine with no Asterisk: `rtpsla sim`, `rtpsla echo` and `rtpsla serve`
 * as child processes on free loopback ports, then `load` (by default with rtpsla itself as the RTP caller, whose figures the summary shows beside the relay's) and `sla` on its report. The children are
 * stopped whatever happens (success, failure, Ctrl-C). Exit code = the SLA verdict.
 */
export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  const user = 'rtpsla';
  const pass = randomBytes(12).toString('hex'); // per run, passed by environment only
  const children: RtpslaChild[] = [];
  const killAll = () => children.forEach((c) => c.killNow());
  process.once('exit', killAll);
  try {
    // build the engine here if the install did not (one line), so the children find it ready
    const engine = await resolveEngineBinary((t) => err.write(t));
    if (engine.path === null) sayNodeEngine(engine.reason, (t) => err.write(t));
    const scheduling = chainScheduling(await probeEngine(['relay'], true));
    if (scheduling.note !== null) err.write(`${scheduling.note}\n`);
    err.write('pipeline: starting sim, echo and serve on 127.0.0.1 …\n');
    // the media engines share one CPU while the chain is light (src/engine/cpu-list.ts), unless RTPSLA_ENGINE_CPUS says otherwise
    const engineCpus = process.env[ENGINE_CPUS_ENV] ?? sharedCpuFor(o.count) ?? '';
    const pin = {[ENGINE_CPUS_ENV]: engineCpus, ...scheduling.env};
    // load runs in this process: its caller engine takes the same placement and scheduling as the children's engines
    Object.assign(process.env, pin);
    const sim = new RtpslaChild('sim', ['sim', '--port', '0', '--rtp-range', o.simRtpRange], {ARI_USER: user, ARI_PASS: pass, ...pin});
    const echo = new RtpslaChild('echo', ['echo', '--port', '0', '--stats-interval-sec', '0'], pin);
    children.push(sim, echo);
    const [simUrl] = await Promise.all([
      sim.ready(/listening on (http:\/\/[\d.]+:\d+)/, 15_000).then((m) => m[1]),
      echo.ready(/echo engine \S+ \([^)]*\)/, 15_000),
    ]);
    const echoPort = echo.output.match(/echo listening on [\d.]+:(\d+)/)![1];
    const echoEngine = parseEngineLine(echo.output);
    const serve = new RtpslaChild(
      'serve',
      ['serve', '--metrics-port', '0', '--echo-port', echoPort, '--port-range', o.relayPortRange, '--format', o.format, '--metrics-interval-sec', '0', '--log-level', 'warn'],
      {ARI_URL: simUrl, ARI_USER: user, ARI_PASS: pass, ...pin},
    );
    children.push(serve);
    const serveUrl = (await serve.ready(/serve listening on (http:\/\/[\d.]+:\d+)/, 20_000))[1];
    err.write(`pipeline: sim ${simUrl}, echo 127.0.0.1:${echoPort}, serve ${serveUrl}${engineCpus ? `; native media engines on CPU ${engineCpus}` : ''}\n`);
    if (o.signal?.aborted) return {exitCode: 130, reportPath: null};

    const {report, path} = await runLoad({
      echoEngine,
      ariUrl: simUrl,
      ariUser: user,
      ariPass: pass,
      app: 'rtpsla',
      count: o.count,
      durationMs: o.durationMs,
      delayBetweenMs: o.delayBetweenMs,
      endpoint: 'Local/s@rtpsla-source/n',
      caller: o.caller ?? 'rtp',
      format: o.format,
      serveUrl,
      outDir: o.outDir,
      lateThresholdMs: 20,
      signal: o.signal,
      onProgress: o.onProgress,
    });
    // the report's notes follow once, under the SLA table
    out.write(renderSummaryTable(report, path, {notes: false}) + '\n');

    // Below the nominal level (30 calls), judge the run at its own size so a short demo can pass honestly.
    const below = o.count < LEVELS.nominal;
    const profile = below ? buildProfile({levels: {nominal: {calls: o.count}}}, `demo (nominal level set to ${o.count} calls)`) : undefined;
    if (below) err.write(`pipeline: ${o.count} calls is below the nominal level (${LEVELS.nominal}); judging at a ${o.count}-call level\n`);
    const outcome = evaluateFiles([path], {profile});
    out.write(renderTable(outcome, new Chalk({level: stdoutColorLevel()})));
    // the same reports, judged the same way, drawn into one page next to the report
    const htmlPath = path.replace(/\.json$/, '') + '.html';
    await writeHtmlReport([path], htmlPath, {profile});
    out.write(`HTML report: ${htmlPath}\n`);
    return {exitCode: report.partial ? 130 : outcome.exitCode, reportPath: path, htmlPath};
  } catch (e) {
    for (const c of children) if (c.output.trim()) err.write(`${c.tail()}\n`);
    throw e;
  } finally {
    await Promise.allSettled(children.map((c) => c.stop()));
    process.off('exit', killAll);
  }
}
