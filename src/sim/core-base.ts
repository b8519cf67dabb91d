/**
 * The state of the sim's Asterisk model and what every operation shares: channel and bridge
 * maps, counters, JSON snapshots in Asterisk's shapes, event emission, lookups with Asterisk's
 * errors, tearing a channel down (its bridge, its media, its app), and who sends media.
 */
import type {EventHub, SimEvent} from './events.js';
import {ForwardingLinks} from './forwarding.js';
import {StartPhaseModel} from './phase.js';
import {asteriskTimestamp} from './time.js';
import {
  AriError, CAUSE_TEXT, DEFAULT_RACE,
  type ChanKind, type CoreCounters, type CoreOptions, type Dialplan, type RaceModel, type SimBridge, type SimChannel,
} from './model.js';

export abstract class CoreBase {
  readonly channels = new Map<string, SimChannel>();
  /** Global dialplan variables (GET/POST /asterisk/variable); gone with the process, as in Asterisk. */
  readonly globals = new Map<string, string>();
  readonly bridges = new Map<string, SimBridge>();
  readonly counters: CoreCounters = {
    originated: 0, externalMediaCreated: 0, channelsDestroyed: 0, bridgesCreated: 0, bridgesDestroyed: 0,
    addChannel422: 0, stasisStartBeforeResponse: 0, restarts: 0,
  };
  readonly startedMs = Date.now();
  protected readonly epoch = Math.floor(this.startedMs / 1000);
  protected channelSeq = 0;
  protected localSeq = 0;
  protected readonly portsInUse = new Set<number>();
  protected readonly race: RaceModel;
  protected readonly phases: StartPhaseModel;
  /** Forwarding between the two externalMedia channels of an RTP-caller bridge. */
  readonly links: ForwardingLinks;
  protected closed = false;

  constructor(protected readonly o: CoreOptions) {
    this.race = o.race ?? DEFAULT_RACE;
    this.phases = new StartPhaseModel(o.rng);
    this.links = new ForwardingLinks(o.media);
  }


  protected get hub(): EventHub {
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

  protected emit(c: SimChannel, event: SimEvent): void {
    if (c.app !== undefined) this.hub.emit(event, [c.app]);
    else this.hub.emit(event, []);
  }

  protected ts(): string {
    return asteriskTimestamp();
  }

  protected varset(c: SimChannel, variable: string, value: string): void {
    c.vars.set(variable, value);
    this.emit(c, {variable, value, type: 'ChannelVarset', timestamp: this.ts(), channel: this.channelJson(c)});
  }

  protected nextId(): string {
    return `${this.epoch}.${this.channelSeq++}`;
  }

  protected checkNewId(id: string | undefined): void {
    if (id === undefined) return;
    if (id.length > 128) throw new AriError(400, 'Uniqueid length exceeds maximum of 128');
    if (this.channels.has(id)) throw new AriError(409, 'Channel with given unique ID already exists');
  }

  protected newChannel(init: {id: string; name: string; kind: ChanKind; state: SimChannel['state']; dialplan: Dialplan; dialstring: string; silent?: boolean; app?: string}): SimChannel {
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

  protected later(c: SimChannel, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      c.timers = c.timers.filter((x) => x !== t);
      if (!c.destroyed && !this.closed) fn();
    }, ms);
    c.timers.push(t);
  }

  // ---------- lookups ----------

  protected channelOr404(id: string): SimChannel {
    const c = this.channels.get(id);
    if (!c) throw new AriError(404, 'Channel not found');
    return c;
  }

  /** stasis_app_control lookup as in resource_channels.c: 404 unknown, 409 not in Stasis. */
  protected control(id: string): SimChannel {
    const c = this.channelOr404(id);
    if (!c.inStasis) throw new AriError(409, 'Channel not in Stasis application');
    return c;
  }

  protected bridgeOr404(id: string): SimBridge {
    const b = this.bridges.get(id);
    if (!b) throw new AriError(404, 'Bridge not found');
    return b;
  }


  // ---------- teardown ----------

  protected markGone(c: SimChannel): void {
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
    this.links.unpair(c);
    if (c.media) {
      const id = c.media.id;
      const port = c.media.port;
      c.media = undefined;
      void this.o.media.destroy(id).finally(() => this.portsInUse.delete(port));
    }
  }

  protected forgetApp(c: SimChannel): void {
    if (c.app !== undefined) this.hub.apps.get(c.app)?.channelIds.delete(c.id);
  }

  protected leaveEvents(c: SimChannel, b: SimBridge | undefined): void {
    if (!b) return;
    this.clearBridgePeer(c);
    this.emit(c, {type: 'ChannelLeftBridge', timestamp: this.ts(), bridge: this.bridgeJson(b), channel: this.channelJson(c)});
  }

  /** BRIDGEPEER="" when it was set (Asterisk sends no ChannelVarset for an unchanged value). */
  protected clearBridgePeer(c: SimChannel): void {
    if ((c.vars.get('BRIDGEPEER') ?? '') !== '') this.varset(c, 'BRIDGEPEER', '');
  }

  /**
   * The late leave of a channel that stayed in a deleted bridge: ChannelLeftBridge, then
   * BridgeDestroyed once the last such member has left (not on a restart: `destroyed` false).
   */
  protected leaveDissolved(c: SimChannel, b: SimBridge, destroyed: boolean): void {
    this.leaveEvents(c, b);
    b.lingering--;
    if (b.lingering === 0 && destroyed) this.bridgeDestroyedEvent(b);
  }

  protected bridgeDestroyedEvent(b: SimBridge): void {
    this.hub.emit({type: 'BridgeDestroyed', timestamp: this.ts(), bridge: this.bridgeJson(b)}, b.apps);
    for (const app of b.apps) this.hub.apps.get(app)?.bridgeIds.delete(b.id);
  }

  protected stasisEndEvents(c: SimChannel): void {
    if (!c.inStasis) return;
    c.inStasis = false;
    this.emit(c, {type: 'StasisEnd', timestamp: this.ts(), channel: this.channelJson(c)});
    this.varset(c, 'STASISSTATUS', 'SUCCESS');
  }

  protected destroyedEvent(c: SimChannel, cause: number, app: {app_name: string; app_data: string}): void {
    c.dialplan = {...c.dialplan, ...app};
    this.emit(c, {type: 'ChannelDestroyed', timestamp: this.ts(), cause, cause_txt: CAUSE_TEXT[cause] ?? 'Unknown', channel: this.channelJson(c)});
  }

  /** A channel that could not enter Stasis: gone without events (they would reach no one). */
  protected destroySilently(c: SimChannel): void {
    const gone = [c, ...(c.peer && !c.peer.destroyed ? [c.peer] : [])];
    for (const x of gone) {
      this.markGone(x);
      this.forgetApp(x);
    }
  }

  /** BRIDGEPEER of each member: the other members' names (only with 2+ channels). */
  protected peerValues(b: SimBridge): Array<[SimChannel, string]> {
    if (b.channels.length < 2) return [];
    return b.channels.map((c) => [c, b.channels.filter((x) => x !== c).map((x) => x.name).join(',')]);
  }

  protected retech(b: SimBridge): void {
    if (b.bridge_type === 'holding') return;
    b.technology = b.channels.length >= 3 ? 'softmix' : 'simple_bridge';
  }

  /**
   * Who sends RTP: in a two-party bridge an externalMedia channel forwards only what the other
   * party produces (a Local source playing Milliwatt); two externalMedia channels forward each
   * other's RTP (RTP-caller bridge, ForwardingLinks) and send nothing of their own; with 3+
   * channels the bridge is softmix and mixes continuously, even silence (probes A, B, C).
   */
  protected updateMedia(b: SimBridge): void {
    const n = b.channels.length;
    const [x, y] = b.channels;
    if (n === 2 && x.media && y.media) {
      this.o.media.setWanted(x.media, false);
      this.o.media.setWanted(y.media, false);
      this.links.pair(x, y);
      return;
    }
    for (const c of b.channels) {
      if (!c.media) continue;
      this.links.unpair(c);
      let wanted = false;
      if (n >= 3) wanted = true;
      else if (n === 2) {
        const other = b.channels[0] === c ? b.channels[1] : b.channels[0];
        wanted = other.kind === 'local1' && other.toneOn;
      }
      this.o.media.setWanted(c.media, wanted);
    }
  }

  /** A channel left its bridge: its media stops (sending and forwarding). */
  protected detachMedia(c: SimChannel): void {
    this.links.unpair(c);
    if (c.media) this.o.media.setWanted(c.media, false);
  }


  protected parseVariables(v: Record<string, unknown> | undefined): Array<[string, string]> {
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
}
