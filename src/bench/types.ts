/**
 * Shapes of the benchmark result file `reports/bench/<timestamp>.json` (schema rtpsla.bench/v1,
 * extended: per N one result per path — direct, rtpsla relay with the native engine, rtpsla relay
 * with the node engine, rtpengine userspace — and what each relay adds over direct).
 */
import type {PercentilesMs, ToolEngines} from '../protocol/report.js';
import type {PhasePlacement} from './placement.js';
import type {PercentilesWithCount} from '../metrics/histogram.js';
import type {SlaLevel} from '../sla/profile.js';
import type {WindowResult} from './window.js';
import type {Resolution} from '../capacity/search.js';

export const BENCH_SCHEMA_ID = 'rtpsla.bench/v1';

export type PercentilesMsN = PercentilesWithCount;

/**
 * The media paths, in the order they run for each N: direct; rtpsla's relay with the native
 * engine, like for like with rtpengine and at its own defaults; with the node engine; rtpengine
 * like for like and at its own defaults; and the rtp-caller chain (load's caller engine → sim's
 * forwarding → relay → echo).
 */
export const PATH_NAMES = ['direct', 'native', 'native-defaults', 'node', 'rtpengine', 'rtpengine-defaults', 'rtpcaller'] as const;
export type PathName = (typeof PATH_NAMES)[number];
/** The relays measured against the direct path. */
export type RelayPathName = Exclude<PathName, 'direct'>;
export const RELAY_PATH_NAMES: readonly RelayPathName[] = ['native', 'native-defaults', 'node', 'rtpengine', 'rtpengine-defaults', 'rtpcaller'];
/** The paths whose relay is rtpsla's serve, each judged by sla on load's report. */
export const RTPSLA_PATH_NAMES = ['native', 'native-defaults', 'node', 'rtpcaller'] as const;
export type RtpslaPathName = (typeof RTPSLA_PATH_NAMES)[number];

/** How the relay under test ran: its real-time class and the CPUs its media threads were pinned to. */
export interface RelayPlacement {
  /** `like-for-like`: rtpengine at rtpsla's relay priority and placement; `defaults`: each at its own. */
  mode: 'like-for-like' | 'defaults';
  /**
   * The class the relay was asked to run at: `fifo:12`, or `default` (the relay's own choice).
   * What the OS granted is in the result's `toolEngines` (a normal user asks and gets `normal`).
   */
  scheduling: string;
  /** The CPUs the media threads were pinned to (null: placed by the kernel); control threads (serve's Node, rtpengine's main/ICE/timer threads) are never pinned. */
  mediaCpus: string | null;
  /** rtpengine: the names of its threads pinned to mediaCpus (poller, media player, send timer, codec timer). */
  threadsPinned?: string[];
}

/** min / median / max of one figure over the repeats of a path at one N. */
export interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface PathEngines {
  /** RTPSLA_ENGINE given to sim (the same on every path of a run). */
  sim: string;
  /** The engine echo says it runs (its listening line), else the RTPSLA_ENGINE it was given (the same as sim's). */
  echo: string;
  /** rtpsla paths: RTPSLA_ENGINE given to serve. */
  relayRequested: string | null;
  /** rtpsla paths: `engine` from serve's /metrics JSON (null when serve did not say); `rtpengine`; null on direct. */
  relay: string | null;
}

/** echo's pacing error (send − due), µs; the percentiles echo does not report are null. */
export interface EchoPacingUs {
  p50: number | null;
  p99: number;
  p999: number | null;
  max: number | null;
}

export interface PathResult {
  path: PathName;
  engines: PathEngines;
  /** Where the media chain ran (src/bench/placement.ts); every path of one N has the same. */
  placement: PhasePlacement;
  calls: number;
  callsSetUp: number;
  callsFailed: number;
  errors: string[];
  /**
   * Round trip per packet as the sim measures it (send of a seq → the same seq back), ms; null
   * where the sim sent no media of its own (rtpcaller: it forwards load's caller), `nullReasons` says so.
   */
  roundTripMs: PercentilesMsN | null;
  /** The sim's own send jitter (actual send − deadline), ms: how loaded the sim was; null as `roundTripMs`. */
  simSendJitterMs: PercentilesMsN | null;
  /** The sim's own media counts; null as `roundTripMs`. */
  sim: null | {
    packetsSent: number;
    packetsReceived: number;
    /** (sent − received) / sent, end to end at the sim (in-flight at hangup drained first). */
    lossRatio: number;
    /** Fraction of round trips over the 20 ms late threshold (the direct path's lateness proxy). */
    roundTripOver20msRatio: number;
    /** Times the sim's scheduler had to skip frames (it was too far behind). */
    schedulerSkips: number;
  };
  /** Late ratio: rtpsla paths from serve's report (§4); direct and rtpengine: round trips > 20 ms (proxy). */
  lateRatio: number | null;
  /** Loss ratio: rtpsla paths from serve's report (§4); direct and rtpengine from the sim's counts. */
  lossRatio: number | null;
  /** rtpsla paths only (needs the per-sequence view of serve); null otherwise. */
  maxConsecutiveMisses: number | null;
  window: WindowResult;
  /**
   * The relay's CPU time / packets it forwarded in both directions during the window: serve with
   * its engine child (rtpsla paths), the daemon (rtpengine); null on direct.
   */
  relayCpuUsPerPacket: number | null;
  /**
   * The same relay's CPU read by one instrument for every relay, as a cross-check beside the
   * engine counters: utime+stime from /proc of every process of the relay (serve with its engine
   * child; every thread of rtpengine) over the window / the packets it forwarded; null on direct.
   */
  relayCpuUsPerPacketProc: number | null;
  /** Why a null figure of this result is null, by its field name. */
  nullReasons?: Record<string, string>;
  /** rtpcaller: what load's caller engine measured (the report's `summary.caller`); null elsewhere. */
  caller: null | {
    callerRttMs: PercentilesMs | null;
    hearsLatenessMs: PercentilesMs | null;
    expected: number;
    received: number;
    late: number;
    lost: number;
  };
  /** rtpcaller: load's caller engine (CPU from /proc over the window / packets the relay forwarded then, each one sent or received once by the caller); null elsewhere. */
  callerCpuUsPerPacket: number | null;
  /** How the relay under test ran (null on direct). */
  relayPlacement: RelayPlacement | null;
  /**
   * What each engine role was granted in this phase (scheduling, pinning, timestamps), as a
   * report's `tool.engines`: the sim from /_sim/stats, the echo from its engine line, the relay
   * and caller from load's report (rtpsla paths). rtpengine's relay is `{unknown}`: its
   * threads' class is what `relayPlacement` asked (it fails to start when refused).
   */
  toolEngines: ToolEngines;
  /** With --repeat K > 1: every number of this result over the K runs (this result holds the medians), by its JSON path. */
  repeat?: {runs: number; figures: Record<string, Spread>};
  /** The native engine process alone (CPU / forwarded packets); null when serve has no engine child. */
  engineCpuUsPerPacket: number | null;
  /** From serve's /metrics (rtpsla paths) or rtpengine's `statistics` (relayedpackets) at the window's ends. */
  packetsForwardedInWindow: number | null;
  /**
   * echo's pacing error (send − due of the packets it held), µs, over the steady window like every
   * CPU figure: between the two marks the bench asks echo for (media/echo/mark.ts); null with the
   * reason in `echoPacingNote`. The `echoPacingP99` target is judged on it.
   */
  echoPacingErrorUs: (EchoPacingUs & {count: number}) | null;
  /** The same over the echo's whole life (setup and teardown included), from its last stats line. */
  echoPacingErrorUsPhase: EchoPacingUs | null;
  /** How each of the two was taken, or why it is null. */
  echoPacingNote: string;
  serve: null | {
    eventLoopDelayMs: {p50: number; p99: number; max: number} | null;
    rssBytesAtEnd: number;
    portsHeldAtEnd: number;
  };
  relay: null | {
    reportPath: string;
    latenessMs: PercentilesMs | null;
    rttMs: PercentilesMs | null;
    packetsUp: number;
    packetsBack: number;
    late: number;
    lost: number;
    peakConcurrent: number;
    sla: {pass: boolean; judgedAt: string; level: SlaLevel | null; levelCalls: number | null; failed: string[]};
  };
  setupMs: {p50: number; max: number} | null;
}

export interface OverDirect {
  /** relay / direct of the round-trip percentiles. */
  ratios: {p50: number; p99: number; p999: number; max: number};
  /** relay − direct of the round-trip percentiles, ms. */
  addsMs: {p50: number; p99: number; p999: number; max: number};
}

export interface NResult {
  calls: number;
  direct: PathResult | null;
  native: PathResult | null;
  'native-defaults': PathResult | null;
  node: PathResult | null;
  rtpengine: PathResult | null;
  'rtpengine-defaults': PathResult | null;
  rtpcaller: PathResult | null;
  /** Each relay against the direct path of the same N (null when either was not measured). */
  overDirect: Record<RelayPathName, OverDirect | null>;
  /** The SLA verdict of serve's report on each rtpsla path (null when not measured). */
  slaClean: Record<RtpslaPathName, boolean | null>;
}

/** The capacity search on one rtpsla path (src/capacity/search.ts), each step a fresh phase judged by sla. */
export interface BenchSearch {
  largest: number | null;
  confirmed: boolean;
  firstFail: {calls: number; limitingText: string} | null;
  stoppedBy: string;
  steps: Array<{calls: number; phase: string; pass: boolean; limitingText: string | null; reportPath: string | null}>;
}

export interface SkippedPath {
  path: PathName;
  reason: string;
}

export interface TargetCheck {
  met: boolean | null;
  detail: string;
}

export interface BenchResult {
  schema: typeof BENCH_SCHEMA_ID;
  startedAt: string;
  endedAt: string;
  partial?: boolean;
  machine: {cpus: number; cpuModel: string; totalMemBytes: number; node: string; platform: string; kernel: string; loadAvgAtStart: number[]; clockTicksPerSec: number; nodeFlags: readonly string[]; harnessHasNodeFlags: boolean};
  params: {
    calls: number[]; durationMs: number; delayBetweenMs: number; settleMs: number; format: string; endpoint: string; simRtpRange: string; relayPortRange: string;
    rtpenginePortRange: string; paths: PathName[];
    /** Runs of every path at every N (min / median / max of each figure when above 1). */
    repeat: number;
    /** --search: the largest SLA-clean N is searched for (up to the largest --calls, to this resolution) instead of taken from the N values given. */
    search: null | {max: number; resolution: Resolution};
  };
  /** Paths asked for but not run (binary missing, …), each with why. */
  skipped: SkippedPath[];
  /** The rtpengine daemon as run (null when the path did not run). */
  rtpengine: null | {executable: string; version: string | null; args: string[]; ngFlags: Record<string, unknown>};
  notes: string[];
  results: NResult[];
  /**
   * Largest N whose rtpsla relay report passed the SLA, per rtpsla path: the largest of the N
   * values given, or with --search the capacity search's result (`search` has its steps).
   */
  largestSlaCleanCalls: Record<RtpslaPathName, number | null>;
  largestSlaCleanBy: 'calls given' | 'search';
  search: null | Partial<Record<RtpslaPathName, BenchSearch>>;
  targets: Record<string, TargetCheck>;
  /** The chart's data: a Chart.js config with its data inline, written beside the result (its page: the same name, .html). */
  chartSpecPath: string;
}
