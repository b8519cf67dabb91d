/**
 * Mixing bridges of the sim's Asterisk model: create, delete, addChannel, removeChannel, with
 * the events and their order relative to the REST response as recorded (ari-serve-call-trace.jsonl).
 */
import {CoreBase} from './core-base.js';
import {AriError, type OpResult, type Params, type SimBridge, type SimChannel} from './model.js';
import {asteriskTimestamp} from './time.js';

export abstract class BridgeOps extends CoreBase {
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
      this.detachMedia(c);
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
  protected controlList(p: Params): SimChannel[] {
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
      this.detachMedia(c);
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

}
