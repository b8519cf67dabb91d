/**
 * One caller engine per load run, chosen like serve's (`--engine auto|native|node`): the native
 * engine when it is built and starts, else (auto) the Node fallback.
 */
import {selectEngine} from '../../engine/engine-select.js';
import type {EngineChoice} from '../../engine/engine-types.js';
import type {Clock} from '../../runtime/clock.js';
import {callerFormat, type CallerEngine, type PortRange} from './caller.js';
import {NativeCallerEngine} from './caller-native.js';
import {NodeCallerEngine} from './caller-node.js';

export interface CallerEngineOptions {
  engine: EngineChoice;
  format: string;
  bindIp: string;
  portRange: PortRange;
  lateThresholdMs: number;
  /** The Node fallback's clock (tests drive it). */
  clock?: Clock;
}

export interface SelectedCallerEngine {
  caller: CallerEngine;
  /** Why `auto` fell back to Node (null otherwise). */
  fallbackReason: string | null;
}

export async function createCallerEngine(o: CallerEngineOptions): Promise<SelectedCallerEngine> {
  const format = callerFormat(o.format);
  // paced sources; the caller's real-time priority is the sim's (src/engine/engine-select.ts)
  const selected = await selectEngine(o.engine, 'caller');
  if (selected.native === null) return {caller: new NodeCallerEngine(format, o.bindIp, o.portRange, o.lateThresholdMs, o.clock), fallbackReason: selected.fallbackReason};
  return {caller: new NativeCallerEngine(selected.native, format, o.bindIp, o.portRange, o.lateThresholdMs), fallbackReason: null};
}
