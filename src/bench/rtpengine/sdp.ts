/**
 * The minimal SDP the bench gives rtpengine for one side of a call (one audio stream, plain
 * RTP/AVP, the externalMedia format), and the address/port rtpengine answers with.
 */
import {findFormat} from '../../rtp/formats.js';

export function audioSdp(o: {address: string; port: number; format: string; sessionId: number}): string {
  const f = findFormat(o.format);
  if (f === undefined) throw new RangeError(`no SDP mapping for format "${o.format}"`);
  const {payloadType: pt, sdpName: name, clockRateHz: rate} = f;
  return [
    'v=0',
    `o=- ${o.sessionId} 1 IN IP4 ${o.address}`,
    's=rtpsla-bench',
    `c=IN IP4 ${o.address}`,
    't=0 0',
    `m=audio ${o.port} RTP/AVP ${pt}`,
    `a=rtpmap:${pt} ${name}/${rate}`,
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** The media address and port of the first audio stream (media-level c= wins over the session's). */
export function sdpAudioEndpoint(sdp: string): {address: string; port: number} {
  let address: string | null = null;
  let port: number | null = null;
  let sessionLevel = true;
  let inAudio = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      if (port !== null) break;
      sessionLevel = false;
      const m = /^m=audio (\d+) /.exec(line);
      inAudio = m !== null;
      if (m) port = Number(m[1]);
    } else if (line.startsWith('c=')) {
      const c = /^c=IN IP4 (\S+)/.exec(line);
      if (c && (inAudio || sessionLevel)) address = c[1];
    }
  }
  if (address === null || port === null || port < 1 || port > 65535) throw new Error(`SDP without an IPv4 audio endpoint: ${JSON.stringify(sdp.slice(0, 200))}`);
  return {address, port};
}
