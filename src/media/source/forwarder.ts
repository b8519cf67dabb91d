/**
 * One direction of the Node engine's forwarding between two linked streams (as Asterisk's
 * simple_bridge, and as native/source_media.c does it in C): every RTP packet the `from` stream
 * receives from its peer leaves from the `to` stream's socket with `to`'s SSRC and sequence
 * counter, timestamp / payload type / marker / payload unchanged, after a delay drawn from the
 * link's distribution (plus the extra of a fault while one is on). Due time = receive time +
 * delay, never before the previous packet's due time (arrival order). A small FIFO of
 * preallocated buffers holds what is not due yet; one timer of the injectable Clock for its head.
 */
import type {Clock, ClockTimer} from '../../runtime/clock.js';
import type {DelayDistribution} from './delay-dist.js';
import type {ForwardQueue, MediaStream} from './stream.js';

/** Packets queued per direction (as the native link's FIFO). */
export const FORWARD_QUEUE = 256;
/** Larger datagrams are not queued: they go at once (counted in queueFull). */
const MAX_QUEUED_BYTES = 1500;

export class Forwarder implements ForwardQueue {
  private readonly bufs: Buffer[] = [];
  private readonly lens = new Int32Array(FORWARD_QUEUE);
  private readonly dueUs = new Float64Array(FORWARD_QUEUE);
  private readonly recvUs = new Float64Array(FORWARD_QUEUE);
  private head = 0;
  private count = 0;
  private lastDueUs = -Infinity;
  private faultExtraUs = 0;
  private faultUntilUs = -Infinity;
  private timer: ClockTimer | undefined;
  private closed = false;
  private readonly onTimer = (): void => this.sendDue();

  constructor(
    readonly from: MediaStream,
    readonly to: MediaStream,
    private readonly dist: DelayDistribution,
    private readonly clock: Clock,
    private readonly uniform: () => number,
  ) {
    for (let i = 0; i < FORWARD_QUEUE; i++) this.bufs.push(Buffer.allocUnsafe(MAX_QUEUED_BYTES));
  }

  /** For `durationUs` from now, packets received get `extraUs` more delay (a fault). */
  delay(extraUs: number, durationUs: number): void {
    this.faultExtraUs = extraUs;
    this.faultUntilUs = this.clock.nowUs() + durationUs;
  }

  /** A packet `from` received at `tRecvUs` (already checked: RTP from its peer). Hot path. */
  push(msg: Buffer, tRecvUs: number): void {
    if (this.closed) return;
    let delay = this.dist.at(this.uniform());
    if (tRecvUs < this.faultUntilUs) {
      delay += this.faultExtraUs;
      this.from.delayedByFault++;
    }
    let due = tRecvUs + delay;
    if (due < this.lastDueUs) due = this.lastDueUs;
    this.lastDueUs = due;
    const now = this.clock.nowUs();
    if (this.count === 0 && due <= now) {
      this.to.sendForwarded(msg, msg.length, this.from, tRecvUs, now);
      return;
    }
    if (this.count === FORWARD_QUEUE || msg.length > MAX_QUEUED_BYTES) {
      this.from.queueFull++;
      this.to.sendForwarded(msg, msg.length, this.from, tRecvUs, now);
      return;
    }
    const slot = (this.head + this.count) % FORWARD_QUEUE;
    msg.copy(this.bufs[slot], 0, 0, msg.length);
    this.lens[slot] = msg.length;
    this.dueUs[slot] = due;
    this.recvUs[slot] = tRecvUs;
    this.count++;
    if (this.count === 1) this.arm();
  }

  /** Ends the link: what is still queued is dropped. */
  close(): void {
    this.closed = true;
    this.count = 0;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private sendDue(): void {
    this.timer = undefined;
    const now = this.clock.nowUs();
    while (this.count > 0 && this.dueUs[this.head] <= now) {
      const h = this.head;
      this.to.sendForwarded(this.bufs[h], this.lens[h], this.from, this.recvUs[h], this.clock.nowUs());
      this.head = (h + 1) % FORWARD_QUEUE;
      this.count--;
    }
    if (this.count > 0) this.arm();
  }

  private arm(): void {
    if (this.closed || this.timer !== undefined) return;
    const delayMs = Math.max(0, (this.dueUs[this.head] - this.clock.nowUs()) / 1000);
    this.timer = this.clock.setTimer(this.onTimer, delayMs);
  }
}
