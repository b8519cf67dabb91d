import {spawn, type ChildProcess} from 'node:child_process';
import {createSocket} from 'node:dgram';
import {createServer} from 'node:net';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {NODE_FLAGS} from '../../src/runtime/gc.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'run.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run `rtpsla ARGS…` (the built binary) to completion. Kills it after `timeoutMs`. */
export function runCli(
  args: string[],
  opts: {env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string; input?: string} = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: {...process.env, NO_COLOR: '1', ...opts.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({code, signal, stdout, stderr});
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A long-running `rtpsla` child (sim, echo, serve…) with its output collected. */
export class CliProcess {
  /** Every child still running: test/helpers/after-all.ts stops leftovers so a test file never hangs jest. */
  static readonly live = new Set<CliProcess>();
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private exitPromise: Promise<{code: number | null; signal: NodeJS.Signals | null}>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [...NODE_FLAGS, BIN, ...args], {
      cwd: ROOT,
      env: {...process.env, NO_COLOR: '1', ...env},
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    CliProcess.live.add(this);
    this.exitPromise = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        CliProcess.live.delete(this);
        resolve({code, signal});
      }),
    );
  }

  /** Resolves when stdout+stderr matches `re`; rejects after `timeoutMs` or if the process exits. */
  async waitFor(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = (this.stdout + this.stderr).match(re);
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`process exited before ${re}: ${this.stderr.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; output: ${(this.stdout + this.stderr).slice(-2000)}`);
      await sleep(25);
    }
  }

  exited(): Promise<{code: number | null; signal: NodeJS.Signals | null}> {
    return this.exitPromise;
  }

  /** Send `signal` and wait for exit (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<{code: number | null; signal: NodeJS.Signals | null}> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exitPromise;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const r = await this.exitPromise;
    clearTimeout(timer);
    return r;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A TCP port free on 127.0.0.1 right now. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as {port: number}).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A UDP port free on 127.0.0.1 right now. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}
