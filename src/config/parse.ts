import {ConfigError} from '../errors.js';

export interface PortRange {
  readonly low: number;
  readonly high: number;
}

/** Parse "LOW-HIGH" (inclusive). `setting` names the flag/env for the error line. */
export function parsePortRange(text: string, setting: string): PortRange {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  if (!m) throw new ConfigError(`${setting}: "${text}" is not a port range like 4500-50000`);
  const low = Number(m[1]);
  const high = Number(m[2]);
  if (low < 1 || high > 65535) throw new ConfigError(`${setting}: ${text} is outside 1-65535`);
  if (low > high) throw new ConfigError(`${setting}: ${text} is inverted (low > high)`);
  return {low, high};
}

/** "LOW-HIGH", as parsePortRange reads it. */
export function portRangeText(r: PortRange): string {
  return `${r.low}-${r.high}`;
}

/** A port in `min`-65535 (0 = any free port, where `min` allows it). */
export function parsePort(value: number | string, setting: string, min = 0): number {
  const t = typeof value === 'number' ? String(value) : value.trim();
  const n = t === '' ? NaN : Number(t);
  if (!Number.isInteger(n) || n < min || n > 65535) throw new ConfigError(`${setting}: "${value}" is not a port in ${min}-65535`);
  return n;
}

/** An http(s) URL with scheme; trailing slash removed. */
export function parseHttpUrl(text: string, setting: string): string {
  if (!/^https?:\/\//i.test(text)) throw new ConfigError(`${setting}: "${text}" needs a scheme (http:// or https://)`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${setting}: "${text}" is not a valid URL`);
  }
  return url.toString().replace(/\/+$/, '');
}

export function requireCredential(value: string | undefined, setting: string): string {
  if (value === undefined || value === '') throw new ConfigError(`${setting} is required (flag or environment variable)`);
  return value;
}
