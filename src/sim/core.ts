/**
 * The Asterisk model behind the sim's REST API: channels (Local pairs and UnicastRTP
 * externalMedia channels), mixing bridges, Stasis membership, channel variables, and the
 * events each operation causes, in the order and shapes recorded from Asterisk 22.10.1
 * (fixtures/asterisk). Operations return the HTTP status/body; events that Asterisk sends
 * after the response are emitted from `after()`, which the HTTP layer calls once the response
 * is written.
 */
import {ExternalMediaOps} from './external-media.js';
import {AriError, hangupRequest, type ChanKind, type OpResult, type SimChannel} from './model.js';

export {AriError, DEFAULT_RACE, splitHostPort} from './model.js';
export type {CoreCounters, CoreOptions, OpResult, Params, RaceModel, SimBridge, SimChannel} from './model.js';

/** The sim's Asterisk model as the HTTP layer sees it (each concern in its own layer of the class chain). */
export class SimCore extends ExternalMediaOps {
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
    for (const c of [...byKind('local2'), ...byKind('unicast'), ...byKind('local1')]) this.emit(c, hangupRequest(this.channelJson(c), 4, true));
    const done = new Set<SimChannel>();
    const livePeer = (c: SimChannel): SimChannel | undefined => (c.kind === 'local1' && c.peer && !c.peer.destroyed ? c.peer : undefined);
    const finish = (c: SimChannel): void => {
      if (done.has(c)) return;
      done.add(c);
      this.stasisEndEvents(c);
      const peer = livePeer(c);
      if (peer && !done.has(peer)) {
        done.add(peer);
        this.emit(peer, hangupRequest(this.channelJson(peer), 16, undefined));
        this.destroyedEvent(c, 16, {app_name: 'AppDial2', app_data: '(Outgoing Line)'});
        this.destroyedEvent(peer, 0, {app_name: '', app_data: ''});
      } else this.destroyedEvent(c, 16, {app_name: 'AppDial2', app_data: '(Outgoing Line)'});
    };
    for (const b of this.bridges.values()) {
      const members = [...b.channels];
      for (const c of members) {
        const peer = livePeer(c);
        if (peer) this.emit(peer, hangupRequest(this.channelJson(peer), 16, true));
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
      if (peer && !done.has(peer)) this.emit(peer, hangupRequest(this.channelJson(peer), 16, true));
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
