/**
 * Figures of the sim's forwarding (the RTP-caller bridge), per direction: packets forwarded,
 * sent at once because the queue was full, delayed by a forwardDelay fault, and the forward
 * delay (receive → send of the same packet, µs) over every stream, live and finished.
 */
import {LatencyHistogram} from '../../metrics/histogram.js';
import type {ForwardDirection, MediaStream, PercentilesUs} from './stream.js';

export interface ForwardDirectionStats {
  packets: number;
  queueFull: number;
  delayedByFault: number;
  /** Receive → send of each forwarded packet, µs. */
  delayUs: PercentilesUs;
}

export type ForwardTotals = Record<ForwardDirection, ForwardDirectionStats>;

interface Retired {
  packets: number;
  queueFull: number;
  delayedByFault: number;
}

export class ForwardAccounts {
  private readonly hist: Record<ForwardDirection, LatencyHistogram> = {toRelay: new LatencyHistogram(), toCaller: new LatencyHistogram()};
  private readonly retired: Record<ForwardDirection, Retired> = {
    toRelay: {packets: 0, queueFull: 0, delayedByFault: 0},
    toCaller: {packets: 0, queueFull: 0, delayedByFault: 0},
  };

  histogram(direction: ForwardDirection): LatencyHistogram {
    return this.hist[direction];
  }

  /** A finished stream's forwarding figures join the totals. */
  retire(s: MediaStream): void {
    if (s.forwardDirection === null) return;
    const r = this.retired[s.forwardDirection];
    r.packets += s.forwarded;
    r.queueFull += s.queueFull;
    r.delayedByFault += s.delayedByFault;
  }

  totals(live: Iterable<MediaStream>): ForwardTotals {
    const t = {toRelay: {...this.retired.toRelay}, toCaller: {...this.retired.toCaller}};
    for (const s of live) {
      if (s.forwardDirection === null) continue;
      const r = t[s.forwardDirection];
      r.packets += s.forwarded;
      r.queueFull += s.queueFull;
      r.delayedByFault += s.delayedByFault;
    }
    return {
      toRelay: {...t.toRelay, delayUs: this.hist.toRelay.percentilesUs()},
      toCaller: {...t.toCaller, delayUs: this.hist.toCaller.percentilesUs()},
    };
  }
}
