import {spawn, type ChildProcess} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {NODE_FLAGS} from '../runtime/gc.js';

/** The rtpsla binary this process runs from (bin/run.js next to dist/). */
export const RTPSLA_BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

/** One `rtpsla <command>` child process whose ready line is awaited and whose output is kept. */
export class RtpslaChild {
  readonly name: string;
  readonly proc: ChildProcess;
  output = '';
  private readonly exited: Promise<number | null>;

  /** `executable`: run that program with `args` instead of `node rtpsla …` (the bench's rtpengine). */
  constructor(name: string, args: string[], env: NodeJS.ProcessEnv, executable?: string) {
    this.name = name;
    const [file, argv] = executable ? [executable, args] : [process.execPath, [...NODE_FLAGS, RTPSLA_BIN, ...args]];
    this.proc = spawn(file, argv, {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
    const keep = (d: Buffer) => {
      this.output += d.toString();
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
    };
    this.proc.stdout!.on('data', keep);
    this.proc.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => this.proc.on('close', (code) => resolve(code)));
  }

  /** Resolve with the first match of `re` in the child's output; reject if it exits or times out. */
  async ready(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.output.match(re);
      if (m) return m;
      if (this.proc.exitCode !== null || this.proc.signalCode !== null)
        throw new Error(`${this.name} exited before it was ready:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name} was not ready within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  tail(lines = 15): string {
    return this.output.trimEnd().split('\n').slice(-lines).map((l) => `  ${this.name}| ${l}`).join('\n');
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** How it exited ({code, signal}), or undefined when it is still running after `timeoutMs`. */
  async exitWithin(timeoutMs: number): Promise<{code: number | null; signal: NodeJS.Signals | null} | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([this.exited.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(timer);
    return done ? {code: this.proc.exitCode, signal: this.proc.signalCode} : undefined;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 8000): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Synchronous last resort (process 'exit' handler). */
  killNow(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}
