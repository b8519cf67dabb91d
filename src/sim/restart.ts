/**
 * The fault switch `restart` (`core stop now`) around the HTTP server: hang everything up with
 * its events now, close the events WebSockets without a close frame (1006)
 * RESTART_CLOSE_AFTER_MS after the last event has left, keep ARI down for `downtimeMs`
 * (connections refused, or 503), then answer again with nothing left.
 */
import type {Server} from 'node:http';
import type {Logger} from '../log/logger.js';
import type {SimCore} from './core.js';
import type {EventHub} from './events.js';
import type {Faults, RestartRule} from './faults.js';
import {asteriskTimestamp} from './time.js';

/** A restart closes the events WebSockets this long after its last event (recorded: 15 ms). */
export const RESTART_CLOSE_AFTER_MS = 15;
/** A client that does not read its hang-up events gets this long before its socket is closed. */
const FLUSH_WAIT_MS = 2000;

export interface RestartDeps {
  core: SimCore;
  hub: EventHub;
  faults: Faults;
  log: Logger;
  server: Server;
  host: string;
  /** The port ARI listens on (known once listening). */
  port(): number;
  /** ARI is answering again: the new start-up time. */
  cameBack(startedAt: string): void;
}

export class SimRestarter {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly d: RestartDeps) {}

  run(rule: Required<RestartRule>): void {
    const {faults, log, core} = this.d;
    faults.down = {whileDown: rule.whileDown, downtimeMs: rule.downtimeMs, upAt: null};
    faults.restarts++;
    log.warn('sim.fault.restart', {channels: core.channels.size, bridges: core.bridges.size, downtimeMs: rule.downtimeMs, whileDown: rule.whileDown});
    core.restart();
    const beganMs = Date.now();
    this.timer = setTimeout(() => this.closeSockets(rule, beganMs), RESTART_CLOSE_AFTER_MS);
  }

  /** The sim is closing: no more steps. */
  cancel(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private closeSockets(rule: Required<RestartRule>, beganMs: number): void {
    this.timer = undefined;
    if (this.closed) return;
    const {hub, server, faults, log} = this.d;
    // the hang-up events go out first, however many there are (a stuck client gets 2 s)
    if (!hub.flushed && Date.now() - beganMs < FLUSH_WAIT_MS) {
      this.timer = setTimeout(() => this.closeSockets(rule, beganMs), 5);
      return;
    }
    const dropped = hub.dropAll();
    if (rule.whileDown === 'refuse') {
      server.close();
      server.closeAllConnections();
    }
    if (faults.down) faults.down.upAt = asteriskTimestamp(Date.now() + rule.downtimeMs);
    log.info('sim.fault.restart.down', {droppedWebSockets: dropped, downtimeMs: rule.downtimeMs});
    this.timer = setTimeout(() => this.comeBack(rule), rule.downtimeMs);
  }

  private comeBack(rule: Required<RestartRule>): void {
    this.timer = undefined;
    if (this.closed) return;
    const {hub, server, faults, log} = this.d;
    hub.forgetIdleApps();
    this.d.cameBack(asteriskTimestamp());
    if (rule.whileDown === '503') {
      faults.down = null;
      log.info('sim.fault.restart.up', {});
      return;
    }
    const onError = (): void => {
      server.off('listening', onListening);
      this.timer = setTimeout(() => this.comeBack(rule), 100); // the port is briefly someone else's: try again
    };
    const onListening = (): void => {
      server.off('error', onError);
      faults.down = null;
      log.info('sim.fault.restart.up', {});
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(this.d.port(), this.d.host);
  }
}
