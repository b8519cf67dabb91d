/**
 * Containment for ari-client 2.2.0 / swagger-client 2.0.26 while they load the API:
 * - defect 2: swagger-client prints "This API is using a deprecated version of Swagger!" with
 *   console.log on every connect. captureStdout() diverts console.* and process.stdout.write for
 *   the duration of the connect only (stdout belongs to the command's output, e.g. `--json`), and
 *   hands what it caught to a sink (the logger, debug level, on stderr).
 * - defect 1: swagger-client's SwaggerApi.fail() calls the failure callback and then `throw`s the
 *   message as a bare string from inside an HTTP callback: an uncaught exception (wrong password,
 *   api-docs missing). patchSwaggerFail() removes the throw at its source (the failure callback
 *   already rejects ari-client's connect promise); guardUncaught() is the scoped backstop for any
 *   other throw from those libraries' callbacks during the connect window (e.g. JSON.parse of a
 *   broken api-docs answer) and is removed right afterwards.
 */
import {createRequire} from 'node:module';
import {format} from 'node:util';

type Sink = (text: string, via: string) => void;

const sinks: Sink[] = [];
let saved:
  | {
      log: typeof console.log;
      info: typeof console.info;
      debug: typeof console.debug;
      warn: typeof console.warn;
      write: typeof process.stdout.write;
    }
  | undefined;

/**
 * Divert console.log/info/debug/warn and process.stdout.write to `sink` until the returned
 * function is called. Nested/concurrent captures are reference-counted; the innermost sink wins.
 */
export function captureStdout(sink: Sink): () => void {
  sinks.push(sink);
  if (!saved) {
    saved = {log: console.log, info: console.info, debug: console.debug, warn: console.warn, write: process.stdout.write};
    const route = (via: string, text: string): void => {
      const s = sinks[sinks.length - 1];
      if (!s) return;
      try {
        s(text.replace(/\s+$/, ''), via);
      } catch {
        // a failing sink must not break the library that printed
      }
    };
    console.log = (...args: unknown[]) => route('console.log', format(...args));
    console.info = (...args: unknown[]) => route('console.info', format(...args));
    console.debug = (...args: unknown[]) => route('console.debug', format(...args));
    console.warn = (...args: unknown[]) => route('console.warn', format(...args));
    process.stdout.write = ((chunk: unknown, encOrCb?: unknown, cb?: unknown): boolean => {
      route('stdout', typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
      const done = typeof encOrCb === 'function' ? encOrCb : cb;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    }) as typeof process.stdout.write;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const i = sinks.lastIndexOf(sink);
    if (i >= 0) sinks.splice(i, 1);
    if (sinks.length === 0 && saved) {
      console.log = saved.log;
      console.info = saved.info;
      console.debug = saved.debug;
      console.warn = saved.warn;
      process.stdout.write = saved.write;
      saved = undefined;
    }
  };
}

/** Run `fn` with stdout diverted to `sink`; restored afterwards, also when `fn` throws. */
export async function withStdoutCaptured<T>(sink: Sink, fn: () => Promise<T>): Promise<T> {
  const release = captureStdout(sink);
  try {
    return await fn();
  } finally {
    release();
  }
}

const LIBRARY_FRAME = /node_modules[\\/](ari-client|swagger-client|shred|request|backoff-func|bluebird)[\\/]/;

/** Does this uncaught exception come from ari-client or the libraries it drives? */
export function isAriClientFault(err: unknown): boolean {
  if (typeof err === 'string') return true; // swagger-client throws bare strings
  if (err instanceof Error && typeof err.stack === 'string') {
    // The first frames tell where it was thrown; a listener of ours further up is not theirs.
    const frames = err.stack.split('\n').slice(1, 4).join('\n');
    return LIBRARY_FRAME.test(frames);
  }
  return false;
}

/**
 * Until the returned function is called, uncaught exceptions that `claim` accepts go to
 * `onClaimed` instead of killing the process. Anything else keeps Node's default behaviour
 * (rethrown on the next tick once this guard is gone) unless the process has other handlers.
 */
export function guardUncaught(claim: (err: unknown) => boolean, onClaimed: (err: unknown) => void): () => void {
  const handler = (err: unknown): void => {
    if (claim(err)) {
      onClaimed(err);
      return;
    }
    if (process.listenerCount('uncaughtException') > 1) return; // someone else handles it
    release();
    process.nextTick(() => {
      throw err;
    });
  };
  let released = false;
  function release(): void {
    if (released) return;
    released = true;
    process.removeListener('uncaughtException', handler);
  }
  process.on('uncaughtException', handler);
  return release;
}

let swaggerPatched = false;

/** Make swagger-client's SwaggerApi.fail stop throwing (its failure callback already reports). */
export function patchSwaggerFail(): void {
  if (swaggerPatched) return;
  swaggerPatched = true;
  // Resolve swagger-client the way ari-client does, so it is the very module instance it uses.
  const requireFromAriClient = createRequire(createRequire(import.meta.url).resolve('ari-client'));
  const swagger = requireFromAriClient('swagger-client') as {
    SwaggerApi?: {prototype: {fail?: (message: unknown) => void; failure?: (message: unknown) => void}};
  };
  const proto = swagger.SwaggerApi?.prototype;
  if (!proto || typeof proto.fail !== 'function') return;
  proto.fail = function (this: {failure?: (message: unknown) => void}, message: unknown): void {
    this.failure?.(message);
  };
}
