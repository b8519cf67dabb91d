/** The run's stamp and the machine it ran on, as bench and soak results record them. */
import {cpus, loadavg, release, totalmem} from 'node:os';
import {clockTicksPerSec} from '../metrics/host.js';
import {NODE_FLAGS, hasNodeFlags} from '../runtime/gc.js';
import type {BenchResult} from './types.js';
import {round} from './window.js';

/** `20261122-041455`: UTC, sortable, a file name. */
export function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export function machineInfo(): BenchResult['machine'] {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    totalMemBytes: totalmem(),
    node: process.version,
    platform: process.platform,
    kernel: release(),
    loadAvgAtStart: loadavg().map((v) => round(v, 2)),
    clockTicksPerSec: clockTicksPerSec(),
    nodeFlags: NODE_FLAGS,
    harnessHasNodeFlags: hasNodeFlags(),
  };
}
