/**
 * rtpengine (Debian `rtpengine-daemon`) as a child process of the bench: userspace forwarding
 * only (`--table=-1`, no kernel module), foreground, media on 127.0.0.1, the ng control protocol
 * on a UDP port of 127.0.0.1, warnings only on stderr. The bench never installs it: absent → the
 * path is skipped with a note.
 */
import {spawnSync} from 'node:child_process';
import {createSocket} from 'node:dgram';
import type {RtpslaChild} from '../../demo/children.js';
import {findExecutable} from '../../runtime/find-executable.js';
import type {ChildRegistry} from '../children.js';
import {NgClient} from './ng.js';
import {pinMediaThreads} from '../variants.js';

/** Where Debian puts it, then $PATH. */
export function findRtpengine(envPath = process.env.PATH ?? ''): string | null {
  return findExecutable('rtpengine', ['/usr/bin', '/usr/sbin'], envPath);
}

/** `rtpengine --version` writes `Version: 10.5.3.5-1` (on stderr). */
export function rtpengineVersion(executable: string): string | null {
  const r = spawnSync(executable, ['--version'], {encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe']});
  return /Version:\s*(\S+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? null;
}

/** rtpengine's thread scheduling in the bench: fifo (at the priority rtpsla's relay engine gets) or its own default. */
export const RTPENGINE_SCHEDULINGS = ['fifo', 'default'] as const;
export type RtpengineScheduling = (typeof RTPENGINE_SCHEDULINGS)[number];

export function rtpengineArgs(o: {ngPort: number; portMin: number; portMax: number; scheduling?: RtpengineScheduling; priority?: number}): string[] {
  return [
    '--config-file=none', // not /etc/rtpengine/rtpengine.conf
    '--table=-1', // userspace forwarding only, no kernel module
    '--foreground',
    '--log-stderr',
    '--log-level=4', // warnings and worse
    '--no-log-timestamps',
    '--interface=127.0.0.1',
    `--listen-ng=127.0.0.1:${o.ngPort}`,
    `--port-min=${o.portMin}`,
    `--port-max=${o.portMax}`,
    '--delete-delay=0', // a deleted call frees its ports at once
    // the real-time class and priority rtpsla's relay engine runs at: like for like, else its threads wait behind the FIFO sim and echo
    ...(o.scheduling === 'default' ? [] : ['--scheduling=fifo', `--priority=${o.priority ?? 10}`]),
  ];
}

/** A UDP port of 127.0.0.1 free right now (the kernel picks it). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface RunningRtpengine {
  child: RtpslaChild;
  ng: NgClient;
  args: string[];
  pid: number;
  /** Its threads pinned (by name), [] when not pinned. */
  threadsPinned: string[];
}

const READY_MS = 10_000;

/**
 * Start the daemon and wait until it answers an ng `ping`. With `pin` (taskset and a CPU list)
 * its media threads (src/bench/variants.ts) are then pinned to those CPUs, the others left free.
 */
export async function startRtpengine(
  reg: ChildRegistry,
  executable: string,
  portRange: {min: number; max: number},
  pin: {taskset: string; cpus: string} | null = null,
  scheduling: RtpengineScheduling = 'fifo',
  priority = 10,
): Promise<RunningRtpengine> {
  const ngPort = await freeUdpPort();
  const args = rtpengineArgs({ngPort, portMin: portRange.min, portMax: portRange.max, scheduling, priority});
  const child = reg.spawnExecutable('rtpengine', executable, args);
  const ng = new NgClient({host: '127.0.0.1', port: ngPort, timeoutMs: 200, attempts: 1});
  const deadline = Date.now() + READY_MS;
  try {
    for (;;) {
      if (child.proc.exitCode !== null || child.proc.signalCode !== null) throw new Error(`rtpengine exited before it answered ng ping:\n${child.tail()}`);
      if (await ng.ping().catch(() => false)) break;
      if (Date.now() > deadline) throw new Error(`rtpengine did not answer ng ping on 127.0.0.1:${ngPort} within ${READY_MS} ms:\n${child.tail()}`);
    }
  } catch (err) {
    ng.close();
    await reg.stop([child]);
    throw err;
  }
  ng.close();
  const threadsPinned = pin ? [...new Set(pinMediaThreads(child.proc.pid!, pin.taskset, pin.cpus))] : [];
  // setup traffic: a longer timeout per attempt and retries (offer/answer/delete are idempotent per cookie and call)
  return {child, ng: new NgClient({host: '127.0.0.1', port: ngPort, timeoutMs: 2000, attempts: 3}), args, pid: child.proc.pid!, threadsPinned};
}

/** rtpengine's count of packets it relayed in userspace since it started (both directions). */
export async function relayedPackets(ng: NgClient): Promise<number | null> {
  try {
    const r = await ng.request('statistics');
    const stats = r.statistics as {totalstatistics?: {relayedpackets_user?: unknown}} | undefined;
    const v = stats?.totalstatistics?.relayedpackets_user;
    return typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}
