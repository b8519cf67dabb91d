import {loadAriClient} from '../../src/ari/connection.js';
import {captureStdout, guardUncaught, isAriClientFault, withStdoutCaptured} from '../../src/ari/guard.js';
import {ConnectError} from '../../src/errors.js';
import {startFakeHttp, type FakeHttp} from './fake-http.js';

describe('stdout capture (ari-client defect 2)', () => {
  it('diverts console.log/warn and process.stdout.write to the sink and restores them afterwards', async () => {
    const originals = [console.log, console.warn, process.stdout.write];
    const caught: Array<[string, string]> = [];
    await withStdoutCaptured(
      (text, via) => caught.push([via, text]),
      async () => {
        console.log(['This API is using a deprecated version of Swagger!']);
        console.warn('careful %d', 3);
        process.stdout.write('raw\n');
      },
    );
    expect([console.log, console.warn, process.stdout.write]).toEqual(originals);
    expect(caught).toEqual([
      ['console.log', "[ 'This API is using a deprecated version of Swagger!' ]"],
      ['console.warn', 'careful 3'],
      ['stdout', 'raw'],
    ]);
  });

  it('restores on error and supports nesting', async () => {
    const original = process.stdout.write;
    const outer: string[] = [];
    const releaseOuter = captureStdout((t) => outer.push(t));
    await expect(
      withStdoutCaptured(
        () => undefined,
        async () => {
          throw new Error('boom');
        },
      ),
    ).rejects.toThrow('boom');
    process.stdout.write('still captured');
    releaseOuter();
    expect(outer).toEqual(['still captured']);
    expect(process.stdout.write).toBe(original);
  });
});

describe('uncaught guard (ari-client defect 1)', () => {
  it('claims bare strings and library frames, not our own errors', () => {
    expect(isAriClientFault('401 : undefined http://x/ari/api-docs/resources.json')).toBe(true);
    const lib = new Error('x');
    lib.stack = 'TypeError: x\n    at SwaggerResource (/app/node_modules/swagger-client/lib/swagger.js:339:16)';
    expect(isAriClientFault(lib)).toBe(true);
    expect(isAriClientFault(new Error('ours'))).toBe(false);
  });

  it('is removed when released', () => {
    const before = process.listenerCount('uncaughtException');
    const release = guardUncaught(
      () => true,
      () => undefined,
    );
    expect(process.listenerCount('uncaughtException')).toBe(before + 1);
    release();
    expect(process.listenerCount('uncaughtException')).toBe(before);
  });

  describe('loadAriClient against an ARI that rejects the password', () => {
    let fake: FakeHttp;
    beforeAll(async () => {
      fake = await startFakeHttp(() => ({status: 401, body: {message: 'Authentication required'}}));
    });
    afterAll(() => fake.close());

    it('rejects with a ConnectError instead of throwing a bare string, and leaves no handler behind', async () => {
      const listeners = process.listenerCount('uncaughtException');
      const stdoutWrite = process.stdout.write;
      const err = await loadAriClient(fake.url, 'u', 'wrong-secret', {timeoutMs: 5000}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as Error).message).toBe(`ari-client could not load the ARI API from ${fake.url}: api-docs answered 401`);
      expect((err as Error).message).not.toContain('wrong-secret');
      expect(process.listenerCount('uncaughtException')).toBe(listeners);
      expect(process.stdout.write).toBe(stdoutWrite);
      // give any late throw from swagger-client's HTTP callback a chance to surface
      await new Promise((r) => setTimeout(r, 100));
    });
  });
});
