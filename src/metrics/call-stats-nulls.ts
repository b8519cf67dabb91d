/**
 * A figure with no sample is null with its reason, never 0: what a CallMeter's snapshot says of
 * the figures it could not measure, by the kind of media server (src/protocol/media-server.ts).
 * Also the one media error a meter can tell: under `echo`, a media server whose packets are
 * mostly not echoes of the caller's (a stream) would read as 100 % loss without a word.
 */
import {NO_RTT_REASON} from '../protocol/media-server.js';
import type {CallStats} from './call-stats-types.js';

/** Samples behind each percentile figure. */
export interface FigureSamples {
  lateness: number;
  rtt: number;
  upLateness: number;
  relayHold: number;
}

/** `echo`: more back packets that match no up packet than echoes of one: the media server is no echo. */
export function notEchoError(unmatchedBack: number): string {
  return `the media server sent ${unmatchedBack} packets that are not echoes of the caller's: is it a stream? run serve --media-server stream`;
}

/** Nothing came back, and the kernel said nothing listens where the relay sends: the call's error. */
export function unreachableError(at: string, reports: number): string {
  return `no packet came back from the media server ${at}; the kernel reported its port unreachable ×${reports}: is it running?`;
}

/** Null the figures of `s` that have no sample, each with its reason; sets `mediaError`. Returns `s`. */
export function figuresWithNulls(s: CallStats, n: FigureSamples, mediaServerAt = 'the media server'): CallStats {
  const why = s.nullReasons;
  const noUp = s.packetsUp === 0 ? 'no up packet received' : null;
  if (n.upLateness === 0) {
    s.upLatenessMs = null;
    why.upLatenessMs = noUp ?? 'no up packet measured';
  }
  if (n.relayHold === 0) {
    s.relayHoldMs = null;
    why.relayHoldMs = noUp ?? 'no packet forwarded';
  }
  const kind = s.mediaServer;
  let back: string;
  if (kind !== 'sink' && s.packetsUp > 0 && s.packetsBack === 0 && (s.mediaServerUnreachable ?? 0) > 0) {
    back = unreachableError(mediaServerAt, s.mediaServerUnreachable!);
    s.mediaError = back;
    if (kind === 'stream') {
      s.rttMs = null;
      why.rttMs = NO_RTT_REASON.stream;
    }
  } else if (kind === 'sink') {
    back = noUp ?? 'no up packet measured';
    s.rttMs = null;
    why.rttMs = NO_RTT_REASON.sink;
    s.jitterBackMs = null;
    why.jitterMs = NO_RTT_REASON.sink;
  } else if (kind === 'stream') {
    back = 'no packet came from the media server';
    s.rttMs = null;
    why.rttMs = NO_RTT_REASON.stream;
  } else if (s.unmatchedBack > s.packetsBack) {
    back = notEchoError(s.unmatchedBack);
    s.mediaError = back;
  } else {
    back = noUp ?? 'no packet came back from the media server (is it a sink? run serve --media-server sink)';
  }
  if (n.lateness === 0) {
    s.latenessMs = null;
    why.latenessMs = back;
  }
  if (kind !== 'stream' && kind !== 'sink' && n.rtt === 0) {
    s.rttMs = null;
    why.rttMs = back;
  }
  if (kind !== 'sink' && s.packetsBack === 0) {
    s.jitterBackMs = null;
    why.jitterMs = back;
  }
  return s;
}
