/**
 * The ARI operations the sim supports, as one small table. The router matches requests
 * against it and the Swagger 1.1 api-docs that `ari-client` loads at connect time
 * (`/ari/api-docs/resources.json` + `/ari/api-docs/{resource}.json`) are generated from it, so
 * what the client sees is exactly what the sim implements.
 *
 * Parameter shorthand: `{x}` path, `x!` required, `x*` allowMultiple, `x#` JSON body
 * (`containers`), `x:type` dataType (default string).
 */

export type ApiResource = 'asterisk' | 'channels' | 'bridges' | 'applications' | 'events';

export interface ApiOp {
  readonly resource: ApiResource;
  readonly method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  /** Path under /ari, with {param} segments. */
  readonly path: string;
  readonly nickname: string;
  readonly responseClass: string;
  readonly params: readonly string[];
  readonly summary: string;
}

const ORIGINATE_PARAMS = [
  'endpoint!', 'extension', 'context', 'priority:long', 'label', 'app', 'appArgs', 'callerId', 'timeout:int',
  'variables#', 'channelId', 'otherChannelId', 'originator', 'formats',
];

export const API_OPS: readonly ApiOp[] = [
  {resource: 'asterisk', method: 'GET', path: '/asterisk/info', nickname: 'getInfo', responseClass: 'AsteriskInfo', params: ['only*'], summary: 'Gets Asterisk system information.'},
  {resource: 'asterisk', method: 'GET', path: '/asterisk/variable', nickname: 'getGlobalVar', responseClass: 'Variable', params: ['variable!'], summary: 'Get the value of a global variable.'},
  {resource: 'asterisk', method: 'POST', path: '/asterisk/variable', nickname: 'setGlobalVar', responseClass: 'void', params: ['variable!', 'value'], summary: 'Set the value of a global variable.'},

  {resource: 'channels', method: 'GET', path: '/channels', nickname: 'list', responseClass: 'List[Channel]', params: [], summary: 'List all active channels in Asterisk.'},
  {resource: 'channels', method: 'POST', path: '/channels', nickname: 'originate', responseClass: 'Channel', params: ORIGINATE_PARAMS, summary: 'Create a new channel (originate).'},
  {resource: 'channels', method: 'POST', path: '/channels/externalMedia', nickname: 'externalMedia', responseClass: 'Channel',
    params: ['channelId', 'app!', 'variables#', 'external_host', 'encapsulation', 'transport', 'connection_type', 'format!', 'direction', 'data', 'transport_data'],
    summary: 'Start an External Media session.'},
  {resource: 'channels', method: 'GET', path: '/channels/{channelId}', nickname: 'get', responseClass: 'Channel', params: ['{channelId}'], summary: 'Channel details.'},
  {resource: 'channels', method: 'POST', path: '/channels/{channelId}', nickname: 'originateWithId', responseClass: 'Channel',
    params: ['{channelId}', ...ORIGINATE_PARAMS.filter((p) => p !== 'channelId')], summary: 'Create a new channel (originate with id).'},
  {resource: 'channels', method: 'DELETE', path: '/channels/{channelId}', nickname: 'hangup', responseClass: 'void', params: ['{channelId}', 'reason_code', 'reason'], summary: 'Delete (i.e. hangup) a channel.'},
  {resource: 'channels', method: 'POST', path: '/channels/{channelId}/answer', nickname: 'answer', responseClass: 'void', params: ['{channelId}'], summary: 'Answer a channel.'},
  {resource: 'channels', method: 'GET', path: '/channels/{channelId}/variable', nickname: 'getChannelVar', responseClass: 'Variable', params: ['{channelId}', 'variable!'], summary: 'Get the value of a channel variable or function.'},
  {resource: 'channels', method: 'POST', path: '/channels/{channelId}/variable', nickname: 'setChannelVar', responseClass: 'void', params: ['{channelId}', 'variable!', 'value'], summary: 'Set the value of a channel variable or function.'},
  {resource: 'channels', method: 'GET', path: '/channels/{channelId}/rtp_statistics', nickname: 'rtpstatistics', responseClass: 'RTPstat', params: ['{channelId}'], summary: 'RTP stats on a channel.'},

  {resource: 'bridges', method: 'GET', path: '/bridges', nickname: 'list', responseClass: 'List[Bridge]', params: [], summary: 'List all active bridges in Asterisk.'},
  {resource: 'bridges', method: 'POST', path: '/bridges', nickname: 'create', responseClass: 'Bridge', params: ['type', 'bridgeId', 'name'], summary: 'Create a new bridge.'},
  {resource: 'bridges', method: 'GET', path: '/bridges/{bridgeId}', nickname: 'get', responseClass: 'Bridge', params: ['{bridgeId}'], summary: 'Get bridge details.'},
  {resource: 'bridges', method: 'POST', path: '/bridges/{bridgeId}', nickname: 'createWithId', responseClass: 'Bridge', params: ['type', '{bridgeId}', 'name'], summary: 'Create a new bridge with id.'},
  {resource: 'bridges', method: 'DELETE', path: '/bridges/{bridgeId}', nickname: 'destroy', responseClass: 'void', params: ['{bridgeId}'], summary: 'Shut down a bridge.'},
  {resource: 'bridges', method: 'POST', path: '/bridges/{bridgeId}/addChannel', nickname: 'addChannel', responseClass: 'void',
    params: ['{bridgeId}', 'channel*!', 'role', 'absorbDTMF:boolean', 'mute:boolean', 'inhibitConnectedLineUpdates:boolean'], summary: 'Add a channel to a bridge.'},
  {resource: 'bridges', method: 'POST', path: '/bridges/{bridgeId}/removeChannel', nickname: 'removeChannel', responseClass: 'void', params: ['{bridgeId}', 'channel*!'], summary: 'Remove a channel from a bridge.'},

  {resource: 'applications', method: 'GET', path: '/applications', nickname: 'list', responseClass: 'List[Application]', params: [], summary: 'List all applications.'},
  {resource: 'applications', method: 'GET', path: '/applications/{applicationName}', nickname: 'get', responseClass: 'Application', params: ['{applicationName}'], summary: 'Get details of an application.'},

  {resource: 'events', method: 'GET', path: '/events', nickname: 'eventWebsocket', responseClass: 'Message', params: ['app*!', 'subscribeAll:boolean'], summary: 'WebSocket connection for events.'},
];

/** `resource.nickname`, the id fault rules and logs use. */
export function opId(op: ApiOp): string {
  return `${op.resource}.${op.nickname}`;
}

/**
 * Names a fault rule may use for an operation: the qualified `resource.nickname`, the bare
 * nickname (ari-client's operation name; `create`/`list`/`get` are ambiguous and match every
 * resource's op of that name) and readable aliases (createBridge, destroyBridge, hangup…).
 */
const ALIASES: Record<string, string[]> = {
  'bridges.create': ['createBridge'],
  'bridges.createWithId': ['createBridge'],
  'bridges.destroy': ['destroyBridge'],
  'bridges.get': ['getBridge'],
  'bridges.list': ['listBridges'],
  'channels.get': ['getChannel'],
  'channels.list': ['listChannels'],
  'channels.originateWithId': ['originate'],
  'channels.hangup': ['hangupChannel'],
  'applications.list': ['listApplications'],
  'applications.get': ['getApplication'],
};

export function opNames(op: ApiOp): string[] {
  const id = opId(op);
  return [id, op.nickname, ...(ALIASES[id] ?? [])];
}

export const KNOWN_OPERATION_NAMES: ReadonlySet<string> = new Set(API_OPS.flatMap(opNames));

interface ParsedParam {
  name: string;
  paramType: 'path' | 'query' | 'body';
  required: boolean;
  allowMultiple: boolean;
  dataType: string;
}

export function parseParam(spec: string): ParsedParam {
  let s = spec;
  let dataType = 'string';
  const colon = s.indexOf(':');
  if (colon >= 0) {
    dataType = s.slice(colon + 1);
    s = s.slice(0, colon);
  }
  if (s.startsWith('{')) return {name: s.slice(1, -1), paramType: 'path', required: true, allowMultiple: false, dataType};
  let required = false;
  let allowMultiple = false;
  let paramType: ParsedParam['paramType'] = 'query';
  while (/[!*#]$/.test(s)) {
    const c = s.at(-1);
    if (c === '!') required = true;
    else if (c === '*') allowMultiple = true;
    else {
      paramType = 'body';
      dataType = 'containers';
    }
    s = s.slice(0, -1);
  }
  return {name: s, paramType, required, allowMultiple, dataType};
}

// ---- route matching ----

export interface RouteMatch {
  op: ApiOp;
  pathParams: Record<string, string>;
}

const compiled = API_OPS.map((op) => ({
  op,
  segments: op.path.split('/').slice(1),
  literal: !op.path.includes('{'),
}));

/**
 * Finds the op for `method` + `path` (path under /ari, decoded per segment). Literal paths win
 * over templated ones (`/channels/externalMedia` over `/channels/{channelId}`).
 * Returns 'method' when the path exists with another method (405), undefined for 404.
 */
export function matchRoute(method: string, path: string): RouteMatch | 'method' | undefined {
  const parts = path.split('/').slice(1);
  let pathFound = false;
  for (const pass of [true, false]) {
    for (const c of compiled) {
      if (c.literal !== pass || c.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = c.segments[i];
        if (seg.startsWith('{')) {
          if (parts[i] === '') {
            ok = false;
            break;
          }
          try {
            params[seg.slice(1, -1)] = decodeURIComponent(parts[i]);
          } catch {
            params[seg.slice(1, -1)] = parts[i];
          }
        } else if (seg !== parts[i]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      // a literal match blocks the templated ones for this path (externalMedia is not a channel id)
      if (c.op.method === method) return {op: c.op, pathParams: params};
      pathFound = true;
    }
    if (pathFound) return 'method';
  }
  return undefined;
}

// ---- Swagger 1.1 api-docs ----

const RESOURCE_DESCRIPTIONS: Record<ApiResource, string> = {
  asterisk: 'Asterisk resources',
  channels: 'Channel resources',
  bridges: 'Bridge resources',
  applications: 'Stasis application resources',
  events: 'WebSocket resource',
};

export const API_RESOURCES = Object.keys(RESOURCE_DESCRIPTIONS) as ApiResource[];

const API_VERSION = '2.0.0';

export function resourceListing(basePath: string): object {
  return {
    _comment: 'rtpsla sim: generated for the operations the sim implements',
    apiVersion: '10.0.0',
    swaggerVersion: '1.1',
    basePath,
    apis: API_RESOURCES.map((r) => ({path: `/api-docs/${r}.{format}`, description: RESOURCE_DESCRIPTIONS[r]})),
  };
}

export function apiDeclaration(resource: ApiResource, basePath: string): object | undefined {
  if (!API_RESOURCES.includes(resource)) return undefined;
  const byPath = new Map<string, ApiOp[]>();
  for (const op of API_OPS) {
    if (op.resource !== resource) continue;
    const list = byPath.get(op.path) ?? [];
    list.push(op);
    byPath.set(op.path, list);
  }
  const apis = [...byPath].map(([path, ops]) => ({
    path,
    description: ops[0].summary,
    operations: ops.map((op) => ({
      httpMethod: op.method,
      summary: op.summary,
      nickname: op.nickname,
      responseClass: op.responseClass,
      ...(op.resource === 'events' ? {upgrade: 'websocket', websocketProtocol: 'ari'} : {}),
      parameters: op.params.map((p) => {
        const q = parseParam(p);
        return {name: q.name, paramType: q.paramType, required: q.required, allowMultiple: q.allowMultiple, dataType: q.dataType};
      }),
    })),
  }));
  return {
    apiVersion: API_VERSION,
    swaggerVersion: resource === 'events' ? '1.2' : '1.1',
    basePath,
    resourcePath: `/api-docs/${resource}.{format}`,
    apis,
    models: resource === 'events' ? eventModels() : {},
  };
}

/**
 * Event models: ari-client looks the model up by the event's `type` for every message and
 * promotes properties typed Channel/Bridge to resource instances; a type without a model would
 * crash it, so every event the sim sends is listed here.
 */
export const EVENT_PROPS: Record<string, Record<string, string>> = {
  ApplicationReplaced: {},
  BridgeCreated: {bridge: 'Bridge'},
  BridgeDestroyed: {bridge: 'Bridge'},
  ChannelCreated: {channel: 'Channel'},
  ChannelDestroyed: {cause: 'int', cause_txt: 'string', channel: 'Channel'},
  ChannelDialplan: {channel: 'Channel', dialplan_app: 'string', dialplan_app_data: 'string'},
  ChannelEnteredBridge: {bridge: 'Bridge', channel: 'Channel'},
  ChannelHangupRequest: {cause: 'int', soft: 'boolean', channel: 'Channel'},
  ChannelLeftBridge: {bridge: 'Bridge', channel: 'Channel'},
  ChannelStateChange: {channel: 'Channel'},
  ChannelVarset: {variable: 'string', value: 'string', channel: 'Channel'},
  Dial: {caller: 'Channel', peer: 'Channel', forward: 'string', forwarded: 'Channel', dialstring: 'string', dialstatus: 'string'},
  StasisEnd: {channel: 'Channel'},
  StasisStart: {args: 'List[string]', channel: 'Channel', replace_channel: 'Channel'},
};

function eventModels(): Record<string, object> {
  const models: Record<string, object> = {
    Message: {id: 'Message', properties: {type: {type: 'string', required: true}, asterisk_id: {type: 'string'}}},
    Event: {id: 'Event', properties: {application: {type: 'string', required: true}, timestamp: {type: 'Date', required: true}}},
  };
  for (const [name, props] of Object.entries(EVENT_PROPS)) {
    models[name] = {
      id: name,
      properties: Object.fromEntries(Object.entries(props).map(([k, t]) => [k, {type: t}])),
    };
  }
  return models;
}
