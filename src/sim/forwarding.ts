/**
 * The RTP-caller bridge of the sim: a mixing bridge holding exactly two externalMedia channels
 * forwards RTP between them as Asterisk's simple_bridge does (recorded from Asterisk 22.10.1 in
 * fixtures/asterisk/rtp-caller-mode.json): what arrives at one channel's port from its
 * external_host leaves from the other channel's port to its external_host, with the sending
 * channel's own SSRC and sequence numbers, timestamp / payload type / marker / payload unchanged,
 * after a forwarding delay drawn per packet from the recorded distribution.
 *
 * The caller side is the channel whose externalMedia carried `data` (StasisStart args, e.g.
 * `rtpsla-load,<runId>,<index>,<token>`); the other is the relay side. `toRelay` = caller → sim →
 * relay (the caller channel's stream receives and forwards), `toCaller` = relay → sim → caller.
 */
import type {MediaEngine} from '../media/source/engine.js';
import type {ForwardDirection} from '../media/source/stream.js';
import type {SimChannel} from './model.js';

/** Percentiles of Asterisk's forwarding delay in ms, recorded at 150 calls (asteriskForwardMs). */
export interface RecordedForwardMs {
  p50: number;
  p99: number;
  p999: number;
}

/** rtp-caller-mode.json, runs."150".asteriskForwardMs: callerToBot → toRelay, botToCaller → toCaller. */
export const RECORDED_FORWARD_MS: Record<ForwardDirection, RecordedForwardMs> = {
  toRelay: {p50: 0.342, p99: 1.847, p999: 5.661},
  toCaller: {p50: 0.239, p99: 1.407, p999: 3.165},
};

/** The shortest forwarding delay assumed (the recording gives no minimum; 30 calls had p50 0.067 ms). */
export const FORWARD_FLOOR_MS = 0.03;

/**
 * The delay table ("q0,…,q100", µs: 101 evenly spaced quantiles, the most an engine link takes)
 * built from the recorded percentiles: anchors p0 = FORWARD_FLOOR_MS, p50, p99, and p100 placed
 * on the straight line from p99 through p99.9 (p100 = p99 + (p99.9 − p99) / 0.9), so a linear
 * draw between p99 and p100 gives the recorded p99.9; between anchors the quantiles are
 * interpolated geometrically (a latency tail is closer to log-linear than linear). The recorded
 * maxima (13.3 / 13.5 ms) lie beyond that line and are not reproduced: the draw never exceeds
 * p100 (6.1 ms toRelay, 3.6 ms toCaller).
 */
export function forwardQuantilesUs(r: RecordedForwardMs): string {
  const anchors: Array<[number, number]> = [
    [0, FORWARD_FLOOR_MS],
    [50, r.p50],
    [99, r.p99],
    [100, r.p99 + (r.p999 - r.p99) / 0.9],
  ];
  const out: number[] = [];
  for (let k = 0; k <= 100; k++) {
    let i = 0;
    while (k > anchors[i + 1][0]) i++;
    const [k0, v0] = anchors[i];
    const [k1, v1] = anchors[i + 1];
    const f = (k - k0) / (k1 - k0);
    out.push(Math.round(v0 * Math.pow(v1 / v0, f) * 1000));
  }
  return out.join(',');
}

export const FORWARD_QUANTILES_US: Record<ForwardDirection, string> = {
  toRelay: forwardQuantilesUs(RECORDED_FORWARD_MS.toRelay),
  toCaller: forwardQuantilesUs(RECORDED_FORWARD_MS.toCaller),
};

/** Fault switch forwardDelay: extra delay on one direction of some (or all) RTP-caller calls. */
export interface ForwardDelayRule {
  /**
   * Which calls: the caller or relay channel id (string), or the call index (number: the third
   * StasisStart arg of the caller channel, `rtpsla-load,<runId>,<index>,<token>`). Absent: all.
   */
  calls?: Array<string | number>;
  direction: ForwardDirection;
  extraMs: number;
  /** From the moment the fault is set (links made later, within it, get the rest of it). */
  durationMs: number;
}

/** True for the caller side of an RTP-caller bridge: an externalMedia channel created with `data`. */
export function isCallerSide(c: SimChannel): boolean {
  return c.kind === 'unicast' && c.args.length > 0;
}

/** The call index a caller channel's args carry (`<tag>,<runId>,<index>,…`), if any. */
export function callIndex(c: SimChannel): number | undefined {
  const a = c.args[2];
  return a !== undefined && /^\d+$/.test(a) ? Number(a) : undefined;
}

interface Pair {
  caller: SimChannel;
  relay: SimChannel;
}

/**
 * Fault switch lateAboveCalls: while more than `calls` RTP-caller calls are bridged, every frame
 * the sim forwards (both directions) is `ms` late; at or below it, none is. Calls up before the
 * count rose above `calls` turn late mid-call, calls set up above it are late from their start.
 */
export interface LateAboveCallsRule {
  calls: number;
  ms: number;
}

/** What lateAboveCalls did: whether it holds frames now, how often the count rose above its calls, link directions delayed. */
export interface LateAboveCallsCounts {
  active: boolean;
  crossings: number;
  linksDelayed: number;
}

/** How long a lateAboveCalls delay is set for at a time (re-set at each crossing): an hour, µs. */
const LATE_ABOVE_SPAN_US = 3_600_000_000;

/** The linked pairs of the sim and the forwardDelay fault on them. */
export class ForwardingLinks {
  private readonly pairs = new Map<SimChannel, Pair>();
  private fault: {rule: ForwardDelayRule; untilMs: number} | null = null;
  /** Link directions a forwardDelay fault was put on. */
  linksDelayed = 0;
  private lateAbove: LateAboveCallsRule | null = null;
  readonly lateAboveCounts: LateAboveCallsCounts = {active: false, crossings: 0, linksDelayed: 0};

  constructor(private readonly media: MediaEngine) {}

  /** `a` and `b` (both with media) forward to each other; the caller side is told by its args. */
  pair(a: SimChannel, b: SimChannel): void {
    const existing = this.pairs.get(a);
    if (existing !== undefined && (existing.caller === b || existing.relay === b)) return;
    this.unpair(a);
    this.unpair(b);
    const [caller, relay] = isCallerSide(b) && !isCallerSide(a) ? [b, a] : [a, b];
    if (caller.media === undefined || relay.media === undefined) return;
    const p = {caller, relay};
    this.pairs.set(caller, p);
    this.pairs.set(relay, p);
    this.media.link(caller.media, relay.media, 'toRelay', FORWARD_QUANTILES_US.toRelay);
    this.media.link(relay.media, caller.media, 'toCaller', FORWARD_QUANTILES_US.toCaller);
    this.applyFault(p);
    if (this.lateAboveCounts.active) this.delayBoth(p, this.lateAbove!.ms);
    else this.updateLateAbove();
  }

  /** `c` no longer forwards (nor does its peer). */
  unpair(c: SimChannel): void {
    const p = this.pairs.get(c);
    if (p === undefined) return;
    this.pairs.delete(p.caller);
    this.pairs.delete(p.relay);
    if (p.caller.media) this.media.unlink(p.caller.media);
    if (p.relay.media) this.media.unlink(p.relay.media);
    this.updateLateAbove();
  }

  /** Bridged RTP-caller calls now. */
  get liveCalls(): number {
    return this.pairs.size / 2;
  }

  /** Sets (or clears: null) the lateAboveCalls fault; it applies at once to the calls up. */
  setLateAbove(rule: LateAboveCallsRule | null): void {
    if (this.lateAboveCounts.active) this.endLateAbove();
    this.lateAbove = rule;
    this.updateLateAbove();
  }

  /** Starts or ends the lateAboveCalls delay as the live-call count crosses the rule's calls. */
  private updateLateAbove(): void {
    const want = this.lateAbove !== null && this.liveCalls > this.lateAbove.calls;
    if (want === this.lateAboveCounts.active) return;
    if (!want) return this.endLateAbove();
    this.lateAboveCounts.active = true;
    this.lateAboveCounts.crossings++;
    for (const [c, p] of this.pairs) if (c === p.caller) this.delayBoth(p, this.lateAbove!.ms);
  }

  private endLateAbove(): void {
    this.lateAboveCounts.active = false;
    for (const [c, p] of this.pairs) {
      if (c !== p.caller) continue;
      this.delayBoth(p, 0);
      // a forwardDelay fault still running on this call takes its place again
      this.applyFault(p);
    }
  }

  private delayBoth(p: Pair, ms: number): void {
    for (const from of [p.caller.media, p.relay.media]) {
      if (from === undefined) continue;
      this.media.delayForward(from, ms * 1000, ms > 0 ? LATE_ABOVE_SPAN_US : 0);
      if (ms > 0) this.lateAboveCounts.linksDelayed++;
    }
  }

  /** Sets (or clears: null) the forwardDelay fault; it applies at once to the pairs it names. */
  setFault(rule: ForwardDelayRule | null, nowMs: number): void {
    this.fault = rule === null ? null : {rule, untilMs: nowMs + rule.durationMs};
    if (rule === null) return;
    for (const [c, p] of this.pairs) if (c === p.caller) this.applyFault(p);
  }

  /** True while the fault's duration runs. */
  get armed(): boolean {
    return this.fault !== null && Date.now() < this.fault.untilMs;
  }

  private applyFault(p: Pair): void {
    const f = this.fault;
    if (f === null) return;
    const leftMs = f.untilMs - Date.now();
    if (leftMs <= 0 || !matches(f.rule, p)) return;
    const from = f.rule.direction === 'toRelay' ? p.caller.media : p.relay.media;
    if (from === undefined) return;
    this.media.delayForward(from, f.rule.extraMs * 1000, leftMs * 1000);
    this.linksDelayed++;
  }
}

function matches(rule: ForwardDelayRule, p: Pair): boolean {
  if (rule.calls === undefined) return true;
  const index = callIndex(p.caller);
  return rule.calls.some((x) => (typeof x === 'number' ? x === index : x === p.caller.id || x === p.relay.id));
}
