/**
 * The caller role (`load --caller rtp`, docs/measurement.md "At the caller"): rtpsla itself is the
 * caller. Per call one UDP port in the caller range sends 20 ms frames of the run's format to the
 * caller's externalMedia channel in Asterisk (its own random SSRC, sequence and timestamps, from a
 * random phase) and receives what Asterisk sends back; each frame sent and received goes to the
 * call's CallerMeter with the engine's times (kernel receive times in the native engine). The native
 * engine (caller-native.ts) sends and receives in its own process; the Node fallback
 * (caller-node.ts) does the same with dgram sockets and an injectable clock. TypeScript only reads
 * what was sent and received.
 */
import type {EngineRoleInfo} from '../../protocol/report.js';
import {randomInt} from 'node:crypto';
import {formatFor, FRAME_MS} from '../../rtp/formats.js';
import {CallerMeter} from '../../metrics/caller-meter.js';
import {formatInfo, type FormatInfo} from './tone.js';
import type {MediaFormatName} from '../../rtp/formats.js';

export const CALLER_FRAME_US = FRAME_MS * 1000;

/** A caller port range, inclusive. */
export interface PortRange {
  low: number;
  high: number;
}

/** What a call's caller stream sends: the header fields it starts from (random per call). */
export interface CallerStreamSetup {
  remoteAddress: string;
  remotePort: number;
  ssrc: number;
  firstSeq: number;
  firstTs: number;
}

/** One call's caller port: bound, then pointed at Asterisk, started, stopped, closed. */
export interface CallerPort {
  readonly port: number;
  readonly meter: CallerMeter;
  /** Point the stream at Asterisk's side of the caller channel (UNICASTRTP_LOCAL_ADDRESS/PORT). */
  setup(s: CallerStreamSetup): Promise<void>;
  /** Send the first frame `delayUs` from now, then every 20 ms on absolute deadlines. */
  start(delayUs: number): Promise<void>;
  /** Stop sending (what comes back is still received). */
  stop(): Promise<void>;
  /** Close the port; resolves once its last records are in the meter. */
  close(): Promise<void>;
}

export interface CallerEngine {
  readonly kind: 'native' | 'node';
  /** Bind a port in the caller range on `bindIp` (a port that fails to bind is skipped). */
  open(): Promise<CallerPort>;
  /** Stop the engine (closing what is still open). */
  close(): Promise<void>;
  /** How it measures, for the report's `tool.engines.caller`. */
  info(): Promise<EngineRoleInfo>;
}

/** The format's table row and its tone (imported, never copied). */
export function callerFormat(format: string): FormatInfo {
  return formatInfo(formatFor(format).name as MediaFormatName);
}

/** A fresh random start for one call: SSRC, first sequence number, first timestamp. */
export function randomStreamStart(): {ssrc: number; firstSeq: number; firstTs: number} {
  return {ssrc: randomInt(1, 2 ** 32 - 1), firstSeq: randomInt(0, 65536), firstTs: randomInt(0, 2 ** 32 - 1)};
}

/** A random phase within one frame, µs (each call starts at its own). */
export function randomPhaseUs(): number {
  return randomInt(0, CALLER_FRAME_US);
}

/**
 * Ports of the caller range handed out round-robin; a port that failed to bind is skipped for
 * the next one, a closed port is free again.
 */
export class CallerPortCursor {
  private next: number;
  private readonly held = new Set<number>();

  constructor(readonly range: PortRange) {
    this.next = range.low;
  }

  /** Try `bind` on free ports of the range in turn; throws once every port was tried. */
  async take<T>(bind: (port: number) => Promise<T>): Promise<{port: number; value: T}> {
    const size = this.range.high - this.range.low + 1;
    let lastError: unknown = null;
    for (let tried = 0; tried < size; tried++) {
      const port = this.next;
      this.next = port >= this.range.high ? this.range.low : port + 1;
      if (this.held.has(port)) continue;
      try {
        const value = await bind(port);
        this.held.add(port);
        return {port, value};
      } catch (err) {
        lastError = err; // in use or refused: the next port
      }
    }
    throw new Error(`no free caller port in ${this.range.low}-${this.range.high}${lastError instanceof Error ? ` (last: ${lastError.message})` : ''}`);
  }

  release(port: number): void {
    this.held.delete(port);
  }
}

export {CallerMeter};
