/**
 * A stand-in echo for the garbage-datagrams scenario, owned by the fault suite so it can send from
 * the echo's own address: every RTP v2 datagram goes straight back to its sender; what is not RTP
 * is counted (it would have been forwarded by serve) and not echoed. `sendMalformed` sends non-RTP
 * datagrams from the same socket, i.e. from the address serve takes for the echo's.
 */
import {createSocket, type Socket} from 'node:dgram';
import {newRtpPacket, parseRtp, RtpParse} from '../rtp/packet.js';

/** `count` datagrams no RTP parser takes: too short, version 0, version 1 (varied sizes). */
export function malformedDatagrams(count: number): Buffer[] {
  return Array.from({length: count}, (_, i) => {
    const b = Buffer.alloc(i % 3 === 0 ? 4 + (i % 8) : 12 + ((i * 13) % 160), 0xa5);
    b[0] = i % 3 === 1 ? 0x00 : 0x40;
    return b;
  });
}

export class Reflector {
  /** RTP datagrams received (and echoed). */
  packetsIn = 0;
  /** Datagrams received that are not RTP v2: reaching here, they were forwarded by serve. */
  malformedIn = 0;
  private readonly pkt = newRtpPacket();

  private constructor(
    private readonly sock: Socket,
    readonly port: number,
  ) {
    sock.on('message', (msg, rinfo) => {
      if (parseRtp(msg, this.pkt) !== RtpParse.Ok) {
        this.malformedIn++;
        return;
      }
      this.packetsIn++;
      sock.send(msg, rinfo.port, rinfo.address);
    });
    sock.on('error', () => undefined);
  }

  static async start(): Promise<Reflector> {
    const sock = createSocket({type: 'udp4', recvBufferSize: 4 << 20});
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, '127.0.0.1', () => resolve());
    });
    return new Reflector(sock, sock.address().port);
  }

  /** Send `perPort` malformed datagrams to each of `ports` on 127.0.0.1; resolves with how many went out. */
  async sendMalformed(ports: number[], perPort: number): Promise<number> {
    const bufs = malformedDatagrams(perPort);
    const sent = await Promise.all(
      ports.flatMap((port) => bufs.map((b) => new Promise<boolean>((r) => this.sock.send(b, port, '127.0.0.1', (err) => r(!err))))),
    );
    return sent.filter(Boolean).length;
  }

  close(): void {
    try {
      this.sock.close();
    } catch {
      // already closed
    }
  }
}
