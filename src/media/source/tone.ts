/**
 * Milliwatt-like payloads for the sim's RTP streams: a 1004 Hz tone (what Asterisk's
 * `Milliwatt()` plays) encoded per format, precomputed once per format as a table of whole
 * frames. 1004 Hz repeats every 2000 samples at 8 kHz (4000 at 16 kHz), i.e. every 25 frames
 * of 20 ms, so a stream copies frame `n % frameCount` out of the table: no per-packet math.
 */
import {formatFor, type MediaFormat, type MediaFormatName} from '../../rtp/formats.js';

export const TONE_HZ = 1004;
/** Peak amplitude in 16-bit linear (recorded slin16 peak: 23275). */
export const TONE_PEAK = 23170;

/** Formats the sim can stream: every externalMedia format of src/rtp/formats.ts. */
export type SimMediaFormat = MediaFormatName;

export {isMediaFormatName as isSimMediaFormat} from '../../rtp/formats.js';

/** A format's table row (src/rtp/formats.ts) and its precomputed tone. */
export interface FormatInfo extends MediaFormat {
  readonly format: SimMediaFormat;
  /** `frameCount × payloadBytes` bytes: one tone period made of whole frames. */
  readonly tone: Buffer;
  readonly frameCount: number;
  /** One frame of silence in this format. */
  readonly silence: Buffer;
}

/** G.711 µ-law encoding of one 16-bit linear sample. */
export function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** G.711 A-law encoding of one 16-bit linear sample. */
export function linearToAlaw(sample: number): number {
  let s = sample >> 3; // 13-bit
  let mask: number;
  if (s >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    s = -s - 1;
  }
  const segEnds = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
  let seg = 0;
  while (seg < 8 && s > segEnds[seg]) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (s >> 1) & 0x0f : (s >> seg) & 0x0f;
  return aval ^ mask;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function build(format: SimMediaFormat): FormatInfo {
  const row = formatFor(format);
  const {clockRateHz, payloadBytes, samplesPerFrame} = row;
  // audio sample rate: G.722 is 16 kHz audio with an 8 kHz RTP clock; its payload here is a
  // fixed pattern (the sim does not implement a G.722 encoder)
  const periodSamples = clockRateHz / gcd(clockRateHz, TONE_HZ);
  const cycleSamples = (periodSamples * samplesPerFrame) / gcd(periodSamples, samplesPerFrame);
  const frameCount = cycleSamples / samplesPerFrame;
  const tone = Buffer.alloc(frameCount * payloadBytes);
  const silence = Buffer.alloc(payloadBytes);
  const w = (2 * Math.PI * TONE_HZ) / clockRateHz;
  for (let i = 0; i < cycleSamples; i++) {
    const v = Math.round(TONE_PEAK * Math.sin(w * i));
    switch (format) {
      case 'ulaw':
        tone[i] = linearToUlaw(v);
        break;
      case 'alaw':
        tone[i] = linearToAlaw(v);
        break;
      case 'slin16':
        tone.writeInt16BE(v, i * 2);
        break;
      case 'g722':
        tone[i] = 0x80 | ((v >> 10) & 0x3f);
        break;
    }
  }
  if (format === 'ulaw') silence.fill(0xff);
  else if (format === 'alaw') silence.fill(0xd5);
  return {...row, format, tone, frameCount, silence};
}

const cache = new Map<SimMediaFormat, FormatInfo>();

export function formatInfo(format: SimMediaFormat): FormatInfo {
  let info = cache.get(format);
  if (!info) {
    info = build(format);
    cache.set(format, info);
  }
  return info;
}
