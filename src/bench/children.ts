/**
 * The processes of one benchmark phase: `rtpsla sim`, `rtpsla echo` and (rtpsla relay paths)
 * `rtpsla serve`, real child processes on 127.0.0.1, fresh per phase so every counter starts at
 * zero; RTPSLA_ENGINE picks each one's media engine.
 */
import {fileURLToPath} from 'node:url';
import {RtpslaChild} from '../demo/children.js';
import type {EngineKind} from '../engine/engine-types.js';

const PROFILE_PRELOAD = fileURLToPath(new URL('./cpu-profile-preload.js', import.meta.url));

export interface BenchCredentials {
  user: string;
  pass: string;
}

export interface PhaseProcesses {
  sim: RtpslaChild;
  echo: RtpslaChild;
  serve: RtpslaChild | null;
  simUrl: string;
  echoPort: number;
  /** The engine echo says it runs in its listening line ("native engine: echo listening on …"); null when it does not say. */
  echoEngine: string | null;
  serveUrl: string | null;
}

/** Every child started by the benchmark, so Ctrl-C / failure / exit can stop them all. */
export class ChildRegistry {
  private readonly live = new Set<RtpslaChild>();
  private readonly onExit = () => this.killNow();

  constructor() {
    process.once('exit', this.onExit);
  }

  spawn(name: string, args: string[], env: NodeJS.ProcessEnv): RtpslaChild {
    const c = new RtpslaChild(name, args, env);
    this.live.add(c);
    return c;
  }

  /** A program other than rtpsla (the rtpengine daemon). */
  spawnExecutable(name: string, executable: string, args: string[]): RtpslaChild {
    const c = new RtpslaChild(name, args, {}, executable);
    this.live.add(c);
    return c;
  }

  /** SIGTERM (SIGKILL after the grace period) and wait for each to exit. */
  async stop(children: Array<RtpslaChild | null | undefined>): Promise<void> {
    await Promise.allSettled(
      children.filter((c): c is RtpslaChild => !!c).map(async (c) => {
        await c.stop(8000);
        this.live.delete(c);
      }),
    );
  }

  async stopAll(): Promise<void> {
    await this.stop([...this.live]);
  }

  killNow(): void {
    for (const c of this.live) c.killNow();
  }

  dispose(): void {
    process.off('exit', this.onExit);
  }
}

/** RTPSLA_ENGINE values the bench gives (serve, echo and sim read it). */
export type EngineName = EngineKind;

export interface StartOptions {
  withServe: boolean;
  /** RTPSLA_ENGINE of sim and echo (default: inherited). */
  simEchoEngine?: EngineName;
  /** RTPSLA_ENGINE of serve (default: inherited). */
  serveEngine?: EngineName;
  /** echo logs its counters (info) each second and when stopped, for its pacing error. */
  echoStats?: boolean;
  creds: BenchCredentials;
  simRtpRange: string;
  relayPortRange: string;
  format: string;
  /** Directory for a CPU profile of serve (written when it exits; see cpu-profile-preload.ts). */
  serveCpuProfDir?: string;
  /** RTPSLA_ENGINE_CPUS of the sim's, echo's and serve's native engines (null: not pinned, whatever the bench inherited). */
  engineCpus?: {sim: string | null; echo: string | null; relay: string | null};
}

const READY_MS = 20_000;

export async function startPhaseProcesses(reg: ChildRegistry, o: StartOptions): Promise<PhaseProcesses> {
  const engineEnv = (e: EngineName | undefined) => (e ? {RTPSLA_ENGINE: e} : {});
  const cpus = (part: 'sim' | 'echo' | 'relay') => ({RTPSLA_ENGINE_CPUS: o.engineCpus?.[part] ?? ''});
  const env = {ARI_USER: o.creds.user, ARI_PASS: o.creds.pass, NODE_OPTIONS: ''};
  const sim = reg.spawn('sim', ['sim', '--port', '0', '--rtp-range', o.simRtpRange, '--log-level', 'warn'], {...env, ...cpus('sim'), ...engineEnv(o.simEchoEngine)});
  const echo = reg.spawn(
    'echo',
    ['echo', '--port', '0', '--stats-interval-sec', o.echoStats ? '1' : '0', '--log-level', o.echoStats ? 'info' : 'warn'],
    {NODE_OPTIONS: '', ...cpus('echo'), ...engineEnv(o.simEchoEngine)},
  );
  const [simM, echoM] = await Promise.all([
    sim.ready(/listening on (http:\/\/[\d.]+:\d+)/, READY_MS),
    echo.ready(/(?:(\w+) engine: )?echo listening on [\d.]+:(\d+)/, READY_MS),
  ]);
  const simUrl = simM[1];
  const echoPort = Number(echoM[2]);
  const echoEngine = echoM[1] ?? null;
  let serve: RtpslaChild | null = null;
  let serveUrl: string | null = null;
  if (o.withServe) {
    serve = reg.spawn(
      'serve',
      ['serve', '--metrics-port', '0', '--echo-port', String(echoPort), '--port-range', o.relayPortRange, '--format', o.format,
        '--metrics-interval-sec', '0', '--reconcile-interval-sec', '0', '--log-level', 'warn'],
      {
        ARI_URL: simUrl,
        ...env,
        ...cpus('relay'),
        ...engineEnv(o.serveEngine),
        ...(o.serveCpuProfDir ? {NODE_OPTIONS: `--import=${PROFILE_PRELOAD}`, BENCH_CPU_PROF_DIR: o.serveCpuProfDir} : {}),
      },
    );
    serveUrl = (await serve.ready(/serve listening on (http:\/\/[\d.]+:\d+)/, READY_MS))[1];
  }
  return {sim, echo, serve, simUrl, echoPort, echoEngine, serveUrl};
}

export function pidOf(c: RtpslaChild | null): number | null {
  return c?.proc.pid ?? null;
}
