/** `rtpsla bench`'s options and defaults. */
import type {RtpengineScheduling} from './rtpengine/daemon.js';
import type {PathName} from './types.js';
import type {PlacementSetting} from './placement.js';
import type {Resolution} from '../capacity/search.js';

export const DEFAULT_CALLS = [30, 100, 150, 300, 600, 1000];
export const DEFAULT_RTPENGINE_PORT_RANGE = '20000-29999';

export interface BenchOptions {
  calls: number[];
  durationMs: number;
  delayBetweenMs: number;
  /** After the last originate, wait this long before the steady window starts. */
  settleMs: number;
  format: string;
  endpoint: string;
  outDir: string;
  simRtpRange: string;
  relayPortRange: string;
  /** rtpengine's media ports (4 a call). */
  rtpenginePortRange?: string;
  /** Paths to run (default all); those that cannot run here are skipped with a note. */
  paths?: PathName[];
  /** Write the chart's self-contained HTML page (Chart.js inlined); the chart's data is written as JSON either way. */
  chartHtml?: boolean;
  serveCpuProfDir?: string;
  /** Where each N's media chain runs (default auto: one shared CPU up to SHARED_CPU_MAX_CALLS calls). */
  placement?: PlacementSetting;
  /** rtpengine's thread scheduling (default fifo, priority 10, like rtpsla's engine). */
  rtpengineScheduling?: RtpengineScheduling;
  /** Runs of every path at every N (default 1): min / median / max of every figure when above 1. */
  repeat?: number;
  /** Search for each rtpsla path's largest SLA-clean N (up to `max`, to `resolution`) instead of taking it from `calls`. */
  search?: {max: number; resolution: Resolution} | null;
  signal?: AbortSignal;
  log?: (line: string) => void;
}
