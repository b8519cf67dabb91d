/**
 * Zombie detection for serve's reconciliation (at start-up, periodically, after a WebSocket
 * reconnect — Asterisk does not replay missed events). Pure functions: the caller lists
 * channels/bridges through ARI, passes what it knows, and destroys what comes back.
 *
 * Naming convention (what makes a bridge "ours"): bridges serve creates are named
 * `rtpsla-<app>-<callId>` (bridgeNameFor). externalMedia channels are recognised by the id serve
 * chose for them (it picks `channelId` itself, so it knows them before any event) and, as the
 * fallback, by the `UnicastRTP/<external_host>-0x…` name Asterisk gives them. An externalMedia
 * channel whose Stasis args mark it as load's caller (`load --caller rtp`) is never taken for one
 * of serve's, whatever its name or address.
 */
import type {AriBridge, AriChannel} from './types.js';
import {parseLoadAppArgs} from '../protocol/app-args.js';

export const BRIDGE_NAME_PREFIX = 'rtpsla-';
export const EXTERNAL_MEDIA_NAME_PREFIX = 'UnicastRTP/';

/** Prefix of every bridge created for `app`: `rtpsla-<app>-`. */
export function bridgePrefixFor(app: string): string {
  return `${BRIDGE_NAME_PREFIX}${app}-`;
}

/** The name serve gives the mixing bridge of one call. */
export function bridgeNameFor(callId: string, app = 'rtpsla'): string {
  return bridgePrefixFor(app) + callId;
}

/** The call id in a bridge name made by bridgeNameFor(…, app), or undefined for anyone else's bridge. */
export function callIdFromBridgeName(name: string | undefined, app = 'rtpsla'): string | undefined {
  const prefix = bridgePrefixFor(app);
  if (!name || !name.startsWith(prefix) || name.length === prefix.length) return undefined;
  return name.slice(prefix.length);
}

/** `UnicastRTP/127.0.0.1:40000-0x7ffb6800ebc0` → {host: '127.0.0.1', port: 40000}. */
export function externalHostOfChannel(name: string): {host: string; port: number} | undefined {
  if (!name.startsWith(EXTERNAL_MEDIA_NAME_PREFIX)) return undefined;
  const m = /^UnicastRTP\/(.+):(\d{1,5})-[^-]*$/.exec(name);
  if (!m) return undefined;
  const host = m[1].startsWith('[') && m[1].endsWith(']') ? m[1].slice(1, -1) : m[1];
  return {host, port: Number(m[2])};
}

export function isExternalMediaName(name: string): boolean {
  return name.startsWith(EXTERNAL_MEDIA_NAME_PREFIX);
}

/**
 * Whether a channel is load's caller by its Stasis args: a channel in a Stasis app lists
 * `dialplan.app_data` as `<app>,<args…>` (the externalMedia `data`, split on commas).
 */
export function isLoadCaller(channel: AriChannel): boolean {
  const d = channel.dialplan;
  if (d?.app_name !== 'Stasis' || !d.app_data) return false;
  return parseLoadAppArgs(d.app_data.split(',').slice(1)) !== null;
}

export interface ReconcileInput {
  /** `GET /channels` */
  channels: readonly AriChannel[];
  /** `GET /bridges` */
  bridges: readonly AriBridge[];
  app: string;
  /** Ids of channels that belong to calls still alive (callers and externalMedia). */
  liveChannelIds: ReadonlySet<string>;
  /** Ids of bridges that belong to calls still alive. */
  liveBridgeIds: ReadonlySet<string>;
  /** Call ids still alive: a bridge named for one of them is kept even if its id is not known yet. */
  liveCallIds?: ReadonlySet<string>;
  /** externalMedia channel ids this process created (known before any event), alive or not. */
  ownChannelIds?: ReadonlySet<string>;
  /**
   * Whether a `UnicastRTP/<host:port>` channel not in ownChannelIds is ours, judged by its
   * external_host (e.g. BIND_IP and inside PORT_RANGE). Without it every UnicastRTP channel
   * is taken as ours, which is only right when no other application uses externalMedia.
   */
  ownsExternalHost?: (host: string, port: number) => boolean;
  /** Leave alone anything created less than graceMs before nowMs (calls being set up). Default 0. */
  graceMs?: number;
  /** Epoch ms; default Date.now(). */
  nowMs?: number;
}

export interface ReconcilePlan {
  /** externalMedia channels to hang up. */
  channels: AriChannel[];
  /** bridges to destroy. */
  bridges: AriBridge[];
}

/** Is this channel one of ours as an externalMedia channel (by id, else by name + external_host)? */
export function isOwnExternalMedia(
  channel: AriChannel,
  ownChannelIds?: ReadonlySet<string>,
  ownsExternalHost?: (host: string, port: number) => boolean,
): boolean {
  if (ownChannelIds?.has(channel.id)) return true;
  if (!isExternalMediaName(channel.name)) return false;
  // load's RTP caller is an externalMedia channel too: its args mark it, whatever its address
  if (isLoadCaller(channel)) return false;
  if (!ownsExternalHost) return true;
  const eh = externalHostOfChannel(channel.name);
  return eh !== undefined && ownsExternalHost(eh.host, eh.port);
}

/** The app's externalMedia channels and bridges that belong to no live call. */
export function findZombies(input: ReconcileInput): ReconcilePlan {
  const nowMs = input.nowMs ?? Date.now();
  const graceMs = input.graceMs ?? 0;
  const young = (creationtime: string | undefined): boolean => {
    if (graceMs <= 0 || !creationtime) return false;
    const t = Date.parse(creationtime);
    return Number.isFinite(t) && nowMs - t < graceMs;
  };

  const channels = input.channels.filter(
    (ch) =>
      !input.liveChannelIds.has(ch.id) &&
      isOwnExternalMedia(ch, input.ownChannelIds, input.ownsExternalHost) &&
      !young(ch.creationtime),
  );

  const bridges = input.bridges.filter((b) => {
    if (input.liveBridgeIds.has(b.id)) return false;
    const callId = callIdFromBridgeName(b.name, input.app);
    if (callId === undefined) return false;
    if (input.liveCallIds?.has(callId)) return false;
    return !young(b.creationtime);
  });

  return {channels, bridges};
}
