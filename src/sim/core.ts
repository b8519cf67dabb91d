/**
 * The Asterisk model behind the sim's REST API: channels (Local pairs and UnicastRTP
 * externalMedia channels), mixing bridges, Stasis membership, channel variables, and the
 * events each operation causes, in the order and shapes recorded from Asterisk 22.10.1
 * (fixtures/asterisk). Operations return the HTTP status/body; events that Asterisk sends
 * after the response are emitted from `after()`, which the HTTP layer calls once the response
 * is written.
 */
import {lookup} from 'node:dns/promises';
import {isIP} from 'node:net';
import type {Logger} from '../log/logger.js';
import type {PortRange} from '../config/parse.js';
import type {EventHub, SimEvent} from './events.js';
import {MediaStream, type MediaEngine, type MediaPort} from '../media/source/node.js';
import {StartPhaseModel} from './phase.js';
import type {SimRng} from './rng.js';
import {asteriskTimestamp} from './time.js';
import {isSimMediaFormat} from '../media/source/tone.js';

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

const INTERNAL_ERROR = 'An internal error prevented this request from being handled';

/** Formats Asterisk knows (originate `formats`); the sim streams only ulaw/alaw/slin16/g722. */
const KNOWN_FORMATS = new Set([
  'ulaw', 'alaw', 'gsm', 'g726', 'g726aal2', 'adpcm', 'slin', 'slin12', 'slin16', 'slin24', 'slin32', 'slin44', 'slin48',
  'slin96', 'slin192', 'lpc10', 'g729', 'speex', 'speex16', 'speex32', 'ilbc', 'g722', 'siren7', 'siren14', 'testlaw',
  'g719', 'opus', 'codec2', 'none',
]);

const HANGUP_REASONS: Record<string, number> = {
  normal: 16, busy: 17, congestion: 34, no_answer: 19, timeout: 18, rejected: 21, unallocated: 1,
  normal_unspecified: 31, number_incomplete: 28, codec_mismatch: 58, interworking: 127, failure: 38, answered_elsewhere: 26,
};
const CAUSE_TEXT: Record<number, string> = {
  1: 'Unallocated (unassigned) number', 16: 'Normal Clearing', 17: 'User busy', 18: 'No user responding', 19: 'User alerting, no answer',
  21: 'Call Rejected', 26: 'Answered elsewhere', 28: 'Invalid number format (incomplete number)', 31: 'Normal, unspecified',
  34: 'Circuit/channel congestion', 38: 'Network out of order', 58: 'Bearer capability not available', 127: 'Interworking, unspecified',
};

const EXTERNAL_HOST_FORMAT = 'external_host must be <host>:<port> for all transports other than websocket';

type ChanKind = 'local1' | 'local2' | 'unicast';

interface Dialplan {
  context: string;
  exten: string;
  priority: number;
  app_name: string;
  app_data: string;
}

interface Party {
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
}

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

export class SimCore {
  readonly channels = new Map<string, SimChannel>();
  /** Global dialplan variables (GET/POST /asterisk/variable); gone with the process, as in Asterisk. */
  readonly globals = new Map<string, string>();
  readonly bridges = new Map<string, SimBridge>();
  readonly counters: CoreCounters = {
    originated: 0, externalMediaCreated: 0, channelsDestroyed: 0, bridgesCreated: 0, bridgesDestroyed: 0,
    addChannel422: 0, stasisStartBeforeResponse: 0, restarts: 0,
  };
  readonly startedMs = Date.now();
  private readonly epoch = Math.floor(this.startedMs / 1000);
  private channelSeq = 0;
  private localSeq = 0;
  private readonly portsInUse = new Set<number>();
  private readonly race: RaceModel;
  private readonly phases: StartPhaseModel;
  private closed = false;

  constructor(private readonly o: CoreOptions) {
    this.race = o.race ?? DEFAULT_RACE;
    this.phases = new StartPhaseModel(o.rng);
  }

  private get hub(): EventHub {
    return this.o.hub;
  }

  // ---------- snapshots ----------

  channelJson(c: SimChannel, withVars = false): Record<string, unknown> {
    const j: Record<string, unknown> = {
      id: c.id,
      name: c.name,
      state: c.state,
      protocol_id: '',
      caller: {name: c.caller.name, number: c.caller.number},
      connected: {name: c.connected.name, number: c.connected.number},
      accountcode: '',
      dialplan: {...c.dialplan},
      creationtime: c.creationtime,
      language: 'en',
    };
    if (withVars && c.responseVars.length > 0) {
      const vars: Record<string, string> = {};
      for (const k of c.responseVars) vars[k] = c.vars.get(k) ?? '';
      j.channelvars = vars;
    }
    return j;
  }

  bridgeJson(b: SimBridge): Record<string, unknown> {
    return {
      id: b.id,
      technology: b.technology,
      bridge_type: b.bridge_type,
      bridge_class: 'stasis',
      creator: 'Stasis',
      name: b.name,
      channels: b.channels.map((c) => c.id),
      creationtime: b.creationtime,
      video_mode: 'talker',
    };
  }

  // ---------- event helpers ----------

  private emit(c: SimChannel, event: SimEvent): void {
    if (c.app !== undefined) this.hub.emit(event, [c.app]);
    else this.hub.emit(event, []);
  }

  private ts(): string {
    return asteriskTimestamp();
  }

  private varset(c: SimChannel, variable: string, value: string): void {
    c.vars.set(variable, value);
    this.emit(c, {variable, value, type: 'ChannelVarset', timestamp: this.ts(), channel: this.channelJson(c)});
  }

  private nextId(): string {
    return `${this.epoch}.${this.channelSeq++}`;
  }

  private checkNewId(id: string | undefined): void {
    if (id === undefined) return;
    if (id.length > 128) throw new AriError(400, 'Uniqueid length exceeds maximum of 128');
    if (this.channels.has(id)) throw new AriError(409, 'Channel with given unique ID already exists');
  }

  private newChannel(init: {id: string; name: string; kind: ChanKind; state: SimChannel['state']; dialplan: Dialplan; dialstring: string; silent?: boolean; app?: string}): SimChannel {
    const now = Date.now();
    const c: SimChannel = {
      id: init.id,
      name: init.name,
      kind: init.kind,
      state: init.state,
      caller: {name: '', number: ''},
      connected: {name: '', number: ''},
      dialplan: init.dialplan,
      creationtime: asteriskTimestamp(now),
      createdMs: now,
      vars: new Map(),
      responseVars: [],
      app: init.app,
      args: [],
      inStasis: false,
      bridge: undefined,
      dissolvedBridge: undefined,
      peer: undefined,
      toneOn: false,
      silentSource: init.silent ?? false,
      dialstring: init.dialstring,
      media: undefined,
      destroyed: false,
      timers: [],
      formats: '',
    };
    this.channels.set(c.id, c);
    if (c.app !== undefined) this.hub.app(c.app).channelIds.add(c.id);
    return c;
  }

  private later(c: SimChannel, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      c.timers = c.timers.filter((x) => x !== t);
      if (!c.destroyed && !this.closed) fn();
    }, ms);
    c.timers.push(t);
  }

  // ---------- lookups ----------

  private channelOr404(id: string): SimChannel {
    const c = this.channels.get(id);
    if (!c) throw new AriError(404, 'Channel not found');
    return c;
  }

  /** stasis_app_control lookup as in resource_channels.c: 404 unknown, 409 not in Stasis. */
  private control(id: string): SimChannel {
    const c = this.channelOr404(id);
    if (!c.inStasis) throw new AriError(409, 'Channel not in Stasis application');
    return c;
  }

  private bridgeOr404(id: string): SimBridge {
    const b = this.bridges.get(id);
    if (!b) throw new AriError(404, 'Bridge not found');
    return b;
  }

  // ---------- channels ----------

  listChannels(): OpResult {
    return {status: 200, body: [...this.channels.values()].map((c) => this.channelJson(c))};
  }

  getChannel(id: string): OpResult {
    return {status: 200, body: this.channelJson(this.channelOr404(id))};
  }

  originate(p: Params, pathChannelId?: string): OpResult {
    const channelId = pathChannelId ?? p.get('channelId') ?? undefined;
    const otherChannelId = p.get('otherChannelId');
    this.checkNewId(channelId || undefined);
    this.checkNewId(otherChannelId || undefined);
    const endpoint = p.get('endpoint') ?? '';
    if (endpoint === '') throw new AriError(400, 'Endpoint must be specified');
    const formats = p.get('formats') ?? '';
    if (p.get('originator') && formats) throw new AriError(400, "Originator and formats can't both be specified");
    const slash = endpoint.indexOf('/');
    const tech = slash < 0 ? endpoint : endpoint.slice(0, slash);
    const device = slash < 0 ? '' : endpoint.slice(slash + 1);
    if (tech === '' || device === '') throw new AriError(400, 'Invalid endpoint specified');
    const app = p.get('app') ?? '';
    const extension = p.get('extension') ?? '';
    if (app === '' && extension === '') throw new AriError(400, 'Application or extension must be specified');
    if (formats) {
      for (const f of formats.split(',').map((s) => s.trim())) {
        if (!KNOWN_FORMATS.has(f)) throw new AriError(400, `Provided format (${f}) was not found`);
      }
    }
    if (tech.toLowerCase() !== 'local') {
      this.o.log.warn('sim.originate.unsupported', {endpoint, note: 'the sim only dials Local/ endpoints'});
      throw new AriError(500, INTERNAL_ERROR);
    }
    const variables = this.parseVariables(p.variables);
    // Local/<exten>@<context>[/options]
    const target = device.split('/')[0];
    const at = target.indexOf('@');
    const exten = at < 0 ? target : target.slice(0, at);
    const context = at < 0 ? 'default' : target.slice(at + 1);
    const n = (this.localSeq++).toString(16).padStart(8, '0');
    const base = `Local/${exten}@${context}-${n}`;
    const stasisApp = app !== '' ? app : undefined;
    const id1 = channelId || this.nextId();
    const id2 = otherChannelId || (channelId ? `${channelId};2` : this.nextId());
    const c1 = this.newChannel({
      id: id1, name: `${base};1`, kind: 'local1', state: 'Down', dialstring: device, app: stasisApp,
      dialplan: {context, exten, priority: 1, app_name: 'AppDial2', app_data: '(Outgoing Line)'},
    });
    const c2 = this.newChannel({
      id: id2, name: `${base};2`, kind: 'local2', state: 'Down', dialstring: device, app: stasisApp, silent: exten === 'silence',
      dialplan: {context, exten, priority: 1, app_name: '', app_data: ''},
    });
    c1.peer = c2;
    c2.peer = c1;
    c1.formats = formats;
    c2.formats = formats;
    const callerId = p.get('callerId');
    if (callerId) {
      const m = /^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$/.exec(callerId);
      const party = m ? {name: m[1].trim(), number: m[2].trim()} : {name: '', number: callerId.trim()};
      c1.caller = party;
      c1.connected = {...party};
    }
    for (const [k, v] of variables) c1.vars.set(k, v);
    c1.args = splitArgs(p.get('appArgs') ?? '');
    this.counters.originated++;
    const body = this.channelJson(c1);
    // Asterisk dials on its own thread: the events arrive ~2 ms after the response
    this.later(c1, 1, () => this.runLocalDial(c1, c2, stasisApp, app === '' ? undefined : app));
    return {status: 200, body};
  }

  private runLocalDial(c1: SimChannel, c2: SimChannel, stasisApp: string | undefined, app: string | undefined): void {
    this.emit(c1, {type: 'Dial', timestamp: this.ts(), dialstatus: '', forward: '', dialstring: c1.dialstring, peer: this.channelJson(c1)});
    c2.state = 'Ring';
    c2.dialplan = {...c2.dialplan, priority: 1, app_name: 'Answer', app_data: ''};
    this.emit(c2, {type: 'ChannelDialplan', timestamp: this.ts(), dialplan_app: 'Answer', dialplan_app_data: '', channel: this.channelJson(c2)});
    c2.state = 'Up';
    this.emit(c2, {type: 'ChannelStateChange', timestamp: this.ts(), channel: this.channelJson(c2)});
    c1.state = 'Up';
    this.emit(c1, {type: 'ChannelStateChange', timestamp: this.ts(), channel: this.channelJson(c1)});
    this.emit(c1, {type: 'Dial', timestamp: this.ts(), dialstatus: 'ANSWER', forward: '', dialstring: c1.dialstring, peer: this.channelJson(c1)});
    // Answer() takes answerDelayMs before the next priority (Milliwatt / Wait) starts
    this.later(c2, this.o.answerDelayMs, () => {
      const silent = c2.silentSource;
      c2.dialplan = {...c2.dialplan, priority: 2, app_name: silent ? 'Wait' : 'Milliwatt', app_data: silent ? '3600' : ''};
      this.emit(c2, {type: 'ChannelDialplan', timestamp: this.ts(), dialplan_app: c2.dialplan.app_name, dialplan_app_data: c2.dialplan.app_data, channel: this.channelJson(c2)});
      if (!silent) {
        c1.toneOn = true;
        if (c1.bridge) this.updateMedia(c1.bridge);
      }
    });
    if (app === undefined) return; // dialplan originate: no Stasis
    this.enterStasis(c1, app, stasisApp);
  }

  private enterStasis(c: SimChannel, app: string, _stasisApp: string | undefined): void {
    if (!this.hub.isActive(app)) {
      this.o.log.warn('sim.stasis.app_missing', {app, channel: c.name, note: "Stasis app doesn't exist or is not active; hanging up"});
      this.destroySilently(c);
      return;
    }
    c.dialplan = {...c.dialplan, app_name: 'Stasis', app_data: c.args.length > 0 ? `${app},${c.args.join(',')}` : app};
    this.varset(c, 'STASISSTATUS', '');
    c.inStasis = true;
    this.emit(c, {type: 'StasisStart', timestamp: this.ts(), args: [...c.args], channel: this.channelJson(c)});
  }

  async externalMedia(p: Params): Promise<OpResult> {
    const channelId = p.get('channelId') || undefined;
    const variables = this.parseVariables(p.variables);
    const app = p.get('app') ?? '';
    if (app === '') throw new AriError(400, 'app cannot be empty');
    const externalHost = p.get('external_host') ?? '';
    if (externalHost === '') throw new AriError(400, 'external_host cannot be empty for all transports other than websocket');
    const hp = splitHostPort(externalHost);
    if (!hp) throw new AriError(400, EXTERNAL_HOST_FORMAT);
    const format = p.get('format') ?? '';
    if (format === '') throw new AriError(400, 'format cannot be empty');
    const encapsulation = (p.get('encapsulation') || 'rtp').toLowerCase();
    const transport = (p.get('transport') || 'udp').toLowerCase();
    if (encapsulation !== 'rtp' || transport !== 'udp') throw new AriError(501, 'The encapsulation and/or transport is not supported');
    this.checkNewId(channelId);
    if (!isSimMediaFormat(format)) {
      if (KNOWN_FORMATS.has(format)) this.o.log.warn('sim.externalMedia.format_unsupported', {format, supported: 'ulaw,alaw,slin16,g722'});
      throw new AriError(500, INTERNAL_ERROR);
    }
    let remoteAddress = hp.host;
    if (!isIP(remoteAddress)) {
      try {
        remoteAddress = (await lookup(hp.host, {family: 4})).address;
      } catch {
        throw new AriError(500, INTERNAL_ERROR);
      }
    }
    const {socket, port} = await this.allocatePort();
    if (this.closed) {
      socket.close();
      throw new AriError(503, 'Service Unavailable');
    }
    // the channel id may have been taken while we were binding
    if (channelId !== undefined && this.channels.has(channelId)) {
      socket.close();
      this.portsInUse.delete(port);
      throw new AriError(409, 'Channel with given unique ID already exists');
    }
    const localAddress = this.o.rtpAddress === '0.0.0.0' ? '127.0.0.1' : this.o.rtpAddress;
    const c = this.newChannel({
      id: channelId ?? this.nextId(),
      name: `UnicastRTP/${externalHost}-0x7f${this.o.rng.hex(10)}`,
      kind: 'unicast',
      state: 'Down',
      dialstring: `${externalHost}/c(${format})`,
      app,
      dialplan: {context: 'default', exten: 's', priority: 1, app_name: 'AppDial2', app_data: '(Outgoing Line)'},
    });
    for (const [k, v] of variables) {
      c.vars.set(k, v);
      c.responseVars.push(k);
    }
    c.vars.set('UNICASTRTP_LOCAL_PORT', String(port));
    c.vars.set('UNICASTRTP_LOCAL_ADDRESS', localAddress);
    c.responseVars.push('UNICASTRTP_LOCAL_PORT', 'UNICASTRTP_LOCAL_ADDRESS');
    c.formats = format;
    c.args = splitArgs(p.get('data') ?? '');
    const stream = new MediaStream({
      id: c.id, name: c.name, format, localAddress, port, remoteAddress, remotePort: hp.port, externalHost,
      ssrc: this.o.rng.u32(), firstSeq: this.o.rng.int(0, 0xffff),
      startOffsetUs: this.phases.nextOffsetUs(this.o.media.liveStreams + 1),
    });
    this.o.media.add(stream, socket);
    c.media = stream;
    this.counters.externalMediaCreated++;
    this.o.log.debug('sim.externalMedia', {channel: c.id, port, external_host: externalHost, format});

    const body = this.channelJson(c, true);
    const enter = (): void => this.runUnicastDial(c, app);
    const r = this.o.rng.float();
    if (r < this.race.before) {
      enter();
      this.counters.stasisStartBeforeResponse++;
      return {status: 200, body};
    }
    if (r < this.race.before + this.race.late) {
      const {min, max} = this.race.lateMs ?? {min: 2, max: 4};
      const delayMs = min + this.o.rng.float() * (max - min);
      return {status: 200, body, after: () => this.later(c, delayMs, enter)};
    }
    return {
      status: 200,
      body,
      after: () => {
        const t = setImmediate(() => {
          if (!c.destroyed && !this.closed) enter();
        });
        c.timers.push(t as unknown as NodeJS.Timeout);
      },
    };
  }

  private runUnicastDial(c: SimChannel, app: string): void {
    this.emit(c, {type: 'Dial', timestamp: this.ts(), dialstatus: '', forward: '', dialstring: c.dialstring, peer: this.channelJson(c)});
    c.state = 'Up';
    this.emit(c, {type: 'ChannelStateChange', timestamp: this.ts(), channel: this.channelJson(c)});
    this.emit(c, {type: 'Dial', timestamp: this.ts(), dialstatus: 'ANSWER', forward: '', dialstring: c.dialstring, peer: this.channelJson(c)});
    this.enterStasis(c, app, app);
  }

  private async allocatePort(): Promise<{socket: MediaPort; port: number}> {
    const {low, high} = this.o.rtpRange;
    const first = low % 2 === 0 ? low : low + 1;
    const count = Math.floor((high - first) / 2) + 1;
    if (count <= 0) throw new AriError(500, INTERNAL_ERROR);
    let idx = this.o.rng.int(0, count - 1);
    let failures = 0;
    for (let i = 0; i < count && failures < 64; i++, idx = (idx + 1) % count) {
      const port = first + idx * 2;
      if (this.portsInUse.has(port)) continue;
      this.portsInUse.add(port);
      try {
        const socket = await this.o.media.bind(this.o.rtpAddress, port);
        return {socket, port};
      } catch {
        // taken by someone else (EADDRINUSE): like Asterisk, try the next even port
        this.portsInUse.delete(port);
        failures++;
      }
    }
    this.o.log.warn('sim.rtp.no_port', {range: `${low}-${high}`});
    throw new AriError(500, INTERNAL_ERROR);
  }

  answer(id: string): OpResult {
    const c = this.control(id);
    if (c.state === 'Down') throw new AriError(412, 'Channel in invalid state');
    return {status: 204};
  }

  hangup(id: string, p: Params): OpResult {
    const c = this.channelOr404(id);
    const reason = p.get('reason') ?? '';
    const reasonCode = p.get('reason_code') ?? '';
    if (reason && reasonCode) throw new AriError(400, "The reason and reason_code can't both be specified");
    let cause = 16;
    if (reasonCode) {
      cause = Number.parseInt(reasonCode, 10);
      if (!Number.isFinite(cause)) throw new AriError(400, 'Invalid reason for hangup reason code provided');
    } else if (reason) {
      const code = HANGUP_REASONS[reason];
      if (code === undefined) throw new AriError(400, 'Invalid reason for hangup reason provided');
      cause = code;
    }
    // gone from the API at once; the events follow the 204
    const plan = this.planHangup(c, cause);
    return {status: 204, after: plan};
  }

  getChannelVar(id: string, p: Params): OpResult {
    const variable = p.get('variable') ?? '';
    if (variable === '') throw new AriError(400, 'Variable name is required');
    const c = this.channels.get(id);
    if (!c) throw new AriError(404, 'Provided channel was not found');
    if (variable.endsWith(')')) {
      const v = this.readFunction(c, variable);
      if (v === undefined) throw new AriError(500, 'Unable to read provided function');
      return {status: 200, body: {value: v}};
    }
    const v = c.vars.get(variable);
    if (v === undefined) throw new AriError(404, 'Provided variable was not found');
    return {status: 200, body: {value: v}};
  }

  private readFunction(c: SimChannel, fn: string): string | undefined {
    const m = /^(\w+)\((.*)\)$/.exec(fn);
    if (!m) return undefined;
    const [, name, arg] = m;
    if (name === 'CHANNEL') {
      const map: Record<string, string> = {name: c.name, uniqueid: c.id, state: c.state, language: 'en', channeltype: c.kind === 'unicast' ? 'UnicastRTP' : 'Local', audionativeformat: `(${c.formats || 'slin192'})`};
      return map[arg];
    }
    if (name === 'CALLERID') {
      if (arg === 'num' || arg === 'number') return c.caller.number;
      if (arg === 'name') return c.caller.name;
    }
    return undefined;
  }

  /** Asterisk: an unset global reads as "" (200), as pbx_builtin_getvar_helper gives NULL. */
  getGlobalVar(p: Params): OpResult {
    const variable = p.get('variable') ?? '';
    if (variable === '') throw new AriError(400, 'Variable name is required');
    return {status: 200, body: {value: this.globals.get(variable) ?? ''}};
  }

  setGlobalVar(p: Params): OpResult {
    const variable = p.get('variable') ?? '';
    if (variable === '') throw new AriError(400, 'Variable name is required');
    this.globals.set(variable, p.get('value') ?? '');
    return {status: 204};
  }

  setChannelVar(id: string, p: Params): OpResult {
    const variable = p.get('variable') ?? '';
    if (variable === '') throw new AriError(400, 'Variable name is required');
    const c = this.control(id);
    const value = p.get('value') ?? '';
    return {
      status: 204,
      after: () => {
        if (!c.destroyed) this.varset(c, variable, value);
      },
    };
  }

  rtpStatistics(id: string): OpResult {
    const c = this.channelOr404(id);
    if (c.kind !== 'unicast') throw new AriError(403, 'Unsupported channel type');
    // chan_rtp provides no RTP glue for externalMedia channels (probe J)
    throw new AriError(404, 'RTP info not found');
  }

  // ---------- hangup ----------

  /** Removes the channel (and its Local peer) now; returns the emitter of the recorded events. */
  private planHangup(c: SimChannel, cause: number): () => void {
    const peer = c.kind === 'unicast' ? undefined : c.peer && !c.peer.destroyed ? c.peer : undefined;
    const snapshotBridge = c.bridge;
    const dissolved = c.dissolvedBridge;
    c.dissolvedBridge = undefined;
    const peerBridge = peer?.bridge;
    // detach at once so REST sees the channel gone
    const gone = [c, ...(peer ? [peer] : [])];
    for (const x of gone) this.markGone(x);
    return () => {
      if (c.kind === 'local2' && peer) {
        // the ;2 half hung up: the ;1 half follows
        this.emit(c, hangupRequest(c, this, 32, true));
        this.emit(peer, hangupRequest(peer, this, 16, undefined));
        this.leaveEvents(peer, peerBridge);
        this.stasisEndEvents(peer);
        this.destroyedEvent(c, cause, {app_name: '', app_data: ''});
        this.emit(peer, hangupRequest(peer, this, 16, true));
        this.destroyedEvent(peer, cause, {app_name: 'AppDial2', app_data: '(Outgoing Line)'});
      } else {
        this.emit(c, hangupRequest(c, this, 32, true));
        if (dissolved) this.leaveDissolved(c, dissolved, true);
        else this.leaveEvents(c, snapshotBridge);
        this.stasisEndEvents(c);
        if (peer) this.emit(peer, hangupRequest(peer, this, 16, undefined));
        this.destroyedEvent(c, cause, {app_name: 'AppDial2', app_data: '(Outgoing Line)'});
        if (peer) {
          this.emit(peer, hangupRequest(peer, this, 16, true));
          this.destroyedEvent(peer, cause, {app_name: '', app_data: ''});
        }
      }
      for (const x of gone) this.forgetApp(x);
    };
  }

  private markGone(c: SimChannel): void {
    c.destroyed = true;
    for (const t of c.timers) {
      clearTimeout(t);
      clearImmediate(t as unknown as NodeJS.Immediate);
    }
    c.timers = [];
    this.channels.delete(c.id);
    this.counters.channelsDestroyed++;
    const b = c.bridge;
    if (b) {
      const i = b.channels.indexOf(c);
      if (i >= 0) b.channels.splice(i, 1);
      c.bridge = undefined;
      this.retech(b);
      this.updateMedia(b);
    }
    if (c.media) {
      const id = c.media.id;
      const port = c.media.port;
      c.media = undefined;
      void this.o.media.destroy(id).finally(() => this.portsInUse.delete(port));
    }
  }

  private forgetApp(c: SimChannel): void {
    if (c.app !== undefined) this.hub.apps.get(c.app)?.channelIds.delete(c.id);
  }

  private leaveEvents(c: SimChannel, b: SimBridge | undefined): void {
    if (!b) return;
    this.clearBridgePeer(c);
    this.emit(c, {type: 'ChannelLeftBridge', timestamp: this.ts(), bridge: this.bridgeJson(b), channel: this.channelJson(c)});
  }

  /** BRIDGEPEER="" when it was set (Asterisk sends no ChannelVarset for an unchanged value). */
  private clearBridgePeer(c: SimChannel): void {
    if ((c.vars.get('BRIDGEPEER') ?? '') !== '') this.varset(c, 'BRIDGEPEER', '');
  }

  /**
   * The late leave of a channel that stayed in a deleted bridge: ChannelLeftBridge, then
   * BridgeDestroyed once the last such member has left (not on a restart: `destroyed` false).
   */
  private leaveDissolved(c: SimChannel, b: SimBridge, destroyed: boolean): void {
    this.leaveEvents(c, b);
    b.lingering--;
    if (b.lingering === 0 && destroyed) this.bridgeDestroyedEvent(b);
  }

  private bridgeDestroyedEvent(b: SimBridge): void {
    this.hub.emit({type: 'BridgeDestroyed', timestamp: this.ts(), bridge: this.bridgeJson(b)}, b.apps);
    for (const app of b.apps) this.hub.apps.get(app)?.bridgeIds.delete(b.id);
  }

  private stasisEndEvents(c: SimChannel): void {
    if (!c.inStasis) return;
    c.inStasis = false;
    this.emit(c, {type: 'StasisEnd', timestamp: this.ts(), channel: this.channelJson(c)});
    this.varset(c, 'STASISSTATUS', 'SUCCESS');
  }

  private destroyedEvent(c: SimChannel, cause: number, app: {app_name: string; app_data: string}): void {
    c.dialplan = {...c.dialplan, ...app};
    this.emit(c, {type: 'ChannelDestroyed', timestamp: this.ts(), cause, cause_txt: CAUSE_TEXT[cause] ?? 'Unknown', channel: this.channelJson(c)});
  }

  /** A channel that could not enter Stasis: gone without events (they would reach no one). */
  private destroySilently(c: SimChannel): void {
    const gone = [c, ...(c.peer && !c.peer.destroyed ? [c.peer] : [])];
    for (const x of gone) {
      this.markGone(x);
      this.forgetApp(x);
    }
  }

  // ---------- bridges ----------

  listBridges(): OpResult {
    return {status: 200, body: [...this.bridges.values()].map((b) => this.bridgeJson(b))};
  }

  getBridge(id: string): OpResult {
    return {status: 200, body: this.bridgeJson(this.bridgeOr404(id))};
  }

  createBridge(p: Params, pathBridgeId?: string): OpResult {
    const id = pathBridgeId ?? (p.get('bridgeId') || this.o.rng.uuid());
    const types = (p.get('type') || 'mixing').split(',').map((s) => s.trim()).filter(Boolean);
    const valid = ['mixing', 'holding', 'dtmf_events', 'proxy_media', 'video_sfu', 'video_single', 'sdp_label'];
    for (const t of types) if (!valid.includes(t)) throw new AriError(400, `Invalid bridge type '${t}'`);
    const existing = this.bridges.get(id);
    if (existing) {
      // createWithId on an existing bridge updates it (name), as Asterisk does
      if (p.get('name')) existing.name = p.get('name') ?? existing.name;
      return {status: 200, body: this.bridgeJson(existing)};
    }
    const bridgeType = types.includes('holding') ? 'holding' : 'mixing';
    const b: SimBridge = {
      id,
      technology: bridgeType === 'holding' ? 'holding_bridge' : 'simple_bridge',
      bridge_type: bridgeType,
      name: p.get('name') ?? '',
      channels: [],
      creationtime: asteriskTimestamp(),
      apps: new Set(),
      lingering: 0,
    };
    this.bridges.set(id, b);
    this.counters.bridgesCreated++;
    return {status: 200, body: this.bridgeJson(b)};
  }

  destroyBridge(id: string): OpResult {
    const b = this.bridgeOr404(id);
    this.bridges.delete(id);
    this.counters.bridgesDestroyed++;
    const members = [...b.channels];
    b.channels.length = 0;
    for (const c of members) {
      c.bridge = undefined;
      if (c.media) this.o.media.setWanted(c.media, false);
      // recorded (ari-serve-call-trace.jsonl): an externalMedia channel gets only BRIDGEPEER=""
      // now; its ChannelLeftBridge and the BridgeDestroyed wait until it is hung up
      if (c.kind === 'unicast') {
        c.dissolvedBridge = b;
        b.lingering++;
      }
    }
    return {
      status: 204,
      after: () => {
        for (const c of members) {
          if (c.destroyed) continue;
          if (c.kind === 'unicast') this.clearBridgePeer(c);
          else this.leaveEvents(c, b);
        }
        if (b.lingering === 0) this.bridgeDestroyedEvent(b);
      },
    };
  }

  /** resource_bridges.c control_list_create: 400 missing/unknown channel, 422 not in Stasis. */
  private controlList(p: Params): SimChannel[] {
    const ids = (p.get('channel') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (ids.length === 0) throw new AriError(400, 'Missing parameter channel');
    return ids.map((id) => {
      const c = this.channels.get(id);
      if (!c) throw new AriError(400, 'Channel not found');
      if (!c.inStasis) throw new AriError(422, 'Channel not in Stasis application');
      return c;
    });
  }

  addChannel(bridgeId: string, p: Params): OpResult {
    const b = this.bridgeOr404(bridgeId);
    let list: SimChannel[];
    try {
      list = this.controlList(p);
    } catch (e) {
      if (e instanceof AriError && e.status === 422) this.counters.addChannel422++;
      throw e;
    }
    const unique = list.filter((c, i) => list.indexOf(c) === i && c.bridge !== b);
    const leaving: Array<{c: SimChannel; from: SimBridge}> = [];
    const dissolved: Array<{c: SimChannel; from: SimBridge}> = [];
    for (const c of unique) {
      if (c.dissolvedBridge) {
        dissolved.push({c, from: c.dissolvedBridge});
        c.dissolvedBridge = undefined;
      }
      if (c.bridge) {
        const from = c.bridge;
        from.channels.splice(from.channels.indexOf(c), 1);
        this.retech(from);
        this.updateMedia(from);
        leaving.push({c, from});
      }
      c.bridge = b;
    }
    const entered: Array<{c: SimChannel; snapshot: Record<string, unknown>}> = [];
    for (const c of unique) {
      b.channels.push(c);
      if (c.app !== undefined) {
        b.apps.add(c.app);
        this.hub.app(c.app).bridgeIds.add(b.id);
      }
      this.retech(b);
      entered.push({c, snapshot: this.bridgeJson(b)});
    }
    const peers = this.peerValues(b);
    this.updateMedia(b);
    const events = (): void => {
      for (const {c, from} of dissolved) this.leaveDissolved(c, from, true);
      for (const {c, from} of leaving) {
        this.varset(c, 'BRIDGEPEER', '');
        this.emit(c, {type: 'ChannelLeftBridge', timestamp: this.ts(), bridge: this.bridgeJson(from), channel: this.channelJson(c)});
      }
      for (const {c, snapshot} of entered) {
        if (c.destroyed) continue;
        this.emit(c, {type: 'ChannelEnteredBridge', timestamp: this.ts(), bridge: snapshot, channel: this.channelJson(c)});
      }
      for (const [c, value] of peers) {
        if (c.destroyed || c.bridge !== b || c.vars.get('BRIDGEPEER') === value) continue;
        this.varset(c, 'BRIDGEPEER', value);
      }
    };
    // recorded (ari-serve-call-trace.jsonl): the add that pairs the bridge has its
    // ChannelEnteredBridge and BRIDGEPEER events out before the 204; the first add's come after it
    if (b.channels.length >= 2) {
      events();
      return {status: 204};
    }
    return {status: 204, after: events};
  }

  removeChannel(bridgeId: string, p: Params): OpResult {
    const b = this.bridgeOr404(bridgeId);
    const list = this.controlList(p);
    for (const c of list) if (c.bridge !== b) throw new AriError(422, 'Channel not in this bridge');
    const removed: Array<{c: SimChannel; snapshot: Record<string, unknown>}> = [];
    for (const c of list) {
      const i = b.channels.indexOf(c);
      if (i < 0) continue;
      b.channels.splice(i, 1);
      c.bridge = undefined;
      this.retech(b);
      if (c.media) this.o.media.setWanted(c.media, false);
      removed.push({c, snapshot: this.bridgeJson(b)});
    }
    this.updateMedia(b);
    return {
      status: 204,
      after: () => {
        for (const {c, snapshot} of removed) {
          if (c.destroyed) continue;
          this.varset(c, 'BRIDGEPEER', '');
          this.emit(c, {type: 'ChannelLeftBridge', timestamp: this.ts(), bridge: snapshot, channel: this.channelJson(c)});
        }
      },
    };
  }

  /** BRIDGEPEER of each member: the other members' names (only with 2+ channels). */
  private peerValues(b: SimBridge): Array<[SimChannel, string]> {
    if (b.channels.length < 2) return [];
    return b.channels.map((c) => [c, b.channels.filter((x) => x !== c).map((x) => x.name).join(',')]);
  }

  private retech(b: SimBridge): void {
    if (b.bridge_type === 'holding') return;
    b.technology = b.channels.length >= 3 ? 'softmix' : 'simple_bridge';
  }

  /**
   * Who sends RTP: in a two-party bridge an externalMedia channel forwards only what the other
   * party produces (a Local source playing Milliwatt); with 3+ channels the bridge is softmix
   * and mixes continuously, even silence (probes A, B, C).
   */
  private updateMedia(b: SimBridge): void {
    const n = b.channels.length;
    for (const c of b.channels) {
      if (!c.media) continue;
      let wanted = false;
      if (n >= 3) wanted = true;
      else if (n === 2) {
        const other = b.channels[0] === c ? b.channels[1] : b.channels[0];
        wanted = other.kind === 'local1' && other.toneOn;
      }
      this.o.media.setWanted(c.media, wanted);
    }
  }

  // ---------- applications / info ----------

  applicationJson(name: string): Record<string, unknown> | undefined {
    const a = this.hub.apps.get(name);
    if (!a) return undefined;
    return {
      name: a.name,
      channel_ids: [...a.channelIds],
      bridge_ids: [...a.bridgeIds].filter((id) => this.bridges.has(id)),
      endpoint_ids: [],
      device_names: [],
      events_allowed: [],
      events_disallowed: [],
    };
  }

  listApplications(): OpResult {
    const names = [...this.hub.apps.values()].filter((a) => a.session || a.channelIds.size > 0).map((a) => a.name);
    return {status: 200, body: names.map((n) => this.applicationJson(n))};
  }

  getApplication(name: string): OpResult {
    const j = this.applicationJson(name);
    if (!j) throw new AriError(404, 'Application not found');
    return {status: 200, body: j};
  }

  private parseVariables(v: Record<string, unknown> | undefined): Array<[string, string]> {
    if (!v) return [];
    const inner = (v.variables ?? v) as unknown;
    if (typeof inner !== 'object' || inner === null) return [];
    const out: Array<[string, string]> = [];
    for (const [k, val] of Object.entries(inner as Record<string, unknown>)) {
      if (typeof val === 'string') out.push([k, val]);
      else if (typeof val === 'object' && val !== null && typeof (val as {value?: unknown}).value === 'string') out.push([k, (val as {value: string}).value]);
      else throw new AriError(400, "Only string values in the 'variables' object allowed");
    }
    return out;
  }

  /**
   * `core stop now` (fault switch `restart`): every channel is hung up with its events, as
   * recorded (ari-events-core-stop-now.jsonl): ChannelHangupRequest cause 4 to every channel
   * (;2 halves, externalMedia, ;1 halves), then per bridge: cause 16 to each ;2 half, BRIDGEPEER=""
   * and ChannelLeftBridge for each member, StasisEnd/STASISSTATUS/ChannelDestroyed(16) for the
   * externalMedia channel, then the ;1 half (its ;2 destroyed with cause 0). No BridgeDestroyed.
   * Afterwards nothing is left: no channels, no bridges.
   */
  restart(): void {
    this.counters.restarts++;
    this.globals.clear();
    const all = [...this.channels.values()];
    const byKind = (k: ChanKind): SimChannel[] => all.filter((c) => c.kind === k);
    for (const c of [...byKind('local2'), ...byKind('unicast'), ...byKind('local1')]) this.emit(c, hangupRequest(c, this, 4, true));
    const done = new Set<SimChannel>();
    const livePeer = (c: SimChannel): SimChannel | undefined => (c.kind === 'local1' && c.peer && !c.peer.destroyed ? c.peer : undefined);
    const finish = (c: SimChannel): void => {
      if (done.has(c)) return;
      done.add(c);
      this.stasisEndEvents(c);
      const peer = livePeer(c);
      if (peer && !done.has(peer)) {
        done.add(peer);
        this.emit(peer, hangupRequest(peer, this, 16, undefined));
        this.destroyedEvent(c, 16, {app_name: 'AppDial2', app_data: '(Outgoing Line)'});
        this.destroyedEvent(peer, 0, {app_name: '', app_data: ''});
      } else this.destroyedEvent(c, 16, {app_name: 'AppDial2', app_data: '(Outgoing Line)'});
    };
    for (const b of this.bridges.values()) {
      const members = [...b.channels];
      for (const c of members) {
        const peer = livePeer(c);
        if (peer) this.emit(peer, hangupRequest(peer, this, 16, true));
      }
      for (const c of members) {
        b.channels.splice(b.channels.indexOf(c), 1);
        c.bridge = undefined;
        this.leaveEvents(c, b);
      }
      for (const c of members) if (c.kind === 'unicast') finish(c);
      for (const c of members) finish(c);
    }
    for (const c of all) {
      if (done.has(c)) continue;
      if (c.dissolvedBridge) {
        this.leaveDissolved(c, c.dissolvedBridge, false);
        c.dissolvedBridge = undefined;
      }
      const peer = livePeer(c);
      if (peer && !done.has(peer)) this.emit(peer, hangupRequest(peer, this, 16, true));
      if (c.kind !== 'local2') finish(c);
    }
    for (const c of all) if (!done.has(c)) finish(c);
    for (const c of all) {
      this.markGone(c);
      this.forgetApp(c);
    }
    for (const b of this.bridges.values()) for (const app of b.apps) this.hub.apps.get(app)?.bridgeIds.delete(b.id);
    this.bridges.clear();
  }

  /** Hangs up everything (sim shutdown), without events. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.channels.values()]) this.markGone(c);
    this.bridges.clear();
  }
}

function hangupRequest(c: SimChannel, core: SimCore, cause: number, soft: boolean | undefined): SimEvent {
  const e: Record<string, unknown> = {cause};
  if (soft !== undefined) e.soft = soft;
  return {...e, type: 'ChannelHangupRequest', timestamp: asteriskTimestamp(), channel: core.channelJson(c)} as SimEvent;
}

function splitArgs(s: string): string[] {
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
