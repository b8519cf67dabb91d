/**
 * One call's media through rtpengine: the sim's externalMedia sends to the port rtpengine gives
 * for the sim's side, rtpengine forwards to echo, echo returns to rtpengine's port for the echo's
 * side (echo answers to the source), rtpengine forwards back to the sim.
 *
 * The sim's own port is known only after externalMedia, which needs the target first, so the echo
 * side makes the offer (its SDP: echo address/port) and the sim side the answer (its SDP: the
 * externalMedia channel's UNICASTRTP_LOCAL_ADDRESS/PORT). The offer's rewritten SDP carries the
 * port the answerer (sim) sends to; the answer's, the port the offerer (echo) would send to (echo
 * replies to where the packets come from, which is that port).
 */
import type {MediaRoute} from '../../serve/media-leg.js';
import type {NgClient} from './ng.js';
import {audioSdp, sdpAudioEndpoint} from './sdp.js';

/**
 * Plain RTP/AVP in and out, no ICE/DTLS/SDES, SDP addresses taken as given (everything is on
 * 127.0.0.1; no received-from rewriting), origin and session c= replaced by rtpengine's.
 * No codec options: both sides offer the same single codec, so nothing is transcoded.
 */
export const NG_FLAGS = {
  ICE: 'remove',
  DTLS: 'off',
  SDES: ['off'],
  'transport-protocol': 'RTP/AVP',
  replace: ['origin', 'session-connection'],
  flags: ['trust-address'],
} as const;

const ECHO_TAG = 'echo';
const SIM_TAG = 'sim';

export class RtpengineRoute implements MediaRoute {
  private sessionId = 1;

  constructor(
    private readonly ng: NgClient,
    private readonly o: {echoHost: string; echoPort: number; format: string},
  ) {}

  async open(callId: string): Promise<{host: string; port: number}> {
    const sdp = audioSdp({address: this.o.echoHost, port: this.o.echoPort, format: this.o.format, sessionId: this.sessionId++});
    const r = await this.ng.request('offer', {'call-id': callId, 'from-tag': ECHO_TAG, sdp, ...clone(NG_FLAGS)});
    if (typeof r.sdp !== 'string') throw new Error('rtpengine offer: reply without sdp');
    const e = sdpAudioEndpoint(r.sdp);
    return {host: e.address, port: e.port};
  }

  async connect(callId: string, sim: {address: string; port: number}): Promise<void> {
    const sdp = audioSdp({address: sim.address, port: sim.port, format: this.o.format, sessionId: this.sessionId++});
    const r = await this.ng.request('answer', {'call-id': callId, 'from-tag': ECHO_TAG, 'to-tag': SIM_TAG, sdp, ...clone(NG_FLAGS)});
    if (typeof r.sdp !== 'string') throw new Error('rtpengine answer: reply without sdp');
    sdpAudioEndpoint(r.sdp); // a usable answer names the port echo's packets come back through
  }

  async close(callId: string): Promise<void> {
    await this.ng.request('delete', {'call-id': callId});
  }
}

function clone(flags: typeof NG_FLAGS): {[k: string]: string | string[]} {
  return Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, Array.isArray(v) ? [...(v as readonly string[])] : (v as string)]));
}
