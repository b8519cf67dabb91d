/**
 * Notes a load report carries about the machine load ran on: the hypervisor's steal, and stalls
 * load itself saw, matched against the moments the calls had their worst packet.
 */
import type {CallRecord, LoadHost} from '../protocol/report.js';

/** Steal of at least this much during a run is worth a note in the report. */
export const STEAL_NOTE_MS = 100;

/**
 * A call's worst packet is put on a stall of load when it came back between this long before the
 * stall began and this long after it ended (packets held up by a stall arrive just after it; the
 * processes' clocks and timers are a few ms apart).
 */
export const STALL_MATCH_MARGIN_MS = 50;

/** The report's note about the hypervisor's steal on the machine that ran load, if it matters. */
export function stealNoteFor(host: LoadHost): string | null {
  if (host.stealMs === null || host.stealMs < STEAL_NOTE_MS) return null;
  return (
    `the machine that ran load lost ${host.stealMs} ms of CPU time to its hypervisor during the run (steal, ${host.cpus} CPUs): ` +
    'where Asterisk, serve or echo run on this machine, every call was stalled at those moments and lateness includes it'
  );
}

/**
 * The report's note about stalls of load's own event loop, if there were any: how many, the
 * longest, and how many calls had their worst packet on one of them (calls with `worstLateAtMs`).
 * `runStartedAtMs` is the report's `startedAt` (the stalls' `atMs` count from it).
 */
export function stallNoteFor(host: LoadHost, calls: readonly CallRecord[], runStartedAtMs: number): string | null {
  const stalls = host.stalls;
  if (stalls === undefined || stalls.count === 0) return null;
  // the longest may lie past the stalls kept with their time
  const longest = stalls.events.find((e) => e.stallMs === stalls.maxMs);
  let measured = 0;
  let onStall = 0;
  let worstOnStallMs = 0;
  for (const c of calls) {
    const worstAtMs = c.worstLateAtMs;
    if (worstAtMs === undefined || worstAtMs === null || c.packetsBack === 0) continue;
    measured++;
    const at = Date.parse(c.startedAt) + worstAtMs - runStartedAtMs;
    const hit = stalls.events.some((s) => at >= s.atMs - s.stallMs - STALL_MATCH_MARGIN_MS && at <= s.atMs + STALL_MATCH_MARGIN_MS);
    if (hit) {
      onStall++;
      worstOnStallMs = Math.max(worstOnStallMs, c.latenessMs?.max ?? 0);
    }
  }
  const when = longest ? ` (longest ${longest.stallMs} ms, ${(longest.atMs / 1000).toFixed(2)} s into the run)` : ` (longest ${stalls.maxMs} ms)`;
  let note =
    `load's own event loop was held up ${stalls.count} time${stalls.count === 1 ? '' : 's'} by ${stalls.thresholdMs} ms or more while it held the calls${when}; ` +
    'load has little to do then, so such a stall is most likely one of the machine (hypervisor, other processes), not of load';
  if (measured > 0)
    note +=
      onStall > 0
        ? `; ${onStall} of ${measured} calls had their worst packet within ${STALL_MATCH_MARGIN_MS} ms of such a stall (worst ${worstOnStallMs} ms late)`
        : `; no call had its worst packet within ${STALL_MATCH_MARGIN_MS} ms of one`;
  return note;
}
