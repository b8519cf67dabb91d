/**
 * Shapes of the sim's Asterisk model: the REST operation result, request parameters, channels
 * and bridges as the model keeps them, the StasisStart race model, and the tables Asterisk
 * answers from (formats, hangup causes).
 */
import type {Logger} from '../log/logger.js';
import type {PortRange} from '../config/parse.js';
import type {MediaEngine} from '../media/source/engine.js';
import type {MediaStream} from '../media/source/stream.js';
import type {EventHub, SimEvent} from './events.js';
import type {SimRng} from './rng.js';
import {asteriskTimestamp} from './time.js';

export class AriError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface OpResult {
  status: number;
  body?: unknown;
  /** Runs right after the response has been written (events Asterisk sends after replying). */
  after?: () => void;
}

/** Request parameters: query string, then JSON/form body keys (`variables` kept apart). */
export interface Params {
  get(name: string): string | undefined;
  variables?: Record<string, unknown>;
}

/** Probabilities of the externalMedia StasisStart race (probe G: 7/100 before, 15/100 422s). */
export interface RaceModel {
  /** StasisStart sent before the REST response. */
  before: number;
  /** StasisStart 2–4 ms after the response: an immediate addChannel usually gets 422 (≈13 % overall). */
  late: number;
  /** How late a `late` StasisStart comes, ms (default 2–4). */
  lateMs?: {min: number; max: number};
}
export const DEFAULT_RACE: RaceModel = {before: 0.07, late: 0.15};

export const INTERNAL_ERROR = 'An internal error prevented this request from being handled';

/** Formats Asterisk knows (originate `formats`); the sim streams only ulaw/alaw/slin16/g722. */
export const KNOWN_FORMATS = new Set([
  'ulaw', 'alaw', 'gsm', 'g726', 'g726aal2', 'adpcm', 'slin', 'slin12', 'slin16', 'slin24', 'slin32', 'slin44', 'slin48',
  'slin96', 'slin192', 'lpc10', 'g729', 'speex', 'speex16', 'speex32', 'ilbc', 'g722', 'siren7', 'siren14', 'testlaw',
  'g719', 'opus', 'codec2', 'none',
]);

export const HANGUP_REASONS: Record<string, number> = {
  normal: 16, busy: 17, congestion: 34, no_answer: 19, timeout: 18, rejected: 21, unallocated: 1,
  normal_unspecified: 31, number_incomplete: 28, codec_mismatch: 58, interworking: 127, failure: 38, answered_elsewhere: 26,
};
export const CAUSE_TEXT: Record<number, string> = {
  1: 'Unallocated (unassigned) number', 16: 'Normal Clearing', 17: 'User busy', 18: 'No user responding', 19: 'User alerting, no answer',
  21: 'Call Rejected', 26: 'Answered elsewhere', 28: 'Invalid number format (incomplete number)', 31: 'Normal, unspecified',
  34: 'Circuit/channel congestion', 38: 'Network out of order', 58: 'Bearer capability not available', 127: 'Interworking, unspecified',
};

export const EXTERNAL_HOST_FORMAT = 'external_host must be <host>:<port> for all transports other than websocket';

export type ChanKind = 'local1' | 'local2' | 'unicast';

export interface Dialplan {
  context: string;
  exten: string;
  priority: number;
  app_name: string;
  app_data: string;
}

export interface Party {
  name: string;
  number: string;
}

export interface SimChannel {
  readonly id: string;
  readonly name: string;
  readonly kind: ChanKind;
  state: 'Down' | 'Ring' | 'Up';
  caller: Party;
  connected: Party;
  dialplan: Dialplan;
  readonly creationtime: string;
  readonly createdMs: number;
  readonly vars: Map<string, string>;
  /** Variables reported as `channelvars` in the externalMedia response. */
  readonly responseVars: string[];
  /** Stasis app the channel is subscribed to (events go there). */
  app: string | undefined;
  args: string[];
  inStasis: boolean;
  bridge: SimBridge | undefined;
  /**
   * An externalMedia channel still in a bridge that was deleted: Asterisk sends its
   * ChannelLeftBridge (and the bridge's BridgeDestroyed) only once the channel is hung up.
   */
  dissolvedBridge: SimBridge | undefined;
  /** The other half of a Local pair. */
  peer: SimChannel | undefined;
  /** Local ;1 only: the ;2 half plays Milliwatt (audio into the bridge). */
  toneOn: boolean;
  readonly silentSource: boolean;
  readonly dialstring: string;
  media: MediaStream | undefined;
  destroyed: boolean;
  timers: NodeJS.Timeout[];
  formats: string;
}

export interface SimBridge {
  readonly id: string;
  technology: string;
  readonly bridge_type: string;
  name: string;
  readonly channels: SimChannel[];
  readonly creationtime: string;
  readonly apps: Set<string>;
  /** After a delete: members that have not left yet (BridgeDestroyed once it is 0). */
  lingering: number;
}

export interface CoreOptions {
  hub: EventHub;
  media: MediaEngine;
  rng: SimRng;
  log: Logger;
  answerDelayMs: number;
  rtpRange: PortRange;
  /** Address the externalMedia sockets bind to (UNICASTRTP_LOCAL_ADDRESS). */
  rtpAddress: string;
  asteriskId: string;
  race?: RaceModel;
  /** The dialplan contexts the sim has (default DEFAULT_DIALPLAN_CONTEXTS); a Local channel to another fails with cause 1. */
  dialplanContexts?: readonly string[];
}

/** The context of the dialplan the README shows (`rtpsla-source`: s = Answer + Milliwatt, silence = Answer + Wait). */
export const DEFAULT_DIALPLAN_CONTEXTS: readonly string[] = ['rtpsla-source'];

export interface CoreCounters {
  originated: number;
  externalMediaCreated: number;
  channelsDestroyed: number;
  bridgesCreated: number;
  bridgesDestroyed: number;
  addChannel422: number;
  stasisStartBeforeResponse: number;
  /** Restart faults (`core stop now`) so far. */
  restarts: number;
}

/** A ChannelHangupRequest event for a channel (its snapshot from `channelJson`). */
export function hangupRequest(channel: Record<string, unknown>, cause: number, soft: boolean | undefined): SimEvent {
  const e: Record<string, unknown> = {cause};
  if (soft !== undefined) e.soft = soft;
  return {...e, type: 'ChannelHangupRequest', timestamp: asteriskTimestamp(), channel} as SimEvent;
}

/** Stasis args from a comma-separated `appArgs` / `data` ("" = none). */
export function splitArgs(s: string): string[] {
  return s === '' ? [] : s.split(',');
}

/** "host:port" / "[v6]:port" with a numeric port 1-65535, or undefined (400). */
export function splitHostPort(s: string): {host: string; port: number} | undefined {
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') return undefined;
    host = s.slice(1, end);
    portText = s.slice(end + 2);
  } else {
    const i = s.lastIndexOf(':');
    if (i <= 0) return undefined;
    host = s.slice(0, i);
    portText = s.slice(i + 1);
    if (host.includes(':')) return undefined;
  }
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535 || host === '') return undefined;
  return {host, port};
}
