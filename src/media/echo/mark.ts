/**
 * Marks: SIGUSR2 asks a running `rtpsla echo` for one `echo.mark` line carrying its cumulative
 * pacing-error histogram (HdrHistogram compressed base64, µs). Two marks bracket a window: whoever
 * sent the signals subtracts the first histogram from the second (`pacingBetweenMarks`) and has
 * the echo's pacing error over exactly the packets it held in between (give or take the ≤ 0.1 s
 * the native engine batches its records). The bench marks its steady window this way, so the
 * echo's pacing error is taken over the same window as every CPU figure.
 */
import {LatencyHistogram} from '../../metrics/histogram.js';
import type {Logger} from '../../log/logger.js';
import type {EchoServer} from './node.js';

export const MARK_SIGNAL = 'SIGUSR2';

/** What one mark says about the held packets' pacing error (cumulative since the echo started). */
export interface PacingMark {
  /** Compressed base64 HdrHistogram of t_sent − due (µs) of every held packet so far; null when this echo does not record one. */
  pacingErrorHist: string | null;
  pacingErrorCount: number;
  /** Why there is no histogram (the Node echo keeps only its worst lag). */
  pacingErrorNote?: string;
}

/** An echo that keeps the pacing error of every held packet (the native one). */
export interface PacingRecorder {
  pacingHistogram(): LatencyHistogram;
}

function isRecorder(server: EchoServer): server is EchoServer & PacingRecorder {
  return typeof (server as Partial<PacingRecorder>).pacingHistogram === 'function';
}

export function pacingMark(server: EchoServer): PacingMark {
  if (!isRecorder(server)) return {pacingErrorHist: null, pacingErrorCount: 0, pacingErrorNote: 'the Node echo keeps no pacing-error histogram (maxSchedulerLagUs only)'};
  const h = server.pacingHistogram();
  return {pacingErrorHist: h.toBase64(), pacingErrorCount: h.count};
}

/** Log an `echo.mark` line (with the counters) on each SIGUSR2 until the returned function is called. */
export function logMarksOnSignal(server: EchoServer, logger: Logger, source: NodeJS.EventEmitter = process): () => void {
  let n = 0;
  const onMark = () => {
    n++;
    logger.info('echo.mark', {mark: n, ...pacingMark(server)});
  };
  source.on(MARK_SIGNAL, onMark);
  return () => {
    source.off(MARK_SIGNAL, onMark);
  };
}

export interface WindowPacingUs {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Held packets sent between the two marks. */
  count: number;
}

/**
 * The pacing error of the packets held between two marks (`later` − `earlier`), or null with the
 * reason: an echo without a histogram, or no packet held in between (nothing to measure, never 0).
 */
export function pacingBetweenMarks(earlier: PacingMark, later: PacingMark): {pacing: WindowPacingUs; reason: null} | {pacing: null; reason: string} {
  if (earlier.pacingErrorHist === null || later.pacingErrorHist === null) {
    return {pacing: null, reason: later.pacingErrorNote ?? earlier.pacingErrorNote ?? 'a mark carries no pacing-error histogram'};
  }
  const window = LatencyHistogram.fromBase64(later.pacingErrorHist);
  window.subtract(LatencyHistogram.fromBase64(earlier.pacingErrorHist));
  const count = window.count;
  if (count <= 0) return {pacing: null, reason: 'the echo held no packet between the two marks'};
  const at = (p: number) => window.percentileUs(p);
  return {pacing: {p50: at(50), p99: at(99), p999: at(99.9), max: window.maxUs(), count}, reason: null};
}
