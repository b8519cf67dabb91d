/** The ARI adapter serve and load use. See connection.ts (events, supervision) and rest.ts (REST). */
export {checkAri, ariOrigin, isSimInfo, SIM_INFO_MARKER, type AriCheckResult} from './check.js';
export {
  AriConnection,
  connectAri,
  type AriConnectionOptions,
  type AriConnectionEvents,
  type DisconnectedInfo,
  type ReconnectedInfo,
} from './connection.js';
export {
  AriRest,
  AriHttpError,
  isAriHttpError,
  type AriRestOptions,
  type OriginateParams,
  type ExternalMediaParams,
  type ExternalMediaResult,
  type ExternalMediaFormat,
  type CreateBridgeParams,
} from './rest.js';
export {addChannelWhenInStasis, retryOnStatus, type RetryOptions} from './retry.js';
export {
  BRIDGE_NAME_PREFIX,
  EXTERNAL_MEDIA_NAME_PREFIX,
  bridgePrefixFor,
  bridgeNameFor,
  callIdFromBridgeName,
  externalHostOfChannel,
  isExternalMediaName,
  isOwnExternalMedia,
  findZombies,
  type ReconcileInput,
  type ReconcilePlan,
} from './reconcile.js';
export {STASIS_EVENT_TYPES} from './types.js';
export type * from './types.js';
export {openEventStream, type EventStream, type EventStreamOptions} from './event-stream.js';
