import {createSocket} from 'node:dgram';
import {numericLookup, mediaSocketOptions} from '../../src/rtp/udp-lookup.js';

describe('numericLookup', () => {
  test('answers an IP literal synchronously, with its family', () => {
    const got: Array<[string, number]> = [];
    numericLookup('127.0.0.1', 4, (err, address, family) => {
      expect(err).toBeNull();
      got.push([address, family]);
    });
    numericLookup('::1', 6, (_e, address, family) => got.push([address, family]));
    expect(got).toEqual([
      ['127.0.0.1', 4],
      ['::1', 6],
    ]);
  });

  test('a name still resolves (asynchronously)', async () => {
    const answer = await new Promise<[string, number]>((resolve, reject) =>
      numericLookup('localhost', 4, (err, address, family) => (err ? reject(err) : resolve([address, family]))),
    );
    expect(answer).toEqual(['127.0.0.1', 4]);
  });

  test('a media socket sends to a numeric address', async () => {
    const rx = createSocket('udp4');
    const tx = createSocket(mediaSocketOptions('udp4'));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    const got = new Promise<string>((r) => rx.once('message', (m) => r(m.toString())));
    tx.send(Buffer.from('ping'), rx.address().port, '127.0.0.1');
    await expect(got).resolves.toBe('ping');
    rx.close();
    tx.close();
  });
});
