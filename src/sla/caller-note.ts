/**
 * The caller note `sla` prints under the table for a report with the caller's side: of the frames
 * late at the caller, how many were already late at the relay (and on which leg) and how many
 * became late on relay → Asterisk → caller. The verdict does not depend on it; it explains it.
 */
import type {Report} from '../protocol/report.js';
import {groupDigits} from './legs-note.js';

/**
 * "of 212 frames late at the caller, 180 were already late at the relay (Asterisk up), 32 became
 * late on relay → Asterisk → caller". Null without a caller side.
 */
export function callerNote(report: Report): string | null {
  const c = report.summary.caller;
  if (!c) return null;
  if (c.late === 0) return c.received > 0 ? 'no frame was late at the caller' : null;
  const by = c.lateBy;
  const atRelay = by.asterisk + by.relay + by.mediaServer;
  const legs = [
    {n: by.asterisk, text: 'Asterisk up'},
    {n: by.relay, text: 'relay'},
    {n: by.mediaServer, text: 'media server'},
  ]
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n)
    .map((x) => (atRelay === x.n ? x.text : `${x.text} ${groupDigits(x.n)}`));
  const parts = [`of ${groupDigits(c.late)} frame${c.late === 1 ? '' : 's'} late at the caller`];
  parts.push(`${groupDigits(atRelay)} ${atRelay === 1 ? 'was' : 'were'} already late at the relay${legs.length > 0 ? ` (${legs.join(', ')})` : ''}`);
  parts.push(`${groupDigits(by.asteriskBack)} became late on relay → Asterisk → caller`);
  return parts.join(', ');
}
