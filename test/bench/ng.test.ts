import {createSocket, type Socket} from 'node:dgram';
import {bdecode, bencode, type BValue} from '../../src/bench/rtpengine/bencode.js';
import {NgClient, NgError, formatNgMessage, parseNgMessage} from '../../src/bench/rtpengine/ng.js';
import {audioSdp, sdpAudioEndpoint} from '../../src/bench/rtpengine/sdp.js';

describe('ng message framing', () => {
  test('is "<cookie> <bencoded dictionary>" both ways', () => {
    expect(formatNgMessage('5323_1', {command: 'ping'}).toString()).toBe('5323_1 d7:command4:pinge');
    expect(parseNgMessage(Buffer.from('5323_1 d6:result4:ponge'))).toEqual({cookie: '5323_1', body: {result: 'pong'}});
    expect(() => parseNgMessage(Buffer.from('d6:result4:ponge'))).toThrow(NgError);
  });
});

/** A stand-in for rtpengine's ng port on 127.0.0.1: `answer` decides each reply (null = stay silent). */
async function fakeDaemon(answer: (req: {[k: string]: BValue}, nth: number) => {[k: string]: BValue} | null): Promise<{port: number; socket: Socket; seen: Array<{cookie: string; req: {[k: string]: BValue}}>}> {
  const socket = createSocket('udp4');
  const seen: Array<{cookie: string; req: {[k: string]: BValue}}> = [];
  socket.on('message', (msg, from) => {
    const sp = msg.indexOf(0x20);
    const cookie = msg.toString('ascii', 0, sp);
    const req = bdecode(msg.subarray(sp + 1)) as {[k: string]: BValue};
    seen.push({cookie, req});
    const reply = answer(req, seen.length);
    if (reply) socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(reply)]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return {port: socket.address().port, socket, seen};
}

describe('NgClient against a fake ng port', () => {
  const closers: Array<() => void> = [];
  afterEach(() => {
    for (const c of closers.splice(0)) c();
  });

  test('sends the command with its arguments and resolves with the reply of the same cookie', async () => {
    const d = await fakeDaemon((req): {[k: string]: BValue} => (req.command === 'ping' ? {result: 'pong'} : {result: 'ok', sdp: `echoed ${String(req['call-id'])}`}));
    closers.push(() => d.socket.close());
    const ng = new NgClient({host: '127.0.0.1', port: d.port, timeoutMs: 500, attempts: 2});
    closers.push(() => ng.close());
    await expect(ng.ping()).resolves.toBe(true);
    await expect(ng.request('offer', {'call-id': 'c7', 'from-tag': 'echo'})).resolves.toEqual({result: 'ok', sdp: 'echoed c7'});
    expect(d.seen.map((s) => s.req)).toEqual([{command: 'ping'}, {command: 'offer', 'call-id': 'c7', 'from-tag': 'echo'}]);
    expect(new Set(d.seen.map((s) => s.cookie)).size).toBe(2); // one cookie per request
  });

  test('rejects with rtpengine\'s error-reason', async () => {
    const d = await fakeDaemon(() => ({result: 'error', 'error-reason': 'Unknown call-id'}));
    closers.push(() => d.socket.close());
    const ng = new NgClient({host: '127.0.0.1', port: d.port, timeoutMs: 500, attempts: 1});
    closers.push(() => ng.close());
    await expect(ng.request('delete', {'call-id': 'nope'})).rejects.toThrow('ng: Unknown call-id');
  });

  test('sends the same cookie again when a request goes unanswered, and gives up after the attempts', async () => {
    const d = await fakeDaemon((_req, nth) => (nth === 2 ? {result: 'ok'} : null));
    closers.push(() => d.socket.close());
    const ng = new NgClient({host: '127.0.0.1', port: d.port, timeoutMs: 100, attempts: 5});
    closers.push(() => ng.close());
    await expect(ng.request('answer', {'call-id': 'c1'})).resolves.toEqual({result: 'ok'});
    // only the second copy is answered (a slow machine may send a third before that reply lands)
    expect(d.seen.length).toBeGreaterThanOrEqual(2);
    expect(new Set(d.seen.map((s) => s.cookie)).size).toBe(1);

    const silent = await fakeDaemon(() => null);
    closers.push(() => silent.socket.close());
    const ng2 = new NgClient({host: '127.0.0.1', port: silent.port, timeoutMs: 30, attempts: 2});
    closers.push(() => ng2.close());
    await expect(ng2.request('query', {'call-id': 'c1'})).rejects.toThrow(/no reply to "query" .* after 2 × 30 ms/);
    expect(silent.seen).toHaveLength(2);
  });
});

describe('SDP for rtpengine', () => {
  test('one plain RTP/AVP audio stream in the externalMedia format', () => {
    const sdp = audioSdp({address: '127.0.0.1', port: 4000, format: 'slin16', sessionId: 9});
    expect(sdp.split('\r\n')).toEqual([
      'v=0', 'o=- 9 1 IN IP4 127.0.0.1', 's=rtpsla-bench', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 118', 'a=rtpmap:118 L16/16000', 'a=ptime:20', 'a=sendrecv', '',
    ]);
    expect(audioSdp({address: '127.0.0.1', port: 4000, format: 'ulaw', sessionId: 1})).toContain('m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000');
    expect(() => audioSdp({address: '127.0.0.1', port: 4000, format: 'opus', sessionId: 1})).toThrow(RangeError);
  });

  test('reads the audio endpoint from rtpengine\'s rewritten SDP (media-level c= over the session one)', () => {
    // as rtpengine 10.5 answered an offer in this bench
    const offer = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=rtpsla-bench\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 41000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=rtcp:41001\r\na=ptime:20\r\n';
    expect(sdpAudioEndpoint(offer)).toEqual({address: '127.0.0.1', port: 41000});
    const mediaLevel = 'v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 5000 RTP/AVP 96\r\nc=IN IP4 10.0.0.9\r\nm=audio 6000 RTP/AVP 0\r\nc=IN IP4 127.0.0.2\r\n';
    expect(sdpAudioEndpoint(mediaLevel)).toEqual({address: '127.0.0.2', port: 6000});
    expect(() => sdpAudioEndpoint('v=0\r\nm=audio 6000 RTP/AVP 0\r\n')).toThrow(/no IPv4 audio endpoint|without an IPv4 audio endpoint/);
  });
});
