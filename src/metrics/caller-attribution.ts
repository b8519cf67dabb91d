/**
 * The join of the two sides' late frames, after the run, per call (docs/measurement.md "At the
 * caller"): a frame late at the caller whose RTP timestamp is among the relay's late frames was
 * already late there and counts under the relay's leg for it (`a` Asterisk up, `r` relay, `m` media
 * server); any other late frame became late on relay → Asterisk → caller (`asteriskBack`). Frames
 * lost at the caller beyond those the relay already missed (lost on the way to it or through the
 * media server) were lost on that same way back (`lostAfterRelay`). Pure.
 */
import type {CallerLateBy} from '../protocol/report.js';

/** The relay's late frames of one call (serve's record `lateFrames`). */
export interface RelayLateFrames {
  ts: readonly number[];
  leg: string;
  truncated: boolean;
}

export interface CallerAttributionInput {
  /** RTP timestamps of the frames late at the caller. */
  callerLateTs: readonly number[];
  /** Frames lost at the caller. */
  callerLost: number;
  /** The relay's late frames (undefined: serve did not list them). */
  relayLate: RelayLateFrames | undefined;
  /** Frames the relay already missed: lost at it (not back from the media server) plus gaps on Asterisk → relay. */
  relayLost: number;
}

export interface CallerAttribution {
  lateBy: CallerLateBy;
  lostAfterRelay: number;
  /** Late at the caller and listed late at the relay. */
  lateAtBoth: number;
  /** The relay's list was truncated: some frames counted as asteriskBack may have been late at the relay too. */
  relayListTruncated: boolean;
}

const LEG_KEYS: Readonly<Record<string, 'asterisk' | 'relay' | 'mediaServer'>> = {a: 'asterisk', r: 'relay', m: 'mediaServer'};

export function attributeCallerFrames(i: CallerAttributionInput): CallerAttribution {
  const legOf = new Map<number, string>();
  if (i.relayLate) for (let k = 0; k < i.relayLate.ts.length; k++) legOf.set(i.relayLate.ts[k], i.relayLate.leg.charAt(k));
  const lateBy: CallerLateBy = {asterisk: 0, relay: 0, mediaServer: 0, asteriskBack: 0};
  let lateAtBoth = 0;
  for (const ts of i.callerLateTs) {
    const key = LEG_KEYS[legOf.get(ts) ?? ''];
    if (key === undefined) {
      lateBy.asteriskBack++;
    } else {
      lateBy[key]++;
      lateAtBoth++;
    }
  }
  return {lateBy, lostAfterRelay: Math.max(0, i.callerLost - i.relayLost), lateAtBoth, relayListTruncated: i.relayLate?.truncated ?? false};
}

/** Add one call's attribution into the run's. */
export function addLateBy(into: CallerLateBy, from: CallerLateBy): void {
  into.asterisk += from.asterisk;
  into.relay += from.relay;
  into.mediaServer += from.mediaServer;
  into.asteriskBack += from.asteriskBack;
}
