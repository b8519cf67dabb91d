/**
 * Linux /proc readers for the benchmark: CPU time, RSS, open handles of a process, and the
 * host's UDP error counters. Linux only (the benchmark says so when /proc is missing).
 */
import {existsSync, readFileSync, readdirSync} from 'node:fs';
import {clockTicksPerSec} from '../metrics/host.js';

export function hasProc(): boolean {
  return existsSync('/proc/self/stat');
}

/** utime + stime of `pid` in µs (0 when the process is gone). */
export function cpuTimeUs(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may contain spaces: fields after the last ')' are fixed
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); utime is field 14, stime field 15
    const ticks = Number(rest[11]) + Number(rest[12]);
    return (ticks * 1e6) / clockTicksPerSec();
  } catch {
    return 0;
  }
}

/** VmRSS of `pid` in bytes (0 when the process is gone). */
export function rssBytes(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Open file descriptors (sockets, timers, pipes…) of `pid`; 0 when it is gone. */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

export interface UdpCounters {
  inDatagrams: number;
  inErrors: number;
  rcvbufErrors: number;
  sndbufErrors: number;
}

/** The `Udp:` line of /proc/net/snmp (host / network-namespace wide). */
export function udpCounters(): UdpCounters {
  const zero = {inDatagrams: 0, inErrors: 0, rcvbufErrors: 0, sndbufErrors: 0};
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    if (lines.length < 2) return zero;
    const names = lines[0].trim().split(/\s+/).slice(1);
    const values = lines[1].trim().split(/\s+/).slice(1).map(Number);
    const get = (n: string) => values[names.indexOf(n)] ?? 0;
    return {inDatagrams: get('InDatagrams'), inErrors: get('InErrors'), rcvbufErrors: get('RcvbufErrors'), sndbufErrors: get('SndbufErrors')};
  } catch {
    return zero;
  }
}

export function udpDelta(a: UdpCounters, b: UdpCounters): UdpCounters {
  return {
    inDatagrams: b.inDatagrams - a.inDatagrams,
    inErrors: b.inErrors - a.inErrors,
    rcvbufErrors: b.rcvbufErrors - a.rcvbufErrors,
    sndbufErrors: b.sndbufErrors - a.sndbufErrors,
  };
}

/** Direct children of `pid` (from every thread's `children` list); [] when it is gone. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    return out;
  }
  return out;
}

/** `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const all: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (all.includes(p)) continue;
    all.push(p);
    todo.push(...childPids(p));
  }
  return all;
}

/** The process name (`comm`, at most 15 characters); '' when it is gone. */
export function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
