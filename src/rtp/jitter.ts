/**
 * RFC 3550 §6.4.1 interarrival jitter: J += (|D| − J)/16, where D is the change in relative
 * transit time (arrival in RTP clock units minus RTP timestamp) between consecutive packets.
 */
export class InterarrivalJitter {
  private prevTransit = 0;
  private started = false;
  /** Jitter estimate in RTP timestamp units. */
  jitterTs = 0;

  constructor(private readonly clockRateHz: number) {}

  /** `tRecvUs`: arrival (monotonic µs); `timestamp`: the packet's 32-bit RTP timestamp. */
  update(tRecvUs: number, timestamp: number): void {
    // Arrival in timestamp units, kept in the same 32-bit space as the timestamp so wrap cancels.
    const arrivalTs = (tRecvUs * this.clockRateHz) / 1e6;
    const transit = arrivalTs - timestamp;
    if (this.started) {
      let d = transit - this.prevTransit;
      // Timestamp wrap shows as a ±2^32 step in transit; fold it back.
      if (d > 2147483648) d -= 4294967296;
      else if (d < -2147483648) d += 4294967296;
      if (d < 0) d = -d;
      this.jitterTs += (d - this.jitterTs) / 16;
    }
    this.prevTransit = transit;
    this.started = true;
  }

  get jitterMs(): number {
    return (this.jitterTs / this.clockRateHz) * 1000;
  }

  reset(): void {
    this.started = false;
    this.prevTransit = 0;
    this.jitterTs = 0;
  }
}
