/**
 * Junk datagrams for the garbage-datagrams scenario, sent from a worker thread: the suite's own
 * stand-in echo (reflector.ts) runs on the main thread and must keep echoing on time while the
 * junk goes out.
 */
import {createSocket} from 'node:dgram';
import {Worker} from 'node:worker_threads';

/** Send `total` junk datagrams (random bytes and RTP-looking headers) round-robin to `ports` on 127.0.0.1. */
export async function sprayGarbage(ports: number[], total: number): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const bufs = Array.from({length: 64}, (_, i) => {
    const b = Buffer.alloc(12 + (i * 7) % 200);
    for (let k = 0; k < b.length; k++) b[k] = (i * 31 + k * 17) & 0xff;
    if (i % 2 === 0) {
      b[0] = 0x80; // RTP v2, far-ahead sequence numbers
      b.writeUInt16BE((i * 4099) & 0xffff, 2);
    }
    return b;
  });
  let sent = 0;
  while (sent < total) {
    const batch = Math.min(500, total - sent);
    await Promise.all(
      Array.from({length: batch}, (_, k) => new Promise<void>((r) => sock.send(bufs[(sent + k) % bufs.length], ports[(sent + k) % ports.length], '127.0.0.1', () => r()))),
    );
    sent += batch;
  }
  sock.close();
  return sent;
}

/** sprayGarbage in a worker thread (spray-worker.js); resolves with how many were sent. */
export function sprayInWorker(ports: number[], total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./spray-worker.js', import.meta.url), {workerData: {ports, total}});
    w.once('message', (n: number) => resolve(n));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the junk worker exited ${code}`));
    });
  });
}
