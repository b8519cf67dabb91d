/** `rtpsla capacity` behind its command: the target (given, or the embedded chain), the progress view, the run. */
import {prepareOutDir} from '../config/checks.js';
import type {AriSettings} from '../config/flags.js';
import type {EngineChoice} from '../engine/engine-types.js';
import {ConfigError} from '../errors.js';
import type {PortRange} from '../media/source/caller.js';
import {portRangeText} from '../config/parse.js';
import type {LateAboveCallsRule} from '../sim/forwarding.js';
import {startChain, type EmbeddedChain} from './chain.js';
import {runCapacity, type CapacityFile, type StepLoadOptions} from './run.js';
import type {Resolution} from './search.js';
import {listrView, plainView} from './view.js';

export interface CapacitySettings extends AriSettings {
  serveUrl: string;
  embedded: boolean;
  max: number;
  resolution: Resolution;
  settleMs: number;
  durationMs: number;
  delayBetweenMs: number;
  caller: 'rtp' | 'endpoint';
  callerBindIp: string;
  callerPortRange: PortRange;
  callerEngine: EngineChoice;
  endpoint: string;
  format: string;
  lateThresholdMs: number;
  out: string;
  relayPortRange: PortRange;
  simRtpRange: PortRange;
  lateAboveCalls?: LateAboveCallsRule;
  /** listr2 progress (a TTY without --json) or plain lines on stderr. */
  fancy: boolean;
  signal: AbortSignal;
}

export async function capacityMain(s: CapacitySettings): Promise<{file: CapacityFile; path: string}> {
  if (s.lateAboveCalls && !s.embedded) throw new ConfigError('--late-above-calls sets a fault of the embedded sim: give it with --embedded');
  prepareOutDir(s.out, '--out'); // checked before the first call is originated
  const log = (l: string) => process.stderr.write(l + '\n');
  let chain: EmbeddedChain | null = null;
  try {
    if (s.embedded) {
      const simArgs = s.lateAboveCalls ? ['--late-above-calls', `${s.lateAboveCalls.calls}:${s.lateAboveCalls.ms}`] : [];
      chain = await startChain({format: s.format, relayPortRange: portRangeText(s.relayPortRange), simRtpRange: portRangeText(s.simRtpRange), maxCalls: s.max, simArgs, log});
    }
    const load: StepLoadOptions = {
      ariUrl: chain?.ariUrl ?? s.ariUrl, ariUser: chain?.ariUser ?? s.ariUser, ariPass: chain?.ariPass ?? s.ariPass, app: chain ? 'rtpsla' : s.app,
      serveUrl: chain?.serveUrl ?? s.serveUrl, echoEngine: chain?.echoEngine, durationMs: s.durationMs, delayBetweenMs: s.delayBetweenMs,
      endpoint: s.endpoint, caller: s.caller, callerBindIp: s.callerBindIp, callerPortRange: s.callerPortRange, callerEngine: s.callerEngine,
      format: s.format, lateThresholdMs: s.lateThresholdMs,
    };
    if (s.signal.aborted) throw new ConfigError('capacity: interrupted before the first step');
    const view = s.fancy ? listrView() : plainView();
    const res = await runCapacity({
      load, max: s.max, resolution: s.resolution, settleMs: s.settleMs, outDir: s.out, embedded: s.embedded, signal: s.signal,
      onStepStart: (n, phase, i) => view.stepStart(n, phase, i), onStep: (st) => view.step(st), onLoadProgress: (p) => view.load(p),
    });
    await view.finish(res.error === undefined);
    if (res.error !== undefined) {
      log(`capacity: wrote ${res.path} (stopped at a step that could not run)`);
      throw res.error;
    }
    return res;
  } finally {
    await chain?.stop();
  }
}
