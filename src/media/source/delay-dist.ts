/**
 * A forwarding delay distribution given as N+1 evenly spaced quantiles p0…p100 in µs
 * ("q0,q1,…,qN", non-decreasing, at most 101 values): a draw takes a uniform u in [0, 1) and
 * interpolates linearly between the two quantiles around it, as native/fwd.c does for
 * `source.link` `delayQuantilesUs`.
 */

/** At most this many quantiles (p0…p100 in steps of 1). */
export const MAX_QUANTILES = 101;

export class DelayDistribution {
  private constructor(private readonly q: Float64Array) {}

  /** Parses "q0,q1,…,qN"; throws on anything the engine would refuse. */
  static parse(text: string): DelayDistribution {
    const parts = text.split(',');
    if (parts.length > MAX_QUANTILES || text.trim() === '') throw new Error(`delayQuantilesUs: 1 to ${MAX_QUANTILES} values`);
    const q = new Float64Array(parts.length);
    for (let i = 0; i < parts.length; i++) {
      const v = Number(parts[i]);
      if (!Number.isFinite(v) || v < 0 || (i > 0 && v < q[i - 1])) throw new Error('delayQuantilesUs must be non-decreasing µs values ≥ 0');
      q[i] = v;
    }
    return new DelayDistribution(q);
  }

  /** The delay (µs) at quantile u ∈ [0, 1]. */
  at(u: number): number {
    const q = this.q;
    const n = q.length - 1;
    if (n === 0) return q[0];
    const x = u * n;
    const i = x >= n ? n - 1 : Math.floor(x);
    return q[i] + (q[i + 1] - q[i]) * (x - i);
  }
}
