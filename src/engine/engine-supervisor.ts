/**
 * One driver for every native engine role: it starts the engine, watches its exit, and applies
 * the role's policy when it dies: serve's relay restarts with a short backoff (calls in flight
 * fail with the engine's reason, `/health` is 503 from the exit on and 200 again once the new
 * engine is ready; 3 deaths within 60 s give up: exit code 1), while the echo, the sim and load's
 * caller engine exit non-zero with one line, for a supervisor (or the run) to handle. A start that
 * fails counts as a death. It never falls back to the Node engine mid-run: a report must not mix
 * instruments. `RTPSLA_ENGINE_RESTART=0` turns restarting off (the role exits instead).
 */
import {EventEmitter} from 'node:events';
import {errorMessage} from '../errors.js';
import {realClock, type Clock, type ClockTimer} from '../runtime/clock.js';
import type {EngineRole} from './engine-select.js';

export type EnginePolicy = 'restart' | 'exit';

/** The policy of each role, stated once. */
export const ENGINE_POLICY: Readonly<Record<EngineRole, EnginePolicy>> = {relay: 'restart', echo: 'exit', sim: 'exit', caller: 'exit'};

/** Deaths within this window, counted against MAX_DEATHS. */
export const DEATH_WINDOW_MS = 60_000;
/** The death that reaches this many within the window is final. */
export const MAX_DEATHS = 3;
/** Backoff before restart n (1-based): 250 ms, 1 s, 2 s… */
export function restartBackoffMs(n: number): number {
  return Math.min(4000, n <= 1 ? 250 : 1000 * 2 ** (n - 2));
}

/** What the supervisor needs of an engine process. */
export interface SupervisedEngine {
  readonly pid: number;
  /** Registers the one exit listener: `detail` like "signal SIGKILL" or "exit code 3". */
  onExit(listener: (detail: string) => void): void;
  close(): Promise<void>;
}

export interface EngineSupervisorOptions<E extends SupervisedEngine> {
  role: EngineRole;
  start: () => Promise<E>;
  clock?: Clock;
  /** Overrides the role's policy (tests); else ENGINE_POLICY with RTPSLA_ENGINE_RESTART=0 honoured. */
  policy?: EnginePolicy;
}

export type EngineState = {status: 'starting'} | {status: 'ready'; pid: number} | {status: 'dead'; reason: string; atUs: number} | {status: 'stopped'};

/**
 * Events: 'ready' (engine) when an engine is up (the first and every restart), 'died' (reason,
 * pid) as soon as an engine's exit is seen, 'restarting' (attempt, backoffMs), 'fatal' (line) when
 * the role exits: its policy is exit, or it died MAX_DEATHS times within DEATH_WINDOW_MS.
 */
export class EngineSupervisor<E extends SupervisedEngine> extends EventEmitter {
  private readonly clock: Clock;
  readonly policy: EnginePolicy;
  private current: E | null = null;
  private deathsUs: number[] = [];
  private timer: ClockTimer | null = null;
  private stopping = false;
  state: EngineState = {status: 'starting'};
  /** Engines started after the first. */
  restarts = 0;

  constructor(private readonly o: EngineSupervisorOptions<E>) {
    super();
    this.clock = o.clock ?? realClock;
    this.policy = o.policy ?? (process.env.RTPSLA_ENGINE_RESTART === '0' ? 'exit' : ENGINE_POLICY[o.role]);
  }

  /** The engine in use, or null while none is ready. */
  get engine(): E | null {
    return this.state.status === 'ready' ? this.current : null;
  }

  /** Start the first engine; rejects when it cannot start (the caller decides: exit 2 or the Node engine). */
  async start(): Promise<E> {
    const e = await this.o.start();
    this.adopt(e);
    return e;
  }

  /** Stop the engine; no restart from now on. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.state = {status: 'stopped'};
    await this.current?.close();
  }

  private adopt(e: E): void {
    this.current = e;
    this.state = {status: 'ready', pid: e.pid};
    e.onExit((detail) => this.onDeath(e, detail));
    this.emit('ready', e);
  }

  private onDeath(e: E, detail: string): void {
    if (this.stopping || e !== this.current) return;
    const reason = `media engine died (${detail})`;
    this.state = {status: 'dead', reason, atUs: this.clock.nowUs()};
    this.emit('died', reason, e.pid);
    this.afterDeath(reason);
  }

  private afterDeath(reason: string): void {
    const now = this.clock.nowUs();
    this.deathsUs = this.deathsUs.filter((t) => now - t < DEATH_WINDOW_MS * 1000);
    this.deathsUs.push(now);
    if (this.policy === 'exit') return void this.emit('fatal', `the ${this.o.role} media engine died: ${reason}`);
    if (this.deathsUs.length >= MAX_DEATHS)
      return void this.emit('fatal', `the ${this.o.role} media engine died ${this.deathsUs.length} times within ${DEATH_WINDOW_MS / 1000} s (last: ${reason}): giving up`);
    const backoffMs = restartBackoffMs(this.deathsUs.length);
    this.emit('restarting', this.deathsUs.length, backoffMs);
    this.timer = this.clock.setTimer(() => void this.restart(), backoffMs);
  }

  private async restart(): Promise<void> {
    this.timer = null;
    if (this.stopping) return;
    this.state = {status: 'starting'};
    try {
      const e = await this.o.start();
      if (this.stopping) return void (await e.close());
      this.restarts++;
      this.adopt(e);
    } catch (err) {
      // a start that fails counts as a death
      const reason = `media engine did not start (${errorMessage(err)})`;
      this.state = {status: 'dead', reason, atUs: this.clock.nowUs()};
      this.afterDeath(reason);
    }
  }
}

/**
 * Supervise an engine already started, under its role's policy (echo, sim and the caller exit:
 * `onFatal` gets the one line to print before exiting non-zero).
 */
export async function superviseStarted<E extends SupervisedEngine>(role: EngineRole, engine: E, onFatal: (line: string) => void): Promise<EngineSupervisor<E>> {
  const supervisor = new EngineSupervisor<E>({role, start: async () => engine});
  supervisor.on('fatal', onFatal);
  await supervisor.start();
  return supervisor;
}
