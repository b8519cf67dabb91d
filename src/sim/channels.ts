/**
 * Channels of the sim's Asterisk model: originating Local pairs into Stasis (the recorded
 * Dial / state / Varset / StasisStart sequence), answer, hangup with its recorded events,
 * channel and global variables.
 */
import {BridgeOps} from './bridges.js';
import {
  AriError, DEFAULT_DIALPLAN_CONTEXTS, HANGUP_REASONS, INTERNAL_ERROR, KNOWN_FORMATS, hangupRequest, splitArgs,
  type OpResult, type Params, type SimChannel,
} from './model.js';

export abstract class ChannelOps extends BridgeOps {
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

  protected runLocalDial(c1: SimChannel, c2: SimChannel, stasisApp: string | undefined, app: string | undefined): void {
    if (!(this.o.dialplanContexts ?? DEFAULT_DIALPLAN_CONTEXTS).includes(c2.dialplan.context)) return this.noSuchContext(c1, c2);
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

  /**
   * A Local channel to a context the dialplan lacks. Asterisk's local_call() finds no such
   * extension/context ("No such extension/context s@nosuchcontext while calling Local channel"),
   * the dial fails and both halves are hung up before anything runs: the originate had already
   * answered 200 with the ;1 channel (state Down). Assumed event sequence (to the app the
   * originate named, which is subscribed to both halves, and to subscribeAll sessions), with no
   * Dial, no state change and no StasisStart:
   *   ChannelHangupRequest ;1 {cause: 1}
   *   ChannelDestroyed ;2 {cause: 1, cause_txt: "Unallocated (unassigned) number"}
   *   ChannelDestroyed ;1 {cause: 1, cause_txt: "Unallocated (unassigned) number"}
   */
  protected noSuchContext(c1: SimChannel, c2: SimChannel): void {
    this.o.log.info('sim.originate.no_such_context', {context: c2.dialplan.context, exten: c2.dialplan.exten, note: 'No such extension/context while calling Local channel'});
    this.emit(c1, hangupRequest(this.channelJson(c1), 1, undefined));
    for (const c of [c1, c2]) this.markGone(c);
    this.destroyedEvent(c2, 1, {app_name: '', app_data: ''});
    this.destroyedEvent(c1, 1, {app_name: 'AppDial2', app_data: '(Outgoing Line)'});
    for (const c of [c1, c2]) this.forgetApp(c);
  }

  protected enterStasis(c: SimChannel, app: string, _stasisApp: string | undefined): void {
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

  protected readFunction(c: SimChannel, fn: string): string | undefined {
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
  protected planHangup(c: SimChannel, cause: number): () => void {
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
        this.emit(c, hangupRequest(this.channelJson(c), 32, true));
        this.emit(peer, hangupRequest(this.channelJson(peer), 16, undefined));
        this.leaveEvents(peer, peerBridge);
        this.stasisEndEvents(peer);
        this.destroyedEvent(c, cause, {app_name: '', app_data: ''});
        this.emit(peer, hangupRequest(this.channelJson(peer), 16, true));
        this.destroyedEvent(peer, cause, {app_name: 'AppDial2', app_data: '(Outgoing Line)'});
      } else {
        this.emit(c, hangupRequest(this.channelJson(c), 32, true));
        if (dissolved) this.leaveDissolved(c, dissolved, true);
        else this.leaveEvents(c, snapshotBridge);
        this.stasisEndEvents(c);
        if (peer) this.emit(peer, hangupRequest(this.channelJson(peer), 16, undefined));
        this.destroyedEvent(c, cause, {app_name: 'AppDial2', app_data: '(Outgoing Line)'});
        if (peer) {
          this.emit(peer, hangupRequest(this.channelJson(peer), 16, true));
          this.destroyedEvent(peer, cause, {app_name: '', app_data: ''});
        }
      }
      for (const x of gone) this.forgetApp(x);
    };
  }
}
