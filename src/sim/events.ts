/**
 * The events side of the sim: `/ari/events` WebSocket sessions, the Stasis application
 * registry (which session receives an app's events; like Asterisk, the newest session for an
 * app name replaces the previous one, which gets `ApplicationReplaced`), and delivery with an
 * optional delay (fault switch `eventDelayMs`) that keeps the order of events.
 */
import type {WebSocket} from 'ws';
import type {Logger} from '../log/logger.js';
import {asteriskTimestamp} from './time.js';

export interface EventSession {
  readonly ws: WebSocket;
  readonly apps: readonly string[];
  readonly subscribeAll: boolean;
  readonly remote: string;
}

export interface SimApp {
  readonly name: string;
  session: EventSession | undefined;
  readonly channelIds: Set<string>;
  readonly bridgeIds: Set<string>;
}

/** An event without `asterisk_id`/`application` (added per receiving app). */
export type SimEvent = {type: string; timestamp: string} & Record<string, unknown>;

interface Pending {
  dueMs: number;
  ws: WebSocket;
  text: string;
}

export class EventHub {
  readonly apps = new Map<string, SimApp>();
  private readonly sessions = new Set<EventSession>();
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  private timer: NodeJS.Timeout | undefined;
  delayMs = 0;
  eventsSent = 0;
  sessionsOpened = 0;

  constructor(
    private readonly asteriskId: string,
    private readonly log: Logger,
  ) {}

  app(name: string): SimApp {
    let a = this.apps.get(name);
    if (!a) {
      a = {name, session: undefined, channelIds: new Set(), bridgeIds: new Set()};
      this.apps.set(name, a);
    }
    return a;
  }

  /** True when a WebSocket session currently receives `name`'s events (Stasis() would succeed). */
  isActive(name: string): boolean {
    return this.apps.get(name)?.session !== undefined;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  addSession(session: EventSession): void {
    this.sessions.add(session);
    this.sessionsOpened++;
    for (const name of session.apps) {
      const a = this.app(name);
      const old = a.session;
      a.session = session;
      if (old && old !== session) {
        this.log.info('sim.app.replaced', {app: name});
        this.sendNow(old.ws, JSON.stringify({type: 'ApplicationReplaced', timestamp: asteriskTimestamp(), asterisk_id: this.asteriskId, application: name}));
      }
    }
    this.log.info('sim.events.connected', {apps: session.apps.join(','), subscribeAll: session.subscribeAll, remote: session.remote});
    session.ws.on('close', () => this.removeSession(session));
  }

  private removeSession(session: EventSession): void {
    if (!this.sessions.delete(session)) return;
    for (const name of session.apps) {
      const a = this.apps.get(name);
      if (a && a.session === session) a.session = undefined;
    }
    this.log.info('sim.events.disconnected', {apps: session.apps.join(','), remote: session.remote});
  }

  /** Fault switch: drop every events WebSocket at once (TCP reset, like a crashed peer). */
  dropAll(): number {
    const n = this.sessions.size;
    for (const s of [...this.sessions]) {
      s.ws.terminate();
      this.removeSession(s);
    }
    return n;
  }

  /** True when no event waits in the delay queue or in a WebSocket's send buffer. */
  get flushed(): boolean {
    if (this.queueHead < this.queue.length) return false;
    for (const s of this.sessions) if (s.ws.bufferedAmount > 0) return false;
    return true;
  }

  /** After a restart: forget the apps no session listens to (Asterisk comes back with none). */
  forgetIdleApps(): void {
    for (const [name, a] of this.apps) if (a.session === undefined) this.apps.delete(name);
  }

  closeAll(): void {
    for (const s of [...this.sessions]) {
      s.ws.close(1001, 'shutting down');
      s.ws.terminate();
      this.removeSession(s);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queueHead = 0;
  }

  /**
   * Deliver `event` to the sessions of `appNames` (each gets its own `application`), and to
   * sessions subscribed to everything.
   */
  emit(event: SimEvent, appNames: Iterable<string>): void {
    let targeted: Set<EventSession> | undefined;
    for (const name of appNames) {
      const session = this.apps.get(name)?.session;
      if (!session) continue;
      (targeted ??= new Set()).add(session);
      this.deliver(session.ws, this.stringify(event, name));
    }
    if (this.sessions.size === 0) return;
    for (const s of this.sessions) {
      if (!s.subscribeAll || targeted?.has(s)) continue;
      this.deliver(s.ws, this.stringify(event, s.apps[0]));
    }
  }

  private stringify(event: SimEvent, application: string): string {
    return JSON.stringify({...event, asterisk_id: this.asteriskId, application});
  }

  private deliver(ws: WebSocket, text: string): void {
    if (this.delayMs <= 0 && this.queueHead === this.queue.length) {
      this.sendNow(ws, text);
      return;
    }
    this.queue.push({dueMs: Date.now() + Math.max(0, this.delayMs), ws, text});
    this.arm();
  }

  private sendNow(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(text);
    this.eventsSent++;
  }

  private arm(): void {
    if (this.timer || this.queueHead >= this.queue.length) return;
    const wait = Math.max(0, this.queue[this.queueHead].dueMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.queueHead < this.queue.length && this.queue[this.queueHead].dueMs <= now) {
      const p = this.queue[this.queueHead++];
      this.sendNow(p.ws, p.text);
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 1024) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    this.arm();
  }
}
