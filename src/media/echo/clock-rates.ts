import {ConfigError} from '../../errors.js';
import {PAYLOAD_TYPE_CLOCK_RATES} from '../../rtp/formats.js';

/**
 * RTP clock rate per payload type for the echo's pacing: every payload type of the codec table
 * (src/rtp/formats.ts: 0/3/8/9/18 → 8000, Asterisk's slin16 118 → 16000). Anything else falls
 * back to `--clock-rate`.
 */
export const DEFAULT_PT_CLOCK_RATES: Readonly<Record<number, number>> = PAYLOAD_TYPE_CLOCK_RATES;

/**
 * Microseconds per RTP timestamp tick for every payload type 0..127, from the defaults,
 * `overrides` (PT → Hz) and the fallback rate for unknown PTs.
 */
export function usPerTickTable(fallbackRateHz: number, overrides: Readonly<Record<number, number>> = {}): Float64Array {
  const table = new Float64Array(128).fill(1e6 / fallbackRateHz);
  for (const [pt, rate] of Object.entries({...DEFAULT_PT_CLOCK_RATES, ...overrides})) table[Number(pt)] = 1e6 / rate;
  return table;
}

/** Validate a clock rate in Hz (`setting` names the flag/env for the error line). */
export function parseClockRate(value: number | string, setting: string): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 1000 || n > 192000)
    throw new ConfigError(`${setting}: "${value}" is not a clock rate in 1000-192000 Hz`);
  return n;
}

/** Parse "PT=RATE[,PT=RATE…]" (e.g. "96=48000,101=8000") into a PT → Hz map. Empty text → {}. */
export function parsePtClockRates(text: string, setting: string): Record<number, number> {
  const out: Record<number, number> = {};
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const m = /^(\d{1,3})\s*[=:]\s*(\d+)$/.exec(item);
    if (!m) throw new ConfigError(`${setting}: "${item}" is not PT=RATE (e.g. 96=48000)`);
    const pt = Number(m[1]);
    if (pt > 127) throw new ConfigError(`${setting}: payload type ${pt} is outside 0-127`);
    out[pt] = parseClockRate(m[2], setting);
  }
  return out;
}
