/**
 * The legs note `sla` prints under the table for each report that has the legs, docs/measurement.md: whose
 * lateness it was (the shares of `summary.lateBy`) and the relay's own hold as the instrument's
 * error bar. The verdict does not depend on it; it explains it.
 */
import type {Report} from '../protocol/report.js';

/** 27343 → "27 343". */
export function groupDigits(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** A share as a whole percent; a share above 0 that rounds to 0 reads "< 1 %". */
export function sharePercent(part: number, total: number): string {
  if (total <= 0 || part <= 0) return '0 %';
  const p = Math.round((part / total) * 100);
  return p === 0 ? '< 1 %' : `${p} %`;
}

function ms(x: number): string {
  return `${Number(x.toFixed(3))} ms`;
}

/**
 * "of 27 343 late packets, 91 % were already late arriving from Asterisk, 8 % came back late from
 * the media server, 1 % were held by the relay; relay hold p99.9 0.04 ms (native engine)".
 * Null for a report without legs (written before them).
 */
export function legsNote(report: Report): string | null {
  const s = report.summary;
  if (!s.lateBy && !s.relayHoldMs) return null;
  const parts: string[] = [];
  const by = s.lateBy;
  if (by) {
    const total = by.asterisk + by.relay + by.mediaServer;
    const judged = report.params.mediaServer === 'sink' ? s.packetsUp : s.packetsBack;
    if (total === 0 && judged === 0) {
      parts.push('no packet was judged (nothing came back)');
    } else if (total === 0) {
      parts.push('no late packets');
    } else {
      const shares = [
        {n: by.asterisk, text: 'were already late arriving from Asterisk'},
        {n: by.mediaServer, text: 'came back late from the media server'},
        {n: by.relay, text: 'were held by the relay'},
      ]
        .filter((x) => x.n > 0)
        .sort((a, b) => b.n - a.n)
        .map((x) => `${sharePercent(x.n, total)} ${x.text}`);
      parts.push(`of ${groupDigits(total)} late packet${total === 1 ? '' : 's'}, ${shares.join(', ')}`);
    }
  }
  if (s.upLatenessMs) parts.push(`arrival from Asterisk p99.9 ${ms(s.upLatenessMs.p999)}`);
  if (s.relayHoldMs) parts.push(`relay hold p99.9 ${ms(s.relayHoldMs.p999)} (${report.tool.engine ?? 'node'} engine)`);
  return parts.join('; ');
}
