import {LatencyHistogram, PER_CALL_HISTOGRAM_MAX_US, type PercentilesMs} from './histogram.js';

/** Values kept as a list at first: 256 (1 KiB), doubled as the call goes on (up to CALL_HISTOGRAM_LIST_MAX). */
const INITIAL_CAPACITY = 256;
/**
 * A list that would grow past this many values is folded into the dense histogram instead:
 * 2048 values (8 KiB, ≈ 41 s of 20 ms packets) cover the usual 30 s test call; a call that goes
 * on gets the dense histogram (48 KiB) and its memory stops changing within its first minute, so
 * a soak sees flat memory after warm-up. (Growing the list up to the dense size, 4 min, would
 * save little and keep memory rising for minutes.)
 */
export const CALL_HISTOGRAM_LIST_MAX = 2048;
const INT32_MAX = 2_147_483_647;

let scratch: LatencyHistogram | undefined;

/**
 * One call's µs histogram (lateness or rtt), with the same answers as a per-call
 * LatencyHistogram (3 significant digits, range PER_CALL_HISTOGRAM_MAX_US, exact max kept), but
 * sized by the call: a short call keeps its recorded values as a plain Int32 list (4 bytes a
 * packet, at most CALL_HISTOGRAM_LIST_MAX of them) and a longer one switches to the dense one. Percentiles of a listed call are read by replaying the list into one shared
 * scratch histogram, so they are exactly the HDR percentiles a dense recording would give.
 *
 * Why: a dense 3-digit histogram is 48 KiB whatever the call's length; two per call were most of
 * serve's memory at 1000 calls (≈ 100 KiB a call), while a 30 s call has 1500 values (6 KiB).
 */
export class CallLatencyHistogram {
  private list: Int32Array = new Int32Array(INITIAL_CAPACITY);
  private n = 0;
  private dense: LatencyHistogram | null = null;

  recordUs(valueUs: number): void {
    if (this.dense !== null) {
      this.dense.recordUs(valueUs);
      return;
    }
    const v = valueUs <= 0 ? 0 : valueUs >= INT32_MAX ? INT32_MAX : Math.round(valueUs);
    if (this.n === this.list.length) this.grow();
    if (this.dense !== null) (this.dense as LatencyHistogram).recordUs(v);
    else this.list[this.n++] = v;
  }

  get count(): number {
    return this.dense !== null ? this.dense.count : this.n;
  }

  /** True once the call has switched to the dense histogram. */
  get isDense(): boolean {
    return this.dense !== null;
  }

  /** Bytes this histogram holds for its values (list or dense counts). */
  get storageBytes(): number {
    return this.dense !== null ? this.dense.countsBytes : this.list.byteLength;
  }

  maxUs(): number {
    if (this.dense !== null) return this.dense.maxUs();
    let max = 0;
    for (let i = 0; i < this.n; i++) if (this.list[i] > max) max = this.list[i];
    return max;
  }

  /** p50/p95/p99/p99.9/max in milliseconds, as LatencyHistogram.percentilesMs() gives them. */
  percentilesMs(): PercentilesMs {
    if (this.dense !== null) return this.dense.percentilesMs();
    const h = (scratch ??= LatencyHistogram.perCall());
    h.reset();
    this.replayInto(h);
    return h.percentilesMs();
  }

  reset(): void {
    this.dense = null;
    this.n = 0;
    if (this.list.length > INITIAL_CAPACITY) this.list = new Int32Array(INITIAL_CAPACITY);
  }

  private grow(): void {
    const next = this.list.length * 2;
    if (next > CALL_HISTOGRAM_LIST_MAX) {
      const dense = new LatencyHistogram(PER_CALL_HISTOGRAM_MAX_US);
      this.replayInto(dense);
      this.dense = dense;
      this.list = new Int32Array(0);
      this.n = 0;
      return;
    }
    const list = new Int32Array(next);
    list.set(this.list);
    this.list = list;
  }

  private replayInto(h: LatencyHistogram): void {
    const list = this.list;
    for (let i = 0; i < this.n; i++) h.recordUs(list[i]);
  }
}
