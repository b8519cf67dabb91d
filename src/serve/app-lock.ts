/**
 * One serve per Stasis app on an Asterisk (a second serve exits 2 and touches nothing). Asterisk gives an app's events to
 * the newest WebSocket that registers it and tells the previous one only `ApplicationReplaced`;
 * its `GET /applications/{app}` cannot tell a live instance from one that crashed (an app stays
 * registered while leftover channels are subscribed to it). So serve keeps a lease in an
 * Asterisk global variable, through plain ARI (`GET/POST /asterisk/variable`, nothing to
 * configure): `RTPSLA_SERVE_<app>` = `<instance> <expiresAtMs> <httpUrl>`, refreshed every
 * `refreshMs`, valid for three refreshes. A serve that finds a lease of another instance that has
 * not expired refuses to start (before it connects, reconciles or deletes anything); a crashed
 * serve's lease expires within `3 × refreshMs`. Two serves starting in the same instant are caught
 * by the read-back after writing. Expiry times use the serves' clocks (the same host, or clocks
 * kept in sync).
 */
import {randomBytes} from 'node:crypto';
import type {AriRest} from '../ari/rest.js';
import {RtpslaError, errorMessage} from '../errors.js';
import type {Logger} from '../log/logger.js';

export type LockOps = Pick<AriRest, 'getGlobalVar' | 'setGlobalVar'>;

/** Another serve holds the app. Exit 2, before anything is touched. */
export class AppInUseError extends RtpslaError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** How often a serve refreshes its lease; a lease is valid for three refreshes. */
export const LEASE_REFRESH_MS = 5000;

export interface AppLockOptions {
  refreshMs?: number;
  /** Wait between writing the lease and reading it back (catches a serve starting at the same time). */
  settleMs?: number;
  nowMs?: () => number;
}

interface Lease {
  instance: string;
  expiresAtMs: number;
  httpUrl: string;
}

export class AppLock {
  readonly variable: string;
  readonly instance = randomBytes(6).toString('hex');
  private timer: NodeJS.Timeout | undefined;
  /** A lease was written (so release has something to clear). */
  private written = false;
  private readonly refreshMs: number;
  private readonly settleMs: number;
  private readonly nowMs: () => number;

  constructor(
    private readonly ari: LockOps,
    readonly app: string,
    private readonly httpUrl: string,
    private readonly log: Logger,
    o: AppLockOptions = {},
  ) {
    this.variable = `RTPSLA_SERVE_${app.replace(/[^A-Za-z0-9_]/g, '_')}`;
    this.refreshMs = o.refreshMs ?? LEASE_REFRESH_MS;
    this.settleMs = o.settleMs ?? 300;
    this.nowMs = o.nowMs ?? Date.now;
  }

  /** Take the lease or throw AppInUseError naming the holder. Then keeps it fresh until release(). */
  async acquire(): Promise<void> {
    this.refuseIfHeld(await this.read());
    await this.write();
    if (this.settleMs > 0) await new Promise((r) => setTimeout(r, this.settleMs));
    this.refuseIfHeld(await this.read());
    this.timer = setInterval(() => {
      this.write().catch((err: unknown) => this.log.warn('app_lock.refresh_failed', {variable: this.variable, error: errorMessage(err)}));
    }, this.refreshMs);
    this.timer.unref();
  }

  /** Stop refreshing and clear the lease if it is still ours (nothing when it was never written). Never throws. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.written) return;
    try {
      const lease = await this.read();
      if (lease?.instance === this.instance) await this.ari.setGlobalVar(this.variable, '');
    } catch (err) {
      this.log.warn('app_lock.release_failed', {variable: this.variable, error: errorMessage(err)});
    }
  }

  private refuseIfHeld(lease: Lease | null): void {
    if (!lease || lease.instance === this.instance) return;
    const now = this.nowMs();
    if (lease.expiresAtMs <= now) return;
    throw new AppInUseError(
      `another rtpsla serve holds app "${this.app}" on this Asterisk (its HTTP: ${lease.httpUrl}; lease ${this.variable} valid for ` +
        `${Math.ceil((lease.expiresAtMs - now) / 1000)} s more): stop it first, or give this one another --app/APP_NAME`,
    );
  }

  private async read(): Promise<Lease | null> {
    return parseLease(await this.ari.getGlobalVar(this.variable));
  }

  private write(): Promise<void> {
    this.written = true;
    return this.ari.setGlobalVar(this.variable, `${this.instance} ${Math.round(this.nowMs() + 3 * this.refreshMs)} ${this.httpUrl}`);
  }
}

function parseLease(value: string): Lease | null {
  const m = /^([0-9a-f]+) (\d+) (\S+)$/.exec(value.trim());
  return m ? {instance: m[1], expiresAtMs: Number(m[2]), httpUrl: m[3]} : null;
}
