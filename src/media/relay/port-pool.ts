import {RtpslaError} from '../../errors.js';
import type {PortRange} from '../../config/parse.js';

/**
 * No relay port could be bound: every port in the range is held by a call, or the ports tried
 * failed to bind. The message says how many were held and tried and why the binds failed
 * (e.g. "EADDRINUSE ×64": another process holds them).
 */
export class PortPoolExhaustedError extends RtpslaError {
  constructor(range: PortRange, held: number, tried: number, failures: ReadonlyMap<string, number>) {
    const size = range.high - range.low + 1;
    const why = [...failures].map(([code, n]) => `${code} ×${n}`).join(', ');
    super(
      tried === 0
        ? `no free relay port in ${range.low}-${range.high}: all ${size} held by calls (0 tried)`
        : `no free relay port in ${range.low}-${range.high}: ${tried} tried, none would bind (${why}); ${held} of ${size} held by calls`,
      1,
    );
  }
}

/** The errno code of a failed bind (EADDRINUSE, EADDRNOTAVAIL…), or the message. */
function bindFailureCode(err: unknown): string {
  const code = (err as {code?: unknown} | null)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Relay ports as a FIFO ring of free ports: allocate takes from the head, release appends
 * at the tail, both O(1). FIFO (not LIFO) so a just-released port is reused last, which keeps
 * a call's stragglers away from the next call on that port. A port that fails to bind
 * (EADDRINUSE: Asterisk's own RTP or another process holds it) goes to the tail and is
 * retried only after every other free port.
 */
export class PortPool {
  private readonly ring: Int32Array;
  private readonly inUse: Uint8Array;
  private head = 0;
  private count: number;
  readonly size: number;
  bindFailures = 0;
  exhausted = 0;

  constructor(readonly range: PortRange) {
    this.size = range.high - range.low + 1;
    this.ring = new Int32Array(this.size);
    this.inUse = new Uint8Array(this.size);
    for (let i = 0; i < this.size; i++) this.ring[i] = range.low + i;
    this.count = this.size;
  }

  get free(): number {
    return this.count;
  }

  get held(): number {
    return this.size - this.count;
  }

  isHeld(port: number): boolean {
    return port >= this.range.low && port <= this.range.high && this.inUse[port - this.range.low] === 1;
  }

  /** Take the next free port, or -1 when none is free. */
  take(): number {
    if (this.count === 0) return -1;
    const port = this.ring[this.head];
    this.head = (this.head + 1) % this.size;
    this.count--;
    this.inUse[port - this.range.low] = 1;
    return port;
  }

  /** Return a port (after its call, or after it failed to bind). Releasing twice is a no-op. */
  release(port: number): void {
    const i = port - this.range.low;
    if (i < 0 || i >= this.size || this.inUse[i] === 0) return;
    this.inUse[i] = 0;
    this.ring[(this.head + this.count) % this.size] = port;
    this.count++;
  }

  /**
   * Take ports until `bind(port)` succeeds. Ports whose bind fails are released to the tail
   * (tried again later, after the others). Throws PortPoolExhaustedError when `maxAttempts`
   * ports (or every free port, each once) failed, or none is free.
   */
  async acquire<T>(bind: (port: number) => Promise<T>, maxAttempts = 64): Promise<{port: number; value: T}> {
    let tried = 0;
    const failures = new Map<string, number>();
    // each port free now is tried at most once: a port that failed goes to the tail and would come round again
    const limit = Math.min(maxAttempts, this.count);
    while (tried < limit) {
      const port = this.take();
      if (port < 0) break;
      tried++;
      try {
        return {port, value: await bind(port)};
      } catch (err) {
        if ((err as {engineDown?: unknown} | null)?.engineDown === true) {
          this.release(port);
          throw err; // the engine is down: no port would do
        }
        const code = bindFailureCode(err);
        failures.set(code, (failures.get(code) ?? 0) + 1);
        this.bindFailures++;
        this.release(port);
        if (tried >= this.size) break;
      }
    }
    this.exhausted++;
    throw new PortPoolExhaustedError(this.range, this.held, tried, failures);
  }
}
