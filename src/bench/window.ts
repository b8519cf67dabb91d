/**
 * The steady measurement window of a phase: CPU time of every process and the host's UDP error
 * counters sampled at its start and end (setup and teardown excluded), plus RSS of every process
 * sampled each second over the whole phase (peak kept).
 */
import {hostStealUs} from '../metrics/host.js';
import {childPids, cpuTimeUs, processName, processTree, rssBytes, udpCounters, udpDelta, type UdpCounters} from './proc.js';

/**
 * sim, echo and serve count with their child processes (a native engine they start);
 * `engine` is serve's native engine child alone (part of `serve` too); `rtpengine` the daemon;
 * `caller` the native caller engine load starts in the bench's own process (the rtpcaller path).
 */
export type ProcName = 'sim' | 'echo' | 'serve' | 'engine' | 'rtpengine' | 'harness' | 'caller';
type RootName = Exclude<ProcName, 'engine' | 'caller'>;

/** The executable name (`comm`) of the native media engine serve starts. */
export const ENGINE_COMM = 'rtpsla-engine';

export interface WindowResult {
  /** False when the window could not be taken between "all originated + settle" and "first hangup". */
  steady: boolean;
  durationMs: number;
  /** CPU per process in % of one core over the window (100 = one core busy). */
  cpuPercent: Partial<Record<ProcName, number>>;
  cpuTimeUs: Partial<Record<ProcName, number>>;
  udp: UdpCounters;
  /** Peak VmRSS over the phase, bytes. */
  rssPeakBytes: Partial<Record<ProcName, number>>;
  /**
   * CPU time the hypervisor took from this VM (/proc/stat steal, all CPUs), ms over the whole
   * phase (setup, media and teardown: every packet the SLA judges) and % of one core over the
   * steady window. Non-zero steal stalls every process of the path at once.
   */
  hostSteal: {phaseMs: number; windowPercent: number};
}

interface Mark {
  tUs: number;
  stealUs: number;
  /** CPU µs per process id, for each name (a process and its descendants). */
  cpu: Partial<Record<ProcName, Map<number, number>>>;
  udp: UdpCounters;
}

export class PhaseWindow {
  private start: Mark | null = null;
  private end: Mark | null = null;
  private readonly rssPeak: Partial<Record<ProcName, number>> = {};
  private readonly rssTimer: NodeJS.Timeout;
  private startTimer: NodeJS.Timeout | undefined;
  private readonly phaseStart: Mark;
  /** Called right after the start mark (e.g. to read serve's counters). */
  onStart?: () => void;

  constructor(private readonly pids: Partial<Record<RootName, number | null>>) {
    this.phaseStart = this.mark();
    this.sampleRss();
    this.rssTimer = setInterval(() => this.sampleRss(), 1000);
  }

  /** The processes counted under each name right now. */
  private members(): Partial<Record<ProcName, number[]>> {
    const m: Partial<Record<ProcName, number[]>> = {};
    for (const [name, pid] of Object.entries(this.pids) as Array<[RootName, number | null]>) {
      if (!pid) continue;
      // the harness's children are the measured processes themselves
      m[name] = name === 'harness' ? [pid] : processTree(pid);
    }
    const harness = this.pids.harness;
    if (harness) {
      // the harness's own engine child (load's caller engine); sim, echo and serve are its Node children
      const caller = childPids(harness).filter((p) => processName(p).startsWith(ENGINE_COMM));
      if (caller.length > 0) m.caller = caller;
    }
    if (m.serve) {
      const engine = m.serve.filter((p) => p !== this.pids.serve && processName(p).startsWith(ENGINE_COMM));
      if (engine.length > 0) m.engine = engine;
    }
    return m;
  }

  private mark(): Mark {
    const cpu: Partial<Record<ProcName, Map<number, number>>> = {};
    for (const [name, pids] of Object.entries(this.members()) as Array<[ProcName, number[]]>) cpu[name] = new Map(pids.map((p) => [p, cpuTimeUs(p)]));
    return {tUs: Number(process.hrtime.bigint() / 1000n), stealUs: hostStealUs() ?? 0, cpu, udp: udpCounters()};
  }

  private sampleRss(): void {
    for (const [name, pids] of Object.entries(this.members()) as Array<[ProcName, number[]]>) {
      const v = pids.reduce((sum, p) => sum + rssBytes(p), 0);
      if (v > (this.rssPeak[name] ?? 0)) this.rssPeak[name] = v;
    }
  }

  /** All calls are originated: the window starts `settleMs` later (setup done, media flowing). */
  allOriginated(settleMs: number): void {
    this.startTimer = setTimeout(() => {
      if (this.end) return;
      this.start = this.mark();
      this.onStart?.();
    }, settleMs);
  }

  /** The first call is about to be hung up: the window ends now. */
  firstHangup(): void {
    if (!this.end) this.end = this.mark();
  }

  get started(): boolean {
    return this.start !== null;
  }

  finish(): WindowResult {
    clearInterval(this.rssTimer);
    clearTimeout(this.startTimer);
    this.sampleRss();
    const steady = this.start !== null && this.end !== null;
    const a = steady ? this.start! : this.phaseStart;
    const b = this.end ?? this.mark();
    const durUs = Math.max(1, b.tUs - a.tUs);
    const cpuPercent: Partial<Record<ProcName, number>> = {};
    const cpuTime: Partial<Record<ProcName, number>> = {};
    for (const [name, end] of Object.entries(b.cpu) as Array<[ProcName, Map<number, number>]>) {
      // a process born inside the window counts from 0; one that ended inside it is not counted
      let d = 0;
      for (const [pid, us] of end) d += us - (a.cpu[name]?.get(pid) ?? 0);
      cpuTime[name] = d;
      cpuPercent[name] = round((d / durUs) * 100, 1);
    }
    const hostSteal = {
      phaseMs: Math.round(((hostStealUs() ?? 0) - this.phaseStart.stealUs) / 1000),
      windowPercent: round(((b.stealUs - a.stealUs) / durUs) * 100, 2),
    };
    return {steady, durationMs: Math.round(durUs / 1000), cpuPercent, cpuTimeUs: cpuTime, udp: udpDelta(a.udp, b.udp), rssPeakBytes: {...this.rssPeak}, hostSteal};
  }
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
