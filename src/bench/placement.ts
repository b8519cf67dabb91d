/**
 * Where the bench puts the media chain of a phase: the sim's and echo's engines and the relay
 * under test (serve's native engine, or every thread of the rtpengine daemon).
 *
 * On a VM, a datagram sent to a process asleep on another CPU costs an inter-processor interrupt
 * on both sides, and the real-time scheduler sends each SCHED_FIFO engine's wake-up to the other
 * CPU. Measured at 150 calls (docs/measurements/2026-12-01-placement.md): the relays' CPU per
 * packet falls by a fifth to a third when the chain shares one CPU. One CPU holds the chain only
 * while it is light, so `auto` shares a CPU up to SHARED_CPU_MAX_CALLS calls (as `npm start` does)
 * and lets the kernel place everything above that. Every path of one N gets the same placement.
 */
import {findExecutable} from '../runtime/find-executable.js';
import {lastCpu, SHARED_CPU_MAX_CALLS} from '../engine/cpu-list.js';

export {SHARED_CPU_MAX_CALLS};

export const PLACEMENTS = ['auto', 'shared-cpu', 'free'] as const;
export type PlacementSetting = (typeof PLACEMENTS)[number];

export interface PhasePlacement {
  /** shared-cpu: the chain is pinned to one CPU; free: the kernel places every process. */
  mode: 'shared-cpu' | 'free';
  /** The CPU list each part of the chain is pinned to (null: not pinned). */
  sim: string | null;
  echo: string | null;
  relay: string | null;
}

/** taskset (util-linux), which pins the rtpengine daemon; null when it is not installed. */
export function findTaskset(envPath = process.env.PATH ?? ''): string | null {
  return findExecutable('taskset', ['/usr/bin', '/bin'], envPath);
}

/** The placement of every path at N calls (`usable`: the CPUs the bench may use, default this process's). */
export function placementFor(setting: PlacementSetting, calls: number, usable?: readonly number[]): PhasePlacement {
  if (setting === 'free' || (setting === 'auto' && calls > SHARED_CPU_MAX_CALLS)) return {mode: 'free', sim: null, echo: null, relay: null};
  const last = lastCpu(usable);
  return {mode: 'shared-cpu', sim: last, echo: last, relay: last};
}
