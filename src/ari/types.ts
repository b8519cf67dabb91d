/**
 * The subset of ARI models (Asterisk 22 ARI reference) that serve and load use.
 * Only fields we read are typed; everything else Asterisk sends is kept (index signature).
 */

export interface AriChannel {
  id: string;
  name: string;
  /** Down, Rsrvd, OffHook, Dialing, Ring, Ringing, Up, Busy, Dialing Offhook, Pre-ring, Unknown */
  state: string;
  creationtime?: string;
  dialplan?: {context: string; exten: string; priority: number; app_name?: string; app_data?: string};
  /** Present on the externalMedia response: UNICASTRTP_LOCAL_ADDRESS / UNICASTRTP_LOCAL_PORT. */
  channelvars?: Record<string, string>;
  [extra: string]: unknown;
}

export interface AriBridge {
  id: string;
  name: string;
  technology: string;
  bridge_type: string;
  bridge_class?: string;
  creator?: string;
  channels: string[];
  creationtime?: string;
  [extra: string]: unknown;
}

interface AriEventBase {
  type: string;
  timestamp?: string;
  application?: string;
  asterisk_id?: string;
}

export interface StasisStartEvent extends AriEventBase {
  type: 'StasisStart';
  /** appArgs of the originate, split on commas (`[]` when none). */
  args: string[];
  channel: AriChannel;
  replace_channel?: AriChannel;
}

export interface StasisEndEvent extends AriEventBase {
  type: 'StasisEnd';
  channel: AriChannel;
}

export interface ChannelDestroyedEvent extends AriEventBase {
  type: 'ChannelDestroyed';
  cause: number;
  cause_txt?: string;
  channel: AriChannel;
}

export interface ChannelHangupRequestEvent extends AriEventBase {
  type: 'ChannelHangupRequest';
  cause?: number;
  soft?: boolean;
  channel: AriChannel;
}

export interface ChannelEnteredBridgeEvent extends AriEventBase {
  type: 'ChannelEnteredBridge';
  bridge: AriBridge;
  channel: AriChannel;
}

export interface ChannelLeftBridgeEvent extends AriEventBase {
  type: 'ChannelLeftBridge';
  bridge: AriBridge;
  channel: AriChannel;
}

export interface BridgeDestroyedEvent extends AriEventBase {
  type: 'BridgeDestroyed';
  bridge: AriBridge;
}

/** The Stasis events serve reacts to, by type. */
export interface AriStasisEvents {
  StasisStart: StasisStartEvent;
  StasisEnd: StasisEndEvent;
  ChannelDestroyed: ChannelDestroyedEvent;
  ChannelHangupRequest: ChannelHangupRequestEvent;
  ChannelEnteredBridge: ChannelEnteredBridgeEvent;
  ChannelLeftBridge: ChannelLeftBridgeEvent;
  BridgeDestroyed: BridgeDestroyedEvent;
}

export type AriStasisEventType = keyof AriStasisEvents;

export const STASIS_EVENT_TYPES: readonly AriStasisEventType[] = [
  'StasisStart',
  'StasisEnd',
  'ChannelDestroyed',
  'ChannelHangupRequest',
  'ChannelEnteredBridge',
  'ChannelLeftBridge',
  'BridgeDestroyed',
];

/** Any event from the WebSocket (Dial, ChannelVarset, … included), as parsed JSON. */
export interface AriAnyEvent extends AriEventBase {
  [extra: string]: unknown;
}

/** `GET /asterisk/info` as far as we read it. */
export interface AsteriskInfo {
  system?: {version?: string; entity_id?: string};
  build?: {os?: string; options?: string; [extra: string]: unknown};
  config?: {name?: string; [extra: string]: unknown};
  [extra: string]: unknown;
}
