import {checkAri} from '../../src/ari/check.js';
import {AriHttpError, AriRest} from '../../src/ari/rest.js';
import {addChannelWhenInStasis} from '../../src/ari/retry.js';
import {ConnectError} from '../../src/errors.js';
import {freeTcpPort} from '../helpers/cli.js';
import {startFakeHttp, type FakeHttp} from './fake-http.js';

const SECRET = 's3cret-pass';
const goodAuth = 'Basic ' + Buffer.from(`u:${SECRET}`).toString('base64');

describe('checkAri', () => {
  let fake: FakeHttp;
  let infoStatus = 200;
  beforeAll(async () => {
    fake = await startFakeHttp((req) => {
      if (req.authorization !== goodAuth) return {status: 401, body: {message: 'Authentication required'}};
      if (req.path !== '/ari/asterisk/info') return {status: 404, body: {message: 'not found'}};
      if (infoStatus !== 200) return {status: infoStatus, body: {message: 'Internal Server Error'}};
      return {status: 200, body: {system: {version: '22.10.1', entity_id: '02:fc:00:00:00:01'}}};
    });
  });
  afterAll(() => fake.close());
  afterEach(() => (infoStatus = 200));

  it('returns the Asterisk version', async () => {
    const r = await checkAri(fake.url, 'u', SECRET);
    expect(r.version).toBe('22.10.1');
    expect(r.isSim).toBe(false);
    expect(r.raw.system?.entity_id).toBe('02:fc:00:00:00:01');
  });

  it('401 → ConnectError naming the user, never the password', async () => {
    const err = await checkAri(fake.url, 'u', 'wrong-pass').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).exitCode).toBe(2);
    expect((err as Error).message).toBe(`ARI at ${fake.url} rejected the credentials for user 'u' (401)`);
    expect((err as Error).message).not.toContain('wrong-pass');
  });

  it('other non-2xx → ConnectError naming the status', async () => {
    infoStatus = 503;
    await expect(checkAri(fake.url, 'u', SECRET)).rejects.toThrow(/answered GET \/ari\/asterisk\/info with 503/);
  });

  it('unreachable → ConnectError "cannot reach ARI at <url>: <reason>"', async () => {
    const port = await freeTcpPort();
    await expect(checkAri(`http://127.0.0.1:${port}`, 'u', SECRET, {timeoutMs: 2000})).rejects.toThrow(
      new ConnectError(`cannot reach ARI at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`),
    );
  });

  it('strips user-info from the URL in messages', async () => {
    const port = await freeTcpPort();
    const err = (await checkAri(`http://u:${SECRET}@127.0.0.1:${port}/`, 'u', SECRET, {timeoutMs: 2000}).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^cannot reach ARI at http:\/\/127\.0\.0\.1:\d+: /);
    expect(err.message).not.toContain(SECRET);
  });
});

describe('AriRest', () => {
  let fake: FakeHttp;
  let rest: AriRest;
  let addChannelFailures = 0;
  beforeAll(async () => {
    fake = await startFakeHttp((req) => {
      const key = `${req.method} ${req.path}`;
      if (key === 'DELETE /ari/channels/gone' || key === 'DELETE /ari/bridges/gone') return {status: 404, body: {message: 'Channel not found'}};
      if (key === 'DELETE /ari/channels/c1' || key === 'DELETE /ari/bridges/b1') return {status: 204};
      if (key === 'POST /ari/channels/externalMedia') {
        if (!req.query.format) return {status: 400, body: {message: 'format cannot be empty'}};
        return {
          status: 200,
          body: {
            id: req.query.channelId,
            name: `UnicastRTP/${req.query.external_host}-0x1`,
            state: 'Down',
            channelvars: {UNICASTRTP_LOCAL_ADDRESS: '127.0.0.1', UNICASTRTP_LOCAL_PORT: '11124'},
          },
        };
      }
      if (key === 'POST /ari/bridges/b1/addChannel') {
        if (addChannelFailures > 0) {
          addChannelFailures--;
          return {status: 422, body: {message: 'Channel not in Stasis application'}};
        }
        return {status: 204};
      }
      if (key === 'POST /ari/channels') return {status: 200, body: {id: req.query.channelId, name: 'Local/s@rtpsla-source-00000000;1', state: 'Down'}};
      if (key === 'GET /ari/channels/gone') return {status: 404, body: {message: 'Channel not found'}};
      return {status: 500, body: {message: 'unexpected ' + key}};
    });
    rest = new AriRest({url: fake.url, user: 'u', pass: SECRET});
  });
  afterAll(async () => {
    rest.close();
    await fake.close();
  });

  it('sends Basic auth and query-string parameters like Asterisk documents them', async () => {
    const ch = await rest.originate({
      endpoint: 'Local/s@rtpsla-source/n',
      app: 'rtpsla',
      appArgs: ['rtpsla-load', 'run1', '0'],
      formats: 'ulaw',
      channelId: 'load-1',
    });
    expect(ch.id).toBe('load-1');
    const req = fake.requests.at(-1)!;
    expect(req.authorization).toBe(goodAuth);
    expect(req.query).toEqual({endpoint: 'Local/s@rtpsla-source/n', app: 'rtpsla', appArgs: 'rtpsla-load,run1,0', formats: 'ulaw', channelId: 'load-1'});
  });

  it('externalMedia returns the channel and UNICASTRTP_LOCAL_ADDRESS/PORT', async () => {
    const r = await rest.externalMedia({channelId: 'em-1', app: 'rtpsla', externalHost: '127.0.0.1:4500', format: 'ulaw'});
    expect(r).toMatchObject({localAddress: '127.0.0.1', localPort: 11124, channel: {id: 'em-1'}});
    expect(fake.requests.at(-1)!.query).toEqual({
      channelId: 'em-1',
      app: 'rtpsla',
      external_host: '127.0.0.1:4500',
      format: 'ulaw',
      encapsulation: 'rtp',
      transport: 'udp',
      direction: 'both',
    });
  });

  it('maps errors to AriHttpError with status and Asterisk message', async () => {
    const err = await rest.externalMedia({app: 'rtpsla', externalHost: '127.0.0.1:4500', format: ''}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AriHttpError);
    expect((err as AriHttpError).status).toBe(400);
    expect((err as AriHttpError).ariMessage).toBe('format cannot be empty');
  });

  it('hangup / destroyBridge / getChannel tolerate 404', async () => {
    await expect(rest.hangup('c1')).resolves.toBe(true);
    await expect(rest.hangup('gone')).resolves.toBe(false);
    await expect(rest.destroyBridge('b1')).resolves.toBe(true);
    await expect(rest.destroyBridge('gone')).resolves.toBe(false);
    await expect(rest.getChannel('gone')).resolves.toBeUndefined();
  });

  it('addChannel 422 surfaces as AriHttpError; addChannelWhenInStasis retries it (bounded)', async () => {
    addChannelFailures = 1;
    const err = await rest.addChannel('b1', ['c1', 'em-1']).catch((e: unknown) => e);
    expect(err).toMatchObject({status: 422, ariMessage: 'Channel not in Stasis application'});

    addChannelFailures = 3;
    const retries: number[] = [];
    await addChannelWhenInStasis(rest, 'b1', ['c1', 'em-1'], {initialDelayMs: 1, onRetry: (n) => retries.push(n)});
    expect(retries).toEqual([1, 2, 3]);
    expect(fake.requests.at(-1)!.query).toEqual({channel: 'c1,em-1'});

    addChannelFailures = 50;
    await expect(addChannelWhenInStasis(rest, 'b1', ['c1'], {attempts: 4, initialDelayMs: 1})).rejects.toMatchObject({status: 422});
    expect(addChannelFailures).toBe(46);
  });

  it('a network failure is an AriHttpError with status 0', async () => {
    const port = await freeTcpPort();
    const dead = new AriRest({url: `http://127.0.0.1:${port}`, user: 'u', pass: SECRET});
    await expect(dead.listChannels()).rejects.toMatchObject({status: 0});
    dead.close();
  });

  it('serves many concurrent requests over a bounded keep-alive pool', async () => {
    const results = await Promise.all(Array.from({length: 300}, (_, i) => rest.hangup(i % 2 ? 'c1' : 'gone')));
    expect(results.filter(Boolean)).toHaveLength(150);
  });
});
