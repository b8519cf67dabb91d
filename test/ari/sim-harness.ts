import {once} from 'node:events';
import {createSocket, type Socket} from 'node:dgram';
import {startSim} from '../../src/sim/index.js';
import type {AriConnection, AriConnectionEvents} from '../../src/ari/index.js';

export const SIM_USER = 'sim-user';
export const SIM_PASS = 'sim-secret-pass';

export interface TestSim {
  url: string;
  /** POST /_sim/faults with `body`. */
  fault(body: unknown): Promise<void>;
  close(): Promise<void>;
}

/** The real simulator, in-process on a free port. */
export async function startTestSim(options: Omit<Parameters<typeof startSim>[0], 'port' | 'user' | 'pass'> = {}): Promise<TestSim> {
  const sim = await startSim({host: '127.0.0.1', answerDelayMs: 50, ...options, port: 0, user: SIM_USER, pass: SIM_PASS});
  const url = sim.url.replace(/\/+$/, '');
  return {
    url,
    async fault(body) {
      const res = await fetch(`${url}/_sim/faults`, {
        method: 'POST',
        headers: {'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(`${SIM_USER}:${SIM_PASS}`).toString('base64')},
        body: JSON.stringify(body),
      });
      await res.text();
      if (!res.ok) throw new Error(`POST /_sim/faults answered ${res.status}`);
    },
    close: () => sim.close(),
  };
}

/** Resolves with the first `type` event matching `pred`; rejects after `timeoutMs`. */
export function nextEvent<K extends keyof AriConnectionEvents>(
  conn: AriConnection,
  type: K,
  pred: (...args: AriConnectionEvents[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<AriConnectionEvents[K]> {
  return new Promise((resolve, reject) => {
    const emitter = conn as unknown as {on(t: string, f: (...a: unknown[]) => void): void; off(t: string, f: (...a: unknown[]) => void): void};
    const timer = setTimeout(() => {
      emitter.off(type as string, listener);
      reject(new Error(`no ${String(type)} event within ${timeoutMs} ms`));
    }, timeoutMs);
    function listener(...args: unknown[]): void {
      if (!pred(...(args as AriConnectionEvents[K]))) return;
      clearTimeout(timer);
      emitter.off(type as string, listener);
      resolve(args as AriConnectionEvents[K]);
    }
    emitter.on(type as string, listener);
  });
}

/** A UDP socket on 127.0.0.1 that counts RTP packets (the sim sends media to external_host once bridged). */
export async function rtpSink(): Promise<{socket: Socket; port: number; packets: () => number; close(): void}> {
  const socket = createSocket('udp4');
  let count = 0;
  socket.on('message', () => count++);
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {socket, port: socket.address().port, packets: () => count, close: () => socket.close()};
}
