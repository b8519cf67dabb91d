/**
 * The back packets the relay measured during its up stream's exact window (docs/measurement.md,
 * "the anchor"): what is needed to judge each one once the anchor (the up stream's earliest
 * phase) is final for the window. Columns of one growing Float64Array, released when drained, so
 * a call holds nothing once its first minute is judged.
 */

/** One held back packet, as `drainInOrder` hands it back. */
export interface HeldBackVisitor {
  (backPhaseUs: number, upPhaseUs: number, holdUpUs: number, rttUs: number, ext: number, tRecvUs: number, ts: number): void;
}

const STRIDE = 7;
const FIRST_CAPACITY = 256;

export class HeldBackPackets {
  private cols = new Float64Array(0);
  n = 0;

  /**
   * A back packet q of up packet p: φ of q on the up stream's timestamps, φ(p), hold_up(p),
   * rtt(q), q's extended sequence number, receive time and RTP timestamp.
   */
  push(backPhaseUs: number, upPhaseUs: number, holdUpUs: number, rttUs: number, ext: number, tRecvUs: number, ts: number): void {
    if ((this.n + 1) * STRIDE > this.cols.length) this.grow();
    const c = this.cols;
    const o = this.n * STRIDE;
    c[o] = backPhaseUs;
    c[o + 1] = upPhaseUs;
    c[o + 2] = holdUpUs;
    c[o + 3] = rttUs;
    c[o + 4] = ext;
    c[o + 5] = tRecvUs;
    c[o + 6] = ts;
    this.n++;
  }

  /** The held packets in extended sequence order (the back stream's order), then released. */
  drainInOrder(visit: HeldBackVisitor): void {
    const c = this.cols;
    const order = Array.from({length: this.n}, (_, i) => i).sort((a, b) => c[a * STRIDE + 4] - c[b * STRIDE + 4]);
    for (const i of order) {
      const o = i * STRIDE;
      visit(c[o], c[o + 1], c[o + 2], c[o + 3], c[o + 4], c[o + 5], c[o + 6]);
    }
    this.cols = new Float64Array(0);
    this.n = 0;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.cols.byteLength;
  }

  private grow(): void {
    const next = new Float64Array(Math.max(FIRST_CAPACITY * STRIDE, this.cols.length * 2));
    next.set(this.cols);
    this.cols = next;
  }
}
