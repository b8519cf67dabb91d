/**
 * SLA limits (docs/measurement.md, the SLA): the defaults, the call-count levels, and profile files that override them.
 *
 * A profile file is JSON. Every key is optional; unknown keys are an error (a typo must not
 * silently keep the default):
 *
 * ```json
 * {
 *   "description": "lab box, relaxed lateness at stress",
 *   "maxLatenessMs": 25,
 *   "maxLossRatio": 0.005,
 *   "levels": {
 *     "stress": {"maxLatenessMs": 30},
 *     "high": {"calls": 120}
 *   }
 * }
 * ```
 * Top-level limits apply at every level; `levels.<name>` overrides them for that level and may
 * change the level's call count (`calls`). Ratios are fractions (0.001 = 0.1 %).
 */
import {readFileSync} from 'node:fs';
import {z} from 'zod';
import {InputError, errorMessage} from '../errors.js';
import {formatPath} from '../protocol/report.js';

export const SLA_LEVELS = ['nominal', 'high', 'stress'] as const;
export type SlaLevel = (typeof SLA_LEVELS)[number];

/** Calls per level: a report's level is the largest level ≤ its params.count. */
export const LEVELS: Readonly<Record<SlaLevel, number>> = Object.freeze({nominal: 30, high: 100, stress: 150});

export interface SlaLimits {
  /** Largest lateness relative to the frame's deadline (summary.latenessMs.max), ms. */
  maxLatenessMs: number;
  /** Longest run of consecutive deadline misses on one channel. */
  maxConsecutiveLate: number;
  /** late / packetsBack, as a fraction. */
  maxLateRatio: number;
  /** lost / (packetsBack + lost), as a fraction. */
  maxLossRatio: number;
  maxCallsFailed: number;
  /** Calls without error that nevertheless got no media back from the echo path. */
  maxSilentCalls: number;
  maxLeakedChannels: number;
  maxLeakedBridges: number;
  maxLeakedPorts: number;
}

/** The docs/measurement.md, the SLA defaults (single source of truth). */
export const SLA_DEFAULTS: Readonly<SlaLimits> = Object.freeze({
  maxLatenessMs: 22,
  maxConsecutiveLate: 2,
  maxLateRatio: 0.001,
  maxLossRatio: 0.002,
  maxCallsFailed: 0,
  maxSilentCalls: 0,
  maxLeakedChannels: 0,
  maxLeakedBridges: 0,
  maxLeakedPorts: 0,
});

export interface SlaLevelSpec {
  calls: number;
  limits: SlaLimits;
}

export interface SlaProfile {
  /** "defaults" or the profile file's path. */
  source: string;
  description?: string;
  /** Limits for a report that has no level (count below the smallest level). */
  limits: SlaLimits;
  levels: Record<SlaLevel, SlaLevelSpec>;
}

const ms = z.number().nonnegative();
const countLimit = z.number().int().nonnegative();
const fraction = z.number().min(0).max(1);

const limitShape = {
  maxLatenessMs: ms.optional(),
  maxConsecutiveLate: countLimit.optional(),
  maxLateRatio: fraction.optional(),
  maxLossRatio: fraction.optional(),
  maxCallsFailed: countLimit.optional(),
  maxSilentCalls: countLimit.optional(),
  maxLeakedChannels: countLimit.optional(),
  maxLeakedBridges: countLimit.optional(),
  maxLeakedPorts: countLimit.optional(),
};

const LevelOverrideSchema = z.strictObject({...limitShape, calls: z.number().int().positive().optional()});

export const SlaProfileFileSchema = z.strictObject({
  description: z.string().optional(),
  ...limitShape,
  levels: z
    .strictObject({
      nominal: LevelOverrideSchema.optional(),
      high: LevelOverrideSchema.optional(),
      stress: LevelOverrideSchema.optional(),
    })
    .optional(),
});
export type SlaProfileFile = z.infer<typeof SlaProfileFileSchema>;

/** The profile with the default limits only. */
export function defaultProfile(): SlaProfile {
  return buildProfile({}, 'defaults');
}

function pickLimits(from: Partial<Record<keyof SlaLimits, number | undefined>>): Partial<SlaLimits> {
  const out: Partial<SlaLimits> = {};
  for (const key of Object.keys(SLA_DEFAULTS) as (keyof SlaLimits)[]) {
    const v = from[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Applies a parsed profile file over the defaults. Throws InputError if level call counts are not ascending. */
export function buildProfile(file: SlaProfileFile, source: string): SlaProfile {
  const limits: SlaLimits = {...SLA_DEFAULTS, ...pickLimits(file)};
  const levels = {} as Record<SlaLevel, SlaLevelSpec>;
  for (const name of SLA_LEVELS) {
    const o = file.levels?.[name] ?? {};
    levels[name] = {calls: o.calls ?? LEVELS[name], limits: {...limits, ...pickLimits(o)}};
  }
  for (let i = 1; i < SLA_LEVELS.length; i++) {
    const lo = SLA_LEVELS[i - 1];
    const hi = SLA_LEVELS[i];
    if (levels[hi].calls <= levels[lo].calls)
      throw new InputError(
        `${source}: levels must ascend: ${hi} (${levels[hi].calls} calls) must be above ${lo} (${levels[lo].calls} calls)`,
      );
  }
  return {source, ...(file.description !== undefined ? {description: file.description} : {}), limits, levels};
}

/** Validates an already-parsed profile object; `source` names it in errors. */
export function parseProfile(json: unknown, source: string): SlaProfile {
  const r = SlaProfileFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = formatPath(issue.path);
    let what: string;
    if (issue.code === 'unrecognized_keys') {
      const limitKeys = Object.keys(SLA_DEFAULTS).join(', ');
      const known = where === 'levels' ? SLA_LEVELS.join(', ') : where === '' ? `description, levels, ${limitKeys}` : `calls, ${limitKeys}`;
      what = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (known: ${known})`;
    } else {
      what = issue.message.replace(/^Invalid input: /, '').replace(/, received /, ', got ');
    }
    const n = r.error.issues.length;
    const more = n > 1 ? ` (and ${n - 1} more problem${n > 2 ? 's' : ''})` : '';
    throw new InputError(`profile ${source}: ${where === '' ? '' : `${where}: `}${what}${more}`);
  }
  return buildProfile(r.data, source);
}

/** Reads a profile file (JSON). Throws InputError naming the file and the problem. */
export function loadProfile(file: string): SlaProfile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`profile ${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read: ${errorMessage(err)}`}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`profile ${file}: not valid JSON: ${errorMessage(err)}`);
  }
  return parseProfile(json, file);
}

/** The limits that apply at `level` (the level-less limits when null). */
export function limitsFor(profile: SlaProfile, level: SlaLevel | null): SlaLimits {
  return level === null ? profile.limits : profile.levels[level].limits;
}

export function isSlaLevel(s: string): s is SlaLevel {
  return (SLA_LEVELS as readonly string[]).includes(s);
}
