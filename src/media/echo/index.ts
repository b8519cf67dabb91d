import type {EngineRoleInfo} from '../../protocol/report.js';

/** Public surface of the RTP echo (docs/measurement.md, the echo); `rtpsla echo` and in-process tests/bench use it. */
export {
  startEcho,
  statsFields,
  DEFAULT_ECHO_HOST,
  DEFAULT_ECHO_PORT,
  DEFAULT_BUFFER_BYTES,
  DEFAULT_IDLE_EXPIRY_MS,
  DEFAULT_MAX_HOLD_MS,
  LATE_TOLERANCE_US,
  type EchoOptions,
  type EchoServer,
  type EchoStats,
} from './node.js';
export {DEFAULT_PT_CLOCK_RATES, parseClockRate, parsePtClockRates, usPerTickTable} from './clock-rates.js';

/** The stdout line `rtpsla echo` prints once bound; `parseListeningLine` reads it back. */
export function listeningLine(e: {address: string; port: number; recvBufferBytes: number; sendBufferBytes: number}): string {
  const where = e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
  return `echo listening on ${where} (rcvbuf ${e.recvBufferBytes}, sndbuf ${e.sendBufferBytes})`;
}

export const LISTENING_LINE_RE = /echo listening on \[?([^\]\s]+?)\]?:(\d+) \(rcvbuf (\d+), sndbuf (\d+)\)/;

export function parseListeningLine(text: string): {address: string; port: number; recvBufferBytes: number; sendBufferBytes: number} | undefined {
  const m = LISTENING_LINE_RE.exec(text);
  if (!m) return undefined;
  return {address: m[1], port: Number(m[2]), recvBufferBytes: Number(m[3]), sendBufferBytes: Number(m[4])};
}

/** The stdout line `rtpsla echo` prints after the listening line: how its engine measures. */
export function engineLine(i: EngineRoleInfo): string {
  return `echo engine ${i.engine} (scheduling ${i.scheduling}, cpus ${i.cpus}, timestamps ${i.timestamps})`;
}

const ENGINE_LINE_RE = /echo engine (native|node) \(scheduling (\S+), cpus (\S+), timestamps (kernel|user|mixed)\)/;

/** `engineLine` read back (npm start passes it to load for the report's `tool.engines.echo`). */
export function parseEngineLine(text: string): EngineRoleInfo | undefined {
  const m = ENGINE_LINE_RE.exec(text);
  if (!m) return undefined;
  return {engine: m[1] as 'native' | 'node', scheduling: m[2], cpus: m[3], timestamps: m[4] as 'kernel' | 'user' | 'mixed'};
}
