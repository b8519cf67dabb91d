/**
 * Validation of the sim's media fault switches: forwardDelay (extra delay on one direction of the
 * RTP-caller forwarding) and lateFirstPackets (the first frames of a share of the tone streams
 * held, then sent in a burst on their original deadlines, as recorded for the Milliwatt() caller
 * at 150 calls: 88 of 150 streams, up to 151 ms).
 */
import type {ForwardDelayRule, LateAboveCallsRule} from './forwarding.js';

export interface LateFirstPacketsRule {
  /** Share of the streams that start sending whose first frames are held (0..1). */
  share: number;
  /** Each held stream's hold is a uniform draw in (minMs, maxMs] ((0, maxMs] without minMs; exactly maxMs when they are equal). */
  maxMs: number;
  minMs?: number;
}

/** Thrown with a readable reason (the control endpoint answers 400 with it). */
export class MediaFaultError extends Error {}

function fieldsOf(r: unknown, name: string, known: string[], shape: string): Record<string, unknown> {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new MediaFaultError(`${name} must be false or ${shape}`);
  const o = r as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new MediaFaultError(`${name}: unknown field "${k}" (known: ${known.join(', ')})`);
  return o;
}

function msIn(v: unknown, what: string, min: number, max: number, minOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (minOpen && v === min) || v > max)
    throw new MediaFaultError(`${what} must be a number of ms in ${minOpen ? '(' : '['}${min}, ${max}]`);
  return v;
}

export function checkForwardDelay(r: unknown): ForwardDelayRule {
  const shape = '{calls?: [channel id | call index…], direction: "toRelay"|"toCaller", extraMs, durationMs}';
  const o = fieldsOf(r, 'forwardDelay', ['calls', 'direction', 'extraMs', 'durationMs'], shape);
  if (o.direction !== 'toRelay' && o.direction !== 'toCaller') throw new MediaFaultError('forwardDelay.direction must be "toRelay" or "toCaller"');
  const extraMs = msIn(o.extraMs, 'forwardDelay.extraMs', 0, 60_000);
  const durationMs = msIn(o.durationMs, 'forwardDelay.durationMs', 0, 3_600_000, true);
  let calls: Array<string | number> | undefined;
  if (o.calls !== undefined) {
    if (!Array.isArray(o.calls) || o.calls.some((x) => !(typeof x === 'string' || (typeof x === 'number' && Number.isInteger(x) && x >= 0))))
      throw new MediaFaultError('forwardDelay.calls must be an array of channel ids (strings) or call indices (integers ≥ 0)');
    calls = [...(o.calls as Array<string | number>)];
  }
  return {...(calls !== undefined ? {calls} : {}), direction: o.direction, extraMs, durationMs};
}

export function checkLateFirstPackets(r: unknown): LateFirstPacketsRule {
  const o = fieldsOf(r, 'lateFirstPackets', ['share', 'maxMs', 'minMs'], '{share: 0..1, maxMs, minMs?}');
  if (typeof o.share !== 'number' || !(o.share >= 0 && o.share <= 1)) throw new MediaFaultError('lateFirstPackets.share must be a number in [0, 1]');
  const maxMs = msIn(o.maxMs, 'lateFirstPackets.maxMs', 0, 10_000, true);
  if (o.minMs === undefined) return {share: o.share, maxMs};
  const minMs = msIn(o.minMs, 'lateFirstPackets.minMs', 0, maxMs);
  return {share: o.share, maxMs, minMs};
}

/** `--late-first-packets SHARE:MAXMS` (e.g. 0.59:151, as recorded at 150 calls) or SHARE:MINMS-MAXMS (1:150-150: every stream exactly 150 ms). */
export function parseLateFirstPacketsFlag(text: string): LateFirstPacketsRule {
  const m = /^\s*([\d.]+)\s*:\s*(?:([\d.]+)\s*-\s*)?([\d.]+)\s*$/.exec(text);
  if (!m) throw new MediaFaultError(`"${text}" is not SHARE:MAXMS or SHARE:MINMS-MAXMS (e.g. 0.59:151)`);
  return checkLateFirstPackets({share: Number(m[1]), maxMs: Number(m[3]), ...(m[2] !== undefined ? {minMs: Number(m[2])} : {})});
}

/**
 * `--forward-delay DIRECTION:EXTRAMS:DURATIONMS[:CALLS]`, CALLS a `+`-separated list of call
 * indices (digits) or channel ids (e.g. toCaller:30:60000:0+1).
 */
export function parseForwardDelayFlag(text: string): ForwardDelayRule {
  const parts = text.split(':');
  if (parts.length < 3 || parts.length > 4) throw new MediaFaultError(`"${text}" is not DIRECTION:EXTRAMS:DURATIONMS[:CALLS] (e.g. toCaller:30:60000:0+1)`);
  const num = (s: string): number => (/^\s*[\d.]+\s*$/.test(s) ? Number(s) : NaN);
  const calls = parts[3]?.split('+').filter(Boolean).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  return checkForwardDelay({direction: parts[0].trim(), extraMs: num(parts[1]), durationMs: num(parts[2]), ...(calls !== undefined ? {calls} : {})});
}

/** lateAboveCalls: {calls: K (integer ≥ 0), ms (default 30)}. */
export function checkLateAboveCalls(r: unknown): LateAboveCallsRule {
  const o = fieldsOf(r, 'lateAboveCalls', ['calls', 'ms'], '{calls: K, ms?}');
  if (typeof o.calls !== 'number' || !Number.isInteger(o.calls) || o.calls < 0) throw new MediaFaultError('lateAboveCalls.calls must be an integer ≥ 0');
  const ms = o.ms === undefined ? 30 : msIn(o.ms, 'lateAboveCalls.ms', 0, 60_000, true);
  return {calls: o.calls, ms};
}

/** `--late-above-calls K[:MS]` (MS default 30), e.g. 50:30. */
export function parseLateAboveCallsFlag(text: string): LateAboveCallsRule {
  const m = /^\s*(\d+)\s*(?::\s*([\d.]+)\s*)?$/.exec(text);
  if (!m) throw new MediaFaultError(`"${text}" is not K[:MS] (e.g. 50:30)`);
  return checkLateAboveCalls({calls: Number(m[1]), ...(m[2] !== undefined ? {ms: Number(m[2])} : {})});
}
