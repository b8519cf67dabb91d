/**
 * One probe RTP packet to the media server from a loopback socket, and up to `timeoutMs` for
 * anything back: an echo answers with the packet, a stream bot with its stream, a sink with
 * nothing. A closed port shows as the kernel's port unreachable (ECONNREFUSED on a connected
 * UDP socket).
 */
import {createSocket} from 'node:dgram';
import {isIPv6} from 'node:net';

export type MediaProbe = {answered: true; ms: number} | {answered: false; unreachable: boolean; error?: string};

/** A 20 ms ulaw frame of silence: RTP v2, PT 0, a marker-free header. */
function probePacket(): Buffer {
  const b = Buffer.alloc(12 + 160, 0xff);
  b[0] = 0x80;
  b[1] = 0x00;
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(160, 4);
  b.writeUInt32BE(0x72747073, 8); // "rtps"
  return b;
}

export function probeMediaServer(host: string, port: number, timeoutMs = 1000): Promise<MediaProbe> {
  const v6 = isIPv6(host);
  const socket = createSocket(v6 ? 'udp6' : 'udp4');
  return new Promise<MediaProbe>((resolve) => {
    const started = performance.now();
    let done = false;
    const finish = (r: MediaProbe): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(r);
    };
    const timer = setTimeout(() => finish({answered: false, unreachable: false}), timeoutMs);
    socket.on('message', () => finish({answered: true, ms: performance.now() - started}));
    socket.on('error', (err: NodeJS.ErrnoException) => finish({answered: false, unreachable: err.code === 'ECONNREFUSED', error: err.code ?? err.message}));
    // from a loopback socket when the media server is on this machine (as serve's relay is)
    const loopback = v6 ? host === '::1' : host.startsWith('127.');
    socket.bind(0, loopback ? host : undefined, () => {
      socket.connect(port, host, () => {
        socket.send(probePacket(), (err) => {
          if (err) finish({answered: false, unreachable: (err as NodeJS.ErrnoException).code === 'ECONNREFUSED', error: err.message});
        });
      });
    });
  });
}

/** `host:port` or `[v6]:port` as serve's /health says it. */
export function splitEchoAddress(text: string): {host: string; port: number} | null {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  return {host: m[1] ?? m[2], port: Number(m[3])};
}
