import {SLA_DEFAULTS, SLA_LEVELS, LEVELS} from './profile.js';

const pct = (v: number) => `${Number((v * 100).toFixed(4))}%`;

/** `rtpsla sla --help`: levels, invariants with their default limits, profile keys, exit codes. */
export const SLA_DESCRIPTION = `Evaluates each report against the invariants for its call level and prints one row per report × invariant, then a verdict line.

Level: the largest of nominal (${LEVELS.nominal} calls), high (${LEVELS.high}), stress (${LEVELS.stress}) that is ≤ the report's params.count (--level forces one); the run must also have reached peakConcurrent ≥ the level. A report below ${LEVELS.nominal} calls fails "level" unless --level is given.

Invariants (defaults; a --profile file may override any, also per level):
  complete            not an interrupted ("partial") run
  level               params.count ≥ the level's calls
  peakConcurrent      ≥ the level's calls
  maxLatenessMs       worst lateness vs the frame deadline ≤ ${SLA_DEFAULTS.maxLatenessMs} ms
  maxConsecutiveLate  deadline misses in a row on one channel ≤ ${SLA_DEFAULTS.maxConsecutiveLate}
  lateRatio           late / packetsBack ≤ ${pct(SLA_DEFAULTS.maxLateRatio)}
  lossRatio           lost / (packetsBack + lost) ≤ ${pct(SLA_DEFAULTS.maxLossRatio)}
  callsFailed         ≤ ${SLA_DEFAULTS.maxCallsFailed}
  silentCalls         calls without error but no media back ≤ ${SLA_DEFAULTS.maxSilentCalls}
  leaked{Channels,Bridges,Ports}  left after the run ≤ ${SLA_DEFAULTS.maxLeakedChannels}

FILE may be a report, a directory (its *.json files) or a glob (quoted globs are expanded: *, ?, [..], **). A glob matching no file is an error.

Profile file (JSON; unknown keys are an error; ratios are fractions):
  {"maxLatenessMs": 25, "maxLossRatio": 0.005, "levels": {"stress": {"maxLatenessMs": 30}, "high": {"calls": 120}}}
Keys: ${Object.keys(SLA_DEFAULTS).join(', ')}, description, levels.{${SLA_LEVELS.join(',')}}.{<limit keys>, calls}.

Exit codes: 2 if any input was unreadable or invalid (each is named on stderr with its reason; the other files are still evaluated and shown), else 1 if any check failed, else 0.`;
