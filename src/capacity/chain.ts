/**
 * `capacity --embedded`: the chain `npm start` runs (src/demo/pipeline.ts), started once for the
 * whole search: `rtpsla sim`, `rtpsla echo` and `rtpsla serve` as child processes (the demo's
 * RtpslaChild) on free 127.0.0.1 ports, with the engines' scheduling and placement the demo
 * gives them. Stopped whatever happens.
 */
import {randomBytes} from 'node:crypto';
import type {EngineRoleInfo} from '../protocol/report.js';
import {RtpslaChild} from '../demo/children.js';
import {ENGINE_CPUS_ENV, sharedCpuFor} from '../engine/cpu-list.js';
import {resolveEngineBinary, sayNodeEngine} from '../engine/engine-binary.js';
import {chainScheduling, probeEngine} from '../engine/engine-probe.js';
import {parseEngineLine} from '../media/echo/index.js';

export interface ChainOptions {
  format: string;
  relayPortRange: string;
  simRtpRange: string;
  /** The largest call count the search may judge: the engines share one CPU only while it is light. */
  maxCalls: number;
  /** Extra `rtpsla sim` arguments (a fault switch such as --late-above-calls). */
  simArgs?: string[];
  log: (line: string) => void;
}

export interface EmbeddedChain {
  ariUrl: string;
  ariUser: string;
  ariPass: string;
  serveUrl: string;
  echoEngine: EngineRoleInfo | undefined;
  children: RtpslaChild[];
  stop(): Promise<void>;
}

const READY_MS = 20_000;

export async function startChain(o: ChainOptions): Promise<EmbeddedChain> {
  const user = 'rtpsla';
  const pass = randomBytes(12).toString('hex'); // per run, passed by environment only
  const children: RtpslaChild[] = [];
  const killAll = () => children.forEach((c) => c.killNow());
  process.once('exit', killAll);
  const stop = async () => {
    await Promise.allSettled(children.map((c) => c.stop()));
    process.off('exit', killAll);
  };
  try {
    const engine = await resolveEngineBinary((t) => o.log(t.trimEnd()));
    if (engine.path === null) sayNodeEngine(engine.reason, (t) => o.log(t.trimEnd()));
    const scheduling = chainScheduling(await probeEngine(['relay'], true));
    if (scheduling.note !== null) o.log(scheduling.note);
    const engineCpus = process.env[ENGINE_CPUS_ENV] ?? sharedCpuFor(o.maxCalls) ?? '';
    const pin = {[ENGINE_CPUS_ENV]: engineCpus, ...scheduling.env};
    // load runs in this process: its caller engine takes the chain's placement and scheduling
    Object.assign(process.env, pin);
    const sim = new RtpslaChild('sim', ['sim', '--port', '0', '--rtp-range', o.simRtpRange, '--log-level', 'warn', ...(o.simArgs ?? [])], {ARI_USER: user, ARI_PASS: pass, ...pin});
    const echo = new RtpslaChild('echo', ['echo', '--port', '0', '--stats-interval-sec', '0'], pin);
    children.push(sim, echo);
    const [simUrl] = await Promise.all([
      sim.ready(/listening on (http:\/\/[\d.]+:\d+)/, READY_MS).then((m) => m[1]),
      echo.ready(/echo engine \S+ \([^)]*\)/, READY_MS),
    ]);
    const echoPort = echo.output.match(/echo listening on [\d.]+:(\d+)/)![1];
    const serve = new RtpslaChild(
      'serve',
      ['serve', '--metrics-port', '0', '--echo-port', echoPort, '--port-range', o.relayPortRange, '--format', o.format, '--metrics-interval-sec', '0', '--log-level', 'warn'],
      {ARI_URL: simUrl, ARI_USER: user, ARI_PASS: pass, ...pin},
    );
    children.push(serve);
    const serveUrl = (await serve.ready(/serve listening on (http:\/\/[\d.]+:\d+)/, READY_MS))[1];
    o.log(`capacity: embedded sim ${simUrl}, echo 127.0.0.1:${echoPort}, serve ${serveUrl}${engineCpus ? `; native media engines on CPU ${engineCpus}` : ''}`);
    return {ariUrl: simUrl, ariUser: user, ariPass: pass, serveUrl, echoEngine: parseEngineLine(echo.output), children, stop};
  } catch (e) {
    for (const c of children) if (c.output.trim()) o.log(c.tail());
    await stop();
    throw e;
  }
}
