/**
 * Contracts of the native media engine (native/PROTOCOL.md): engine choice, stdout frame types,
 * the 40-byte packet record, and the typed errors of the control plane.
 */
import {RtpslaError} from '../errors.js';

/** What the user asked for (--engine / RTPSLA_ENGINE). */
export type EngineChoice = 'auto' | 'native' | 'node';
export type {EngineKind} from '../protocol/engine-kind.js';
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'native', 'node'];

/** stdout frame types: u32 length (LE, type byte + payload) | u8 type | payload. */
export const enum FrameType {
  Reply = 1,
  Event = 2,
  Records = 3,
}

/** Record kinds (byte 4 of a record). */
export const enum RecordKind {
  Up = 0,
  Back = 1,
  Foreign = 2,
  Malformed = 3,
  SendError = 4,
  Echo = 5,
  /** A sim source sent a frame: tRecv = its deadline, tSent = just before the send, aux = frames skipped before it. */
  SourceSent = 6,
  /** RTP from a sim source's learned peer: tSent = send time of the frame with that SSRC+seq (or none). */
  SourceReceived = 7,
  /** A datagram to a sim source from an address not (yet) learned. */
  SourceForeign = 8,
  /** A datagram to a sim source that is not RTP (aux = RtpParse reason). */
  SourceMalformed = 9,
  /**
   * A linked sim source forwarded a packet (source.link): id = the receiving source; seq/ts/ssrc as
   * sent; tRecv = kernel receive time of the incoming packet; tSent = just before sendto; aux = the
   * delay it was given (µs, drawn + fault).
   */
  Forwarded = 10,
}

/** Record flag bits (byte 6). */
export const enum RecordFlag {
  Marker = 1,
  SendFailed = 2,
  NotForwarded = 4,
  ArrivedLate = 8,
}

/**
 * Little-endian record layout, 40 bytes:
 * 0 u32 id · 4 u8 kind · 5 u8 pt · 6 u8 flags · 7 u8 reserved · 8 u16 seq · 10 u16 size ·
 * 12 u32 ts · 16 u32 ssrc · 20 i64 tRecvNs · 28 i64 tSentNs · 36 i32 aux
 */
export const RECORD_BYTES = 40;

/**
 * Receives the records of one relay, echo or sim source, already converted to the nowUs() time base.
 * `aux`: malformed → RtpParse reason; echo → how late the packet arrived against its slot (µs).
 */
export interface RecordSink {
  onRecord(
    kind: RecordKind,
    flags: number,
    pt: number,
    seq: number,
    ts: number,
    ssrc: number,
    sizeBytes: number,
    tRecvUs: number,
    tSentUs: number,
    aux: number,
  ): void;
}

/** A successful command reply (the members depend on the command). */
export interface EngineReply {
  id: number;
  ok: true;
  [member: string]: unknown;
}

/** Engine-wide counters (`stats` command). */
export interface EngineStats {
  relays: number;
  mmsg: boolean;
  recordsSent: number;
  recordsDropped: number;
  loops: number;
  rxCalls: number;
  rxDatagrams: number;
  txCalls: number;
  txDatagrams: number;
  cpuUserUs: number;
  cpuSysUs: number;
  /** Datagrams received with a kernel receive time / stamped with the read time; sockets where SO_TIMESTAMPNS failed. */
  tsKernel?: number;
  tsUser?: number;
  tsUnset?: number;
}

/** The native engine was asked for (--engine native) but cannot run here. Exit 2. */
export class EngineUnavailableError extends RtpslaError {
  constructor(reason: string) {
    super(`--engine native: the native media engine is not available (${reason}); run npm install to build it, or use --engine node`, 2);
  }
}

/** The engine refused a command; `code` is the errno name (EADDRINUSE, EINVAL, …). */
export class EngineCommandError extends RtpslaError {
  constructor(
    readonly command: string,
    readonly code: string,
    message: string,
  ) {
    super(`engine ${command}: ${code} (${message})`);
  }
}

/** The engine process is gone (crashed, killed, or closed). */
export class EngineExitedError extends RtpslaError {
  constructor(readonly engineExitCode: number, detail: string) {
    super(`native media engine exited (${detail})`);
  }
}
