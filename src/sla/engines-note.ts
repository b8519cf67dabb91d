/**
 * One note when an engine of the run did not get real-time scheduling or kernel receive
 * timestamps (`tool.engines`), naming the figure it weakens and how to grant it: the figures
 * are then still measured, but the instrument is noisier than it could be.
 */
import type {EngineRoleInfo, Report} from '../protocol/report.js';

type Role = 'relay' | 'echo' | 'caller' | 'sim';
const ROLES: readonly Role[] = ['relay', 'echo', 'caller', 'sim'];

function known(r: Report, role: Role): EngineRoleInfo | null {
  const e = r.tool.engines?.[role];
  return e !== undefined && 'engine' in e ? (e as EngineRoleInfo) : null;
}

function list(roles: string[]): string {
  return roles.length === 1 ? roles[0] : `${roles.slice(0, -1).join(', ')} and ${roles.at(-1)}`;
}

export function enginesNote(r: Report): string | null {
  const parts: string[] = [];
  const native = ROLES.filter((role) => known(r, role)?.engine === 'native');
  const notRealtime = native.filter((role) => !known(r, role)!.scheduling.startsWith('fifo:'));
  if (notRealtime.length > 0)
    parts.push(
      `the ${list(notRealtime.map((x) => `${x} (${known(r, x)!.scheduling})`))} engine${notRealtime.length > 1 ? 's' : ''} ran without real-time scheduling: the relay hold and the lateness figures include the OS's scheduling delays; grant it with sudo setcap cap_sys_nice=ep on the engine (rtpsla doctor names it)`,
    );
  const userTime = ROLES.filter((role) => {
    const t = known(r, role)?.timestamps;
    return t === 'user' || t === 'mixed';
  });
  if (userTime.length > 0)
    parts.push(
      `the ${list(userTime.map((x) => `${x} (${known(r, x)!.timestamps})`))} engine${userTime.length > 1 ? 's' : ''} took receive times in user space, not from the kernel: queueing in the socket is not seen in the relay hold and lateness (rtpsla doctor)`,
    );
  return parts.length > 0 ? parts.join('; ') : null;
}

/** Once per report: calls to which nothing came back because nothing listened at the media server's port. */
export function unreachableNote(r: Report): string | null {
  const calls = r.calls.filter((c) => (c.mediaServerUnreachable ?? 0) > 0 && c.packetsBack === 0);
  if (calls.length === 0) return null;
  const reports = calls.reduce((n, c) => n + (c.mediaServerUnreachable ?? 0), 0);
  return `${calls.length} of ${r.calls.length} calls got no packet back from the media server, and the kernel reported its port unreachable ×${reports}: is it running? (rtpsla doctor checks it)`;
}
