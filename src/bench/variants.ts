/**
 * What each bench path runs, and how its relay is placed. Like for like, rtpengine runs as
 * rtpsla's relay does: its media threads (pollers, media player, send and codec timers) at the
 * SCHED_FIFO priority rtpsla's relay engine gets (src/engine/engine-select.ts fifoPriority) and
 * pinned where the relay engine is, its control threads free as serve's Node process is. At their
 * own defaults, serve's engine is not pinned (it then takes FIFO 10, its own choice) and rtpengine
 * runs without --scheduling or pinning.
 */
import {spawnSync} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import {fifoPriority} from '../engine/engine-select.js';
import type {EngineName} from './children.js';
import type {PhasePlacement} from './placement.js';
import type {PathName, RelayPlacement} from './types.js';

export interface PathSpec {
  /** serve is the relay (the path is driven by load and judged by sla on its report). */
  rtpsla: boolean;
  /** RTPSLA_ENGINE of serve (rtpsla paths). */
  serveEngine: EngineName | null;
  /** The rtpengine daemon is the relay. */
  daemon: boolean;
  /** The relay at its own defaults instead of like for like. */
  defaults: boolean;
  /** Who calls on an rtpsla path: load's RTP caller engine, or the sim's Local endpoint. */
  caller: 'rtp' | 'endpoint';
}

export const PATH_SPECS: Readonly<Record<PathName, PathSpec>> = {
  direct: {rtpsla: false, serveEngine: null, daemon: false, defaults: false, caller: 'endpoint'},
  native: {rtpsla: true, serveEngine: 'native', daemon: false, defaults: false, caller: 'endpoint'},
  'native-defaults': {rtpsla: true, serveEngine: 'native', daemon: false, defaults: true, caller: 'endpoint'},
  node: {rtpsla: true, serveEngine: 'node', daemon: false, defaults: false, caller: 'endpoint'},
  rtpengine: {rtpsla: false, serveEngine: null, daemon: true, defaults: false, caller: 'endpoint'},
  'rtpengine-defaults': {rtpsla: false, serveEngine: null, daemon: true, defaults: true, caller: 'endpoint'},
  rtpcaller: {rtpsla: true, serveEngine: 'native', daemon: false, defaults: false, caller: 'rtp'},
};

/** rtpengine's threads that its --scheduling applies to: the ones that move media. */
export const RTPENGINE_MEDIA_THREADS = ['poller', 'media player', 'send timer', 'codec timer'];

/** The relay's placement on `path` at the N's placement (null on direct). */
export function relayPlacementFor(path: PathName, placement: PhasePlacement, rtpengineScheduling: 'fifo' | 'default' = 'fifo'): RelayPlacement | null {
  const spec = PATH_SPECS[path];
  if (path === 'direct') return null;
  if (spec.defaults) return {mode: 'defaults', scheduling: spec.daemon ? 'default' : `fifo:${fifoPriority('relay', false)}`, mediaCpus: null};
  const pinned = placement.relay !== null;
  if (spec.serveEngine === 'node') return {mode: 'like-for-like', scheduling: 'default', mediaCpus: null};
  if (spec.daemon && rtpengineScheduling === 'default') return {mode: 'like-for-like', scheduling: 'default', mediaCpus: placement.relay};
  return {mode: 'like-for-like', scheduling: `fifo:${fifoPriority('relay', pinned)}`, mediaCpus: placement.relay};
}

/** The priority of a `fifo:N` scheduling, else null. */
export function fifoOf(scheduling: string): number | null {
  const m = /^fifo:(\d+)$/.exec(scheduling);
  return m ? Number(m[1]) : null;
}

/** Threads of `pid` by name (`comm`), read from /proc. */
export function threadsOf(pid: number): Array<{tid: number; name: string}> {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => {
      try {
        return [{tid: Number(t), name: readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim()}];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/** Pin rtpengine's media threads to `cpus` with `taskset -p` (its other threads stay free); the names pinned. */
export function pinMediaThreads(pid: number, taskset: string, cpus: string): string[] {
  const pinned: string[] = [];
  for (const t of threadsOf(pid)) {
    if (!RTPENGINE_MEDIA_THREADS.includes(t.name)) continue;
    const r = spawnSync(taskset, ['-p', '-c', cpus, String(t.tid)], {stdio: 'ignore', timeout: 5000});
    if (r.status === 0) pinned.push(t.name);
  }
  return pinned;
}
