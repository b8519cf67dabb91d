import {spawn, type ChildProcessByStdio} from 'node:child_process';
import {EventEmitter} from 'node:events';
import type {Readable, Writable} from 'node:stream';
import {
  EngineCommandError,
  EngineExitedError,
  FrameType,
  RECORD_BYTES,
  RecordKind,
  type EngineReply,
  type EngineStats,
  type RecordSink,
} from './engine-types.js';
import {FrameReader, SCRATCH_RECORDS, type FrameHandler, type RecordViews} from './frame-reader.js';

export interface NativeEngineOptions {
  /** Path of the rtpsla-engine executable. */
  binaryPath: string;
  /** Extra environment for the engine (e.g. RTPSLA_ENGINE_MMSG=0). */
  env?: Readonly<Record<string, string>>;
  /** How long to wait for the engine's ready event (default 5000 ms). */
  startTimeoutMs?: number;
}

interface Pending {
  command: string;
  resolve: (r: EngineReply) => void;
  reject: (e: Error) => void;
}

const TWO_POW_32 = 4294967296;
/** 32-bit words in a record. */
const RECORD_WORDS = RECORD_BYTES / 4;

/**
 * The Node side of the native media engine (native/PROTOCOL.md): spawns the executable, sends
 * JSON-line commands on its stdin, parses the framed stdout (replies, events, record batches)
 * and hands every record to the sink registered for its relay or echo. Engine times
 * (CLOCK_MONOTONIC ns) are converted to the nowUs() base (performance.now() µs) with an offset
 * sampled once at start. Emits 'exit' (EngineExitedError, or null after close()) and 'error'
 * (when listened to) if the engine dies while open.
 */
export class NativeEngine extends EventEmitter implements FrameHandler {
  /** Engine ns / 1000 − offsetUs = nowUs() base. */
  readonly offsetUs: number;
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly pending = new Map<number, Pending>();
  private readonly relaySinks = new Map<number, RecordSink>();
  private readonly echoSinks = new Map<number, RecordSink>();
  private readonly sourceSinks = new Map<number, RecordSink>();
  private nextId = 1;
  private readonly frames = new FrameReader(this);
  /** A batch's records linked per sink (slot): first and last record, next record of the same sink. */
  private readonly batch = {
    heads: new Int32Array(SCRATCH_RECORDS),
    tails: new Int32Array(SCRATCH_RECORDS),
    next: new Int32Array(SCRATCH_RECORDS),
    slotOf: new Map<number, number>(),
  };
  private stderrTail = '';
  /** How it ended: "SIGKILL", "exit code 3" (null while it runs). */
  exitDetail: string | null = null;
  private closing = false;
  private exitError: EngineExitedError | null = null;
  private readonly exited: Promise<void>;
  private readyResolve: (() => void) | null = null;
  /** Records the engine had to drop because this side read too slowly (from the last `stats`). */
  recordsDropped = 0;
  /** The engine's CPU scheduling, from its ready event: "fifo:10", "nice:-10" or "normal". */
  scheduling = 'normal';
  /** The CPUs the engine is pinned to (RTPSLA_ENGINE_CPUS), from its ready event; "all" when not pinned. */
  cpus = 'all';
  /** Whether its sockets ask for kernel receive timestamps ("kernel"), from its ready event; "user" when turned off. */
  timestamps: 'kernel' | 'user' = 'kernel';
  /** Datagrams received with a kernel receive time, and stamped with the read time instead (from the last `stats`). */
  timestampCounts = {kernel: 0, user: 0};

  private constructor(opts: NativeEngineOptions) {
    super();
    this.offsetUs = Number(process.hrtime.bigint()) / 1000 - performance.now() * 1000;
    this.child = spawn(opts.binaryPath, [], {stdio: ['pipe', 'pipe', 'pipe'], env: {...process.env, ...opts.env}});
    this.child.stdout.on('data', (chunk: Buffer) => this.frames.push(chunk));
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-500);
    });
    this.child.stdin.on('error', () => undefined); // EPIPE after exit: reported through 'exit'
    this.exited = new Promise((resolve) => {
      const onGone = (code: number | null, signal: NodeJS.Signals | null, err?: Error): void => {
        if (this.exitError !== null) return;
        const detail = err ? err.message : signal ? `signal ${signal}` : `exit code ${code}`;
        this.exitDetail = err ? err.message : signal ?? `exit code ${code}`;
        const tail = this.stderrTail.trim();
        this.exitError = new EngineExitedError(code ?? 1, tail ? `${detail}: ${tail.split('\n').at(-1)}` : detail);
        for (const p of this.pending.values()) p.reject(this.exitError);
        this.pending.clear();
        if (!this.closing && this.listenerCount('error') > 0) this.emit('error', this.exitError);
        this.emit('exit', this.closing ? null : this.exitError);
        resolve();
      };
      this.child.once('exit', (code, signal) => onGone(code, signal));
      this.child.once('error', (err) => onGone(null, null, err));
    });
  }

  /** Spawn the engine and wait for its ready event; rejects (EngineExitedError) if it does not start. */
  static async start(opts: NativeEngineOptions): Promise<NativeEngine> {
    const engine = new NativeEngine(opts);
    const ready = new Promise<void>((resolve) => {
      engine.readyResolve = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineExitedError(1, 'no ready event')), opts.startTimeoutMs ?? 5000);
    });
    const exit = engine.exited.then(() => {
      throw engine.exitError ?? new EngineExitedError(1, 'exited before ready');
    });
    try {
      await Promise.race([ready, exit, timeout]);
    } catch (err) {
      await engine.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return engine;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitError === null && !this.closing;
  }

  /** Call `listener` with how it ended ("SIGKILL", "exit code 3") if the engine dies while open (not after close()). */
  onExit(listener: (detail: string) => void): void {
    this.on('exit', (err: Error | null) => {
      if (err !== null) listener(this.exitDetail ?? 'unknown');
    });
  }

  /** Convert an engine CLOCK_MONOTONIC time (ns) to the nowUs() base. */
  toNowUs(monoNs: number): number {
    return monoNs / 1000 - this.offsetUs;
  }

  /** Send a command; resolves with its reply, rejects with EngineCommandError or EngineExitedError. */
  command(cmd: string, args: Readonly<Record<string, string | number | boolean>> = {}): Promise<EngineReply> {
    if (this.exitError !== null) return Promise.reject(this.exitError);
    if (this.closing) return Promise.reject(new EngineExitedError(0, 'closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {command: cmd, resolve, reject});
      this.child.stdin.write(JSON.stringify({...args, id, cmd}) + '\n');
    });
  }

  async stats(): Promise<EngineStats> {
    const r = (await this.command('stats')) as unknown as EngineStats;
    this.recordsDropped = r.recordsDropped;
    this.timestampCounts = {kernel: r.tsKernel ?? 0, user: r.tsUser ?? 0};
    return r;
  }

  /** Route records of relay `relayId` (or echo `echoId`) to `sink` until unregistered. */
  registerRelay(relayId: number, sink: RecordSink): void {
    this.relaySinks.set(relayId, sink);
  }

  unregisterRelay(relayId: number): void {
    this.relaySinks.delete(relayId);
  }

  registerEcho(echoId: number, sink: RecordSink): void {
    this.echoSinks.set(echoId, sink);
  }

  unregisterEcho(echoId: number): void {
    this.echoSinks.delete(echoId);
  }

  /** Route records of sim source `sourceId` (kinds SourceSent…SourceMalformed) to `sink`. */
  registerSource(sourceId: number, sink: RecordSink): void {
    this.sourceSinks.set(sourceId, sink);
  }

  unregisterSource(sourceId: number): void {
    this.sourceSinks.delete(sourceId);
  }

  /** Stop the engine: close its stdin (it exits), kill it if it does not. Idempotent. */
  async close(): Promise<void> {
    if (this.exitError !== null) return;
    this.closing = true;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(timer);
  }

  // ---- frames (FrameHandler: called by this.frames in stream order) ------------------------------

  onTextFrame(type: FrameType.Reply | FrameType.Event, text: string): void {
    if (type === FrameType.Reply) this.onReply(text);
    else this.onEvent(text);
  }

  private onReply(text: string): void {
    let r: {id?: number; ok?: boolean; error?: string; message?: string};
    try {
      r = JSON.parse(text) as typeof r;
    } catch {
      return;
    }
    const p = r.id !== undefined ? this.pending.get(r.id) : undefined;
    if (p === undefined) return;
    this.pending.delete(r.id as number);
    if (r.ok === true) p.resolve(r as EngineReply);
    else p.reject(new EngineCommandError(p.command, r.error ?? 'EIO', r.message ?? ''));
  }

  private onEvent(text: string): void {
    let ev: {event?: string; scheduling?: unknown; cpus?: unknown; timestamps?: unknown};
    try {
      ev = JSON.parse(text) as typeof ev;
    } catch {
      return;
    }
    if (ev.event === 'ready' && this.readyResolve !== null) {
      if (typeof ev.scheduling === 'string') this.scheduling = ev.scheduling;
      if (typeof ev.cpus === 'string') this.cpus = ev.cpus;
      if (ev.timestamps === 'user') this.timestamps = 'user';
      this.readyResolve();
      this.readyResolve = null;
    }
  }

  /**
   * Hand each record to the sink registered for its relay, echo or source (FrameReader's views,
   * host order), one sink's records after another: a batch holds about 10 records of each of
   * hundreds of calls, and taking them call by call keeps a call's meter in cache for all of
   * them. Each sink still gets its records in the engine's order.
   */
  onRecordViews(v: RecordViews, count: number): void {
    const {u8, u32} = v;
    const {heads, tails, next, slotOf} = this.batch;
    slotOf.clear();
    let slots = 0;
    for (let i = 0; i < count; i++) {
      const w = i * RECORD_WORDS;
      const kind = u8[w * 4 + 4];
      const key = u32[w] * 4 + (kind <= RecordKind.SendError ? 0 : kind === RecordKind.Echo ? 1 : 2);
      let s = slotOf.get(key);
      next[i] = -1;
      if (s === undefined) {
        s = slots++;
        slotOf.set(key, s);
        heads[s] = i;
      } else {
        next[tails[s]] = i;
      }
      tails[s] = i;
    }
    for (let s = 0; s < slots; s++) {
      const first = heads[s] * RECORD_WORDS;
      const kind = u8[first * 4 + 4];
      const id = u32[first];
      const sink = kind <= RecordKind.SendError ? this.relaySinks.get(id) : kind === RecordKind.Echo ? this.echoSinks.get(id) : this.sourceSinks.get(id);
      if (sink === undefined) continue;
      for (let i = heads[s]; i >= 0; i = next[i]) this.dispatch(sink, v, i * RECORD_WORDS);
    }
  }

  private dispatch(sink: RecordSink, v: RecordViews, w: number): void {
    const {u8, u16, u32, i32} = v;
    const offsetUs = this.offsetUs;
    const tRecvNs = u32[w + 5] + i32[w + 6] * TWO_POW_32;
    const tSentNs = u32[w + 7] + i32[w + 8] * TWO_POW_32;
    sink.onRecord(
      u8[w * 4 + 4] as RecordKind,
      u8[w * 4 + 6],
      u8[w * 4 + 5],
      u16[w * 2 + 4],
      u32[w + 3],
      u32[w + 4],
      u16[w * 2 + 5],
      tRecvNs / 1000 - offsetUs,
      tSentNs === 0 ? -1 : tSentNs / 1000 - offsetUs,
      i32[w + 9],
    );
  }
}
