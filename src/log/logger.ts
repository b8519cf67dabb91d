/**
 * Small structured logger: one logfmt line per event on stderr (never stdout, which belongs to
 * the command's real output), e.g.
 *   2026-11-22T04:30:00.123Z info call.answered callId=abc port=4510
 * Fields named like a secret (pass, password, ariPass, …) are always written as `[redacted]`.
 * Not for per-packet hot paths: callers log per call / per interval, never per packet.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** True when a line at `level` would be written (to skip building expensive fields). */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
  /** A logger that adds `fields` (e.g. {callId}) to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; default process.stderr. */
  stream?: {write(line: string): unknown};
  /** Fields added to every line. */
  base?: LogFields;
  /** Clock for the timestamp; default `() => new Date()` (tests pin it). */
  now?: () => Date;
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

const RANK: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40, silent: 100};

/** Field names whose values are never written. Compared case-insensitively. */
const SECRET_KEYS = new Set(['pass', 'password', 'passwd', 'aripass', 'ari_pass', 'secret', 'apikey', 'api_key', 'authorization']);

export const REDACTED = '[redacted]';

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase());
}

export function parseLogLevel(value: string): LogLevel | undefined {
  const v = value.trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : undefined;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => new Date());
  return makeLogger(level, stream, now, options.base ?? {});
}

function makeLogger(level: LogLevel, stream: {write(line: string): unknown}, now: () => Date, base: LogFields): Logger {
  const min = RANK[level];
  const write = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void => {
    if (RANK[lvl] < min) return;
    let line = `${now().toISOString()} ${lvl} ${formatMsg(msg)}`;
    line += formatFields(base);
    if (fields) line += formatFields(fields);
    stream.write(line + '\n');
  };
  return {
    level,
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    enabled: (lvl) => RANK[lvl] >= min,
    child: (fields) => makeLogger(level, stream, now, {...base, ...fields}),
  };
}

/** A logger that writes nothing (default for library code when the caller passes none). */
export const nullLogger: Logger = createLogger({level: 'silent', stream: {write: () => true}});

function formatMsg(msg: string): string {
  // The event name is a bare token; anything with spaces or quotes is quoted like a value.
  return /^[\w.:/-]+$/.test(msg) ? msg : quote(msg);
}

function formatFields(fields: LogFields): string {
  let out = '';
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === undefined) continue;
    out += ` ${key}=${isSecretKey(key) ? REDACTED : formatValue(value)}`;
  }
  return out;
}

function formatValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'string':
      return value === '' || /[\s"=\\]/.test(value) ? quote(value) : value;
    default:
      break;
  }
  if (value instanceof Error) return quote(value.message);
  if (value instanceof Date) return value.toISOString();
  let json: string;
  try {
    json = JSON.stringify(value, (k, v: unknown) => (k !== '' && isSecretKey(k) ? REDACTED : v)) ?? String(value);
  } catch {
    json = String(value);
  }
  return /[\s"=\\]/.test(json) ? quote(json) : json;
}

function quote(s: string): string {
  return JSON.stringify(s);
}
