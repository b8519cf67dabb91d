import {ConnectError, errorMessage} from '../errors.js';
import type {AsteriskInfo} from './types.js';

export interface AriCheckResult {
  /** Asterisk's `system.version`, e.g. "22.10.1" (the sim says "22.10.1-rtpsla-sim"). */
  version: string;
  /** True when the peer is the embedded simulator, never a real Asterisk. */
  isSim: boolean;
  raw: AsteriskInfo;
}

/**
 * The origin ARI is reached at. ari-client only ever uses protocol + host of the URL it is given,
 * so the REST client and the messages use the same: a path or user-info in ARI_URL is ignored
 * (and user-info, which could hold a password, never appears in a message).
 */
export function ariOrigin(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConnectError(`ARI URL '${url}' is not a valid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConnectError(`ARI URL ${u.origin} must use http or https`);
  return u.origin;
}

export function basicAuth(user: string, pass: string): string {
  return 'Basic ' + Buffer.from(`${user}:${pass}`, 'utf8').toString('base64');
}

/**
 * Probe ARI with a plain `GET /ari/asterisk/info` (Basic auth) before anything else touches it.
 * This is what turns a wrong password into one clear line instead of ari-client's uncaught string.
 * Throws ConnectError (exit 2) when unreachable, 401, another non-2xx or not ARI's JSON.
 */
export async function checkAri(url: string, user: string, pass: string, opts: {timeoutMs?: number} = {}): Promise<AriCheckResult> {
  const origin = ariOrigin(url);
  const timeoutMs = opts.timeoutMs ?? 5000;
  let res: Response;
  try {
    res = await fetch(`${origin}/ari/asterisk/info`, {
      headers: {authorization: basicAuth(user, pass), accept: 'application/json'},
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ConnectError(`cannot reach ARI at ${origin}: ${fetchFailureReason(err, timeoutMs)}`);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new ConnectError(`cannot reach ARI at ${origin}: ${fetchFailureReason(err, timeoutMs)}`);
  }
  if (res.status === 401) throw new ConnectError(`ARI at ${origin} rejected the credentials for user '${user}' (401)`);
  if (res.status < 200 || res.status > 299) {
    const detail = ariErrorText(text) ?? res.statusText;
    throw new ConnectError(`ARI at ${origin} answered GET /ari/asterisk/info with ${res.status}${detail ? ` ${detail}` : ''}`);
  }
  let raw: AsteriskInfo;
  try {
    raw = JSON.parse(text) as AsteriskInfo;
  } catch {
    raw = undefined as unknown as AsteriskInfo;
  }
  if (!raw || typeof raw !== 'object') throw new ConnectError(`ARI at ${origin} answered GET /ari/asterisk/info with something that is not ARI's JSON`);
  const version = typeof raw.system?.version === 'string' ? raw.system.version : 'unknown';
  return {version, isSim: isSimInfo(raw), raw};
}

/** Marker `rtpsla sim` puts in system.version / build.options / config.name of `/asterisk/info`. */
export const SIM_INFO_MARKER = 'rtpsla-sim';

/** Is this `/asterisk/info` from `rtpsla sim` (never mistaken for a real Asterisk)? */
export function isSimInfo(raw: AsteriskInfo): boolean {
  return [raw.system?.version, raw.build?.options, raw.config?.name].some((h) => typeof h === 'string' && h.includes(SIM_INFO_MARKER));
}

/** Asterisk errors are `{"message": "…"}`. */
export function ariErrorText(body: string): string | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as {message?: unknown; error?: unknown};
    if (typeof parsed?.message === 'string') return parsed.message;
    if (typeof parsed?.error === 'string') return parsed.error;
  } catch {
    // not JSON
  }
  const firstLine = body.trim().split('\n')[0];
  return firstLine ? firstLine.slice(0, 200) : undefined;
}

function fetchFailureReason(err: unknown, timeoutMs: number): string {
  // Duck-typed: errors from fetch may come from another realm (instanceof Error is not reliable).
  const e = err as {name?: unknown; message?: unknown; cause?: unknown} | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  // undici: TypeError('fetch failed', {cause: Error('connect ECONNREFUSED 127.0.0.1:8088') {code}})
  const cause = e?.cause as {message?: unknown; code?: unknown; errors?: unknown[]} | undefined;
  if (cause && typeof cause === 'object') {
    if (typeof cause.message === 'string' && cause.message) return cause.message;
    if (Array.isArray(cause.errors) && cause.errors.length > 0) return fetchFailureReason({cause: cause.errors[0]}, timeoutMs);
    if (typeof cause.code === 'string') return cause.code;
  }
  return messageOf(err);
}

/** errorMessage() that also reads errors from another realm (jest vm contexts, fetch internals). */
export function messageOf(err: unknown): string {
  const m = (err as {message?: unknown} | null)?.message;
  if (typeof m === 'string' && m) return m;
  return errorMessage(err);
}
