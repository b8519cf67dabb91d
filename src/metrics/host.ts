/**
 * Readings of the machine a command runs on (Linux /proc), for figures that depend on it.
 */
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {performance} from 'node:perf_hooks';
import type {HostStalls} from '../protocol/report.js';

let clkTck: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`; 100 on every mainstream Linux). */
export function clockTicksPerSec(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/**
 * CPU time the hypervisor gave to other guests while this machine's CPUs wanted to run ("steal",
 * field 8 of the `cpu` line of /proc/stat), all CPUs summed, in µs. Steal stalls every process on
 * the machine at once: on a VM it shows up as lateness of every call at the same moment. Null where
 * /proc/stat is not readable (not Linux); 0 on bare metal.
 */
export function hostStealUs(): number | null {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return null;
  }
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'cpu' || fields.length < 9) return null;
  const ticks = Number(fields[8]);
  return Number.isFinite(ticks) ? (ticks * 1e6) / clockTicksPerSec() : null;
}

/** Stalls kept with their time (all are counted). */
export const MAX_STALL_EVENTS = 200;

/**
 * A process's own timer as a witness of the machine: a tick every `tickMs`; a tick that comes
 * `thresholdMs` or more late means this process did not run for that long. In a process that is
 * nearly idle (load while it holds calls) that is a stall of the machine (hypervisor, other
 * processes), not of its own work. One timer, nothing allocated per tick unless a stall is seen.
 */
export class HostStallWatch {
  private timer: NodeJS.Timeout | undefined;
  private startMs = 0;
  private lastMs = 0;
  private count = 0;
  private totalMs = 0;
  private maxMs = 0;
  private readonly events: HostStalls['events'] = [];

  constructor(
    readonly tickMs = 5,
    readonly thresholdMs = 10,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.startMs = this.lastMs = this.nowMs();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  /** One timer tick (public for tests that drive the clock). */
  tick(): void {
    const now = this.nowMs();
    const stallMs = now - this.lastMs - this.tickMs;
    this.lastMs = now;
    if (stallMs < this.thresholdMs) return;
    this.count++;
    this.totalMs += stallMs;
    if (stallMs > this.maxMs) this.maxMs = stallMs;
    if (this.events.length < MAX_STALL_EVENTS) this.events.push({atMs: round1(now - this.startMs), stallMs: round1(stallMs)});
  }

  /** Stops the timer; the summary stays readable. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  summary(): HostStalls {
    return {thresholdMs: this.thresholdMs, count: this.count, totalMs: round1(this.totalMs), maxMs: round1(this.maxMs), events: [...this.events]};
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
