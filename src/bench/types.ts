/** Shapes of the benchmark result file `reports/bench/<timestamp>.json` (schema rtpsla.bench/v1). */
import type {PercentilesWithCount} from '../metrics/histogram.js';
import type {SlaLevel} from '../sla/profile.js';
import type {WindowResult} from './window.js';

export const BENCH_SCHEMA_ID = 'rtpsla.bench/v1';

export type PercentilesMsN = PercentilesWithCount;

export interface PathResult {
  path: 'direct' | 'relay';
  calls: number;
  callsSetUp: number;
  callsFailed: number;
  errors: string[];
  /** Round trip per packet as the sim measures it (send of a seq → the same seq back), ms. */
  roundTripMs: PercentilesMsN;
  /** The sim's own send jitter (actual send − deadline), ms: how loaded the sim was. */
  simSendJitterMs: PercentilesMsN;
  sim: {
    packetsSent: number;
    packetsReceived: number;
    /** (sent − received) / sent, end to end at the sim (in-flight at hangup drained first). */
    lossRatio: number;
    /** Fraction of round trips over the 20 ms late threshold (the direct path's lateness proxy). */
    roundTripOver20msRatio: number;
    /** Times the sim's scheduler had to skip frames (it was too far behind). */
    schedulerSkips: number;
  };
  /** Late ratio: relay path from serve's report (§4); direct path: round trips > 20 ms (proxy). */
  lateRatio: number;
  /** Loss ratio: relay path from serve's report (§4); direct path from the sim's counts. */
  lossRatio: number;
  /** Relay path only (needs the per-sequence view of serve); null on the direct path. */
  maxConsecutiveMisses: number | null;
  window: WindowResult;
  /** serve CPU time / packets it forwarded in both directions during the window. */
  relayCpuUsPerPacket: number | null;
  packetsForwardedInWindow: number | null;
  serve: null | {
    eventLoopDelayMs: {p50: number; p99: number; max: number} | null;
    rssBytesAtEnd: number;
    portsHeldAtEnd: number;
  };
  relay: null | {
    reportPath: string;
    latenessMs: {p50: number; p95: number; p99: number; p999: number; max: number};
    rttMs: {p50: number; p95: number; p99: number; p999: number; max: number};
    packetsUp: number;
    packetsBack: number;
    late: number;
    lost: number;
    peakConcurrent: number;
    sla: {pass: boolean; judgedAt: string; level: SlaLevel | null; levelCalls: number | null; failed: string[]};
  };
  setupMs: {p50: number; max: number} | null;
}

export interface NResult {
  calls: number;
  direct: PathResult | null;
  relay: PathResult | null;
  /** relay / direct of the round-trip percentiles. */
  ratios: {p50: number; p99: number; p999: number; max: number} | null;
  /** relay − direct of the round-trip percentiles, ms. */
  relayAddsMs: {p50: number; p99: number; p999: number; max: number} | null;
  slaClean: boolean | null;
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
  params: {calls: number[]; durationMs: number; delayBetweenMs: number; settleMs: number; format: string; endpoint: string; simRtpRange: string; relayPortRange: string};
  notes: string[];
  results: NResult[];
  largestSlaCleanCalls: number | null;
  targets: Record<string, TargetCheck>;
}
