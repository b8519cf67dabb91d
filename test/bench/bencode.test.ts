import {BencodeError, bdecode, bencode} from '../../src/bench/rtpengine/bencode.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('bencode (rtpengine ng dictionaries)', () => {
  test('encodes strings, integers, lists and dictionaries to the golden bytes', () => {
    expect(bencode('spam').toString()).toBe('4:spam');
    expect(bencode('').toString()).toBe('0:');
    expect(bencode(42).toString()).toBe('i42e');
    expect(bencode(-3).toString()).toBe('i-3e');
    expect(bencode(0).toString()).toBe('i0e');
    expect(bencode(['a', 1, []]).toString()).toBe('l1:ai1elee');
    expect(bencode({command: 'ping'}).toString()).toBe('d7:command4:pinge');
  });

  test('writes dictionary keys in byte order (upper case before lower case), nested', () => {
    const offer = {sdp: 'v=0\r\n', 'from-tag': 'echo', replace: ['origin', 'session-connection'], 'call-id': 'c1', ICE: 'remove', flags: {b: 1, a: 2}};
    expect(bencode(offer).toString()).toBe(
      'd3:ICE6:remove7:call-id2:c15:flagsd1:ai2e1:bi1ee8:from-tag4:echo7:replacel6:origin18:session-connectione3:sdp5:v=0\r\ne',
    );
  });

  test('counts string lengths in UTF-8 bytes, not characters', () => {
    expect(bencode('µs')).toEqual(Buffer.concat([bytes('3:'), Buffer.from([0xc2, 0xb5, 0x73])]));
    expect(bdecode(bytes('3:µs'))).toBe('µs');
  });

  test('rejects what bencode cannot carry', () => {
    expect(() => bencode(1.5)).toThrow(BencodeError);
    expect(() => bencode(Number.MAX_SAFE_INTEGER + 2)).toThrow(BencodeError);
  });

  test('decodes rtpengine replies, keys in any order', () => {
    expect(bdecode(bytes('d6:result4:ponge'))).toEqual({result: 'pong'});
    // rtpengine does not sort its keys
    expect(bdecode(bytes('d3:sdp5:v=0\r\n6:result2:oke'))).toEqual({sdp: 'v=0\r\n', result: 'ok'});
    expect(bdecode(bytes('d6:result5:error12:error-reason15:Unknown call-ide'))).toEqual({result: 'error', 'error-reason': 'Unknown call-id'});
    expect(bdecode(bytes('d10:statisticsd15:totalstatisticsd19:relayedpackets_useri1180eeee'))).toEqual({statistics: {totalstatistics: {relayedpackets_user: 1180}}});
    expect(bdecode(bytes('li-7ei0el0:ee'))).toEqual([-7, 0, ['']]);
  });

  test('round-trips an ng offer', () => {
    const v = {command: 'offer', 'call-id': 'bench-1', 'from-tag': 'echo', sdp: 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n', SDES: ['off'], n: 7};
    expect(bdecode(bencode(v))).toEqual(v);
  });

  test.each([
    ['trailing bytes', 'i1ei2e'],
    ['leading zero', 'i03e'],
    ['negative zero', 'i-0e'],
    ['empty integer', 'ie'],
    ['unterminated integer', 'i12'],
    ['string past the end', '5:ab'],
    ['string length without colon', '12'],
    ['unterminated list', 'l1:a'],
    ['unterminated dictionary', 'd1:a1:b'],
    ['dictionary key not a string', 'di1ei2ee'],
    ['unknown type byte', 'x'],
    ['empty input', ''],
  ])('rejects malformed input: %s', (_name, text) => {
    expect(() => bdecode(bytes(text))).toThrow(BencodeError);
  });
});
