/**
 * `rtpsla doctor` with the settings load would use, against the sim: a running chain passes, and
 * with each piece broken in turn (wrong password, read_only user, serve on another app, the media
 * server down or silent, an unknown dialplan context) the matching line fails with its fix.
 */
import {createSocket, type Socket} from 'node:dgram';
import {CliProcess, freeUdpPort, runCli} from '../helpers/cli.js';
import {mediaCheck} from '../../src/doctor/chain.js';
import {ARI_PASS, ARI_USER, startServeProc, startStack, type Stack} from '../helpers/stack.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix: string | null;
}

const CHAIN = ['ari', 'ari-write', 'serve', 'media', 'call'];
let stack: Stack;
let closed: {serve: CliProcess; serveUrl: string; port: number};
let sink: {serve: CliProcess; serveUrl: string; socket: Socket; got: number};

beforeAll(async () => {
  stack = await startStack({simArgs: ['--read-only-user', 'viewer:v1ew']});
  const port = await freeUdpPort(); // nothing listens there
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const [a, b] = await Promise.all([
    startServeProc(stack.simUrl, port, ['--port-range', '40000-40999', '--app', 'rtpsla-closed']),
    startServeProc(stack.simUrl, socket.address().port, ['--port-range', '41000-41999', '--app', 'rtpsla-sink', '--media-server', 'sink']),
  ]);
  closed = {...a, port};
  sink = {...b, socket, got: 0};
  socket.on('message', () => sink.got++);
}, 60_000);
afterAll(async () => {
  await Promise.all([closed?.serve.stop(), sink?.serve.stop()]);
  sink?.socket.close();
  await stack?.stop();
});

async function doctor(args: string[], env: Record<string, string> = {}, serveUrl = stack.serveUrl) {
  const r = await runCli(['doctor', '--json', '--serve-url', serveUrl, ...args], {env: {ARI_URL: stack.simUrl, ARI_USER, ARI_PASS, ...env}, timeoutMs: 60_000});
  const d = JSON.parse(r.stdout) as {checks: Check[]};
  const chain = d.checks.filter((c) => CHAIN.includes(c.name));
  // exit 0 exactly when every line (engines and chain) passes
  expect(r.code).toBe(d.checks.every((c) => c.ok) ? 0 : 1);
  return {code: r.code, chain, failed: chain.filter((c) => !c.ok)};
}

test('a running chain passes every line, the test call included, and leaves nothing behind', async () => {
  const {chain} = await doctor(['--caller', 'endpoint']);
  expect(chain.map((c) => [c.name, c.ok])).toEqual(CHAIN.map((n) => [n, true]));
  expect(chain.find((c) => c.name === 'serve')?.detail).toBe(`${stack.serveUrl} runs app \`rtpsla\` with format ulaw, media server: echo at 127.0.0.1:${stack.echoPort}`);
  expect(chain.find((c) => c.name === 'media')?.detail).toMatch(new RegExp(`^the media server at 127\\.0\\.0\\.1:${stack.echoPort} answered a probe RTP packet in [\\d.]+ ms$`));
  expect(chain.find((c) => c.name === 'call')?.detail).toMatch(/^Local\/s@rtpsla-source\/n entered the Stasis app `rtpsla` and serve took the call in \d+ ms$/);
  expect(await stack.ari.listChannels()).toEqual([]);
  expect(await stack.ari.listBridges()).toEqual([]);
});

test('the text shows each chain check as one PASS or FAIL line, the fix under a failing one', async () => {
  const r = await runCli(['doctor', '--serve-url', stack.serveUrl, '--app', 'other'], {env: {ARI_URL: stack.simUrl, ARI_USER, ARI_PASS}});
  expect(r.code).toBe(1);
  const lines = r.stdout.split('\n');
  const i = lines.findIndex((l) => l.startsWith('FAIL serve'));
  expect(lines[i]).toBe(`FAIL serve       serve at ${stack.serveUrl} runs app \`rtpsla\`, not \`other\``);
  expect(lines[i + 1].trim()).toBe('fix: pass --app rtpsla to load and doctor, or start serve with --app other');
  expect(lines.some((l) => /^PASS ari +http/.test(l))).toBe(true);
});

test('wrong password: the ari line fails naming the 401, the checks that need ARI are left out', async () => {
  const {failed, chain} = await doctor(['--caller', 'endpoint'], {ARI_PASS: 'wrong'});
  expect(failed.map((c) => c.name)).toEqual(['ari']);
  expect(failed[0].detail).toBe(`ARI at ${stack.simUrl} rejected the credentials for user '${ARI_USER}' (401)`);
  expect(failed[0].fix).toBe('set --ari-user/--ari-pass (ARI_USER/ARI_PASS) to a user and its password from ari.conf');
  expect(chain.map((c) => c.name)).toEqual(['ari', 'serve', 'media']);
});

test('a read_only ARI user: the ari-write line fails with 403 and how to lift it', async () => {
  const {failed} = await doctor(['--caller', 'endpoint'], {ARI_USER: 'viewer', ARI_PASS: 'v1ew'});
  expect(failed).toEqual([{
    name: 'ari-write', ok: false,
    detail: 'user `viewer` is read_only: creating a bridge answered 403 (Write access denied)',
    fix: 'set read_only = no for [viewer] in ari.conf (then `asterisk -rx "module reload res_ari.so"`), or use a user that may write',
  }]);
});

test('serve on another app, or another format: the serve line fails', async () => {
  expect((await doctor(['--app', 'other'])).failed.map((c) => c.detail)).toEqual([`serve at ${stack.serveUrl} runs app \`rtpsla\`, not \`other\``]);
  expect((await doctor(['--format', 'slin16'])).failed.map((c) => c.detail)).toEqual([`serve at ${stack.serveUrl} asks Asterisk for format ulaw, not slin16`]);
});

test('the media server down: the media line fails with the kernel\'s port unreachable', async () => {
  const {failed} = await doctor(['--app', 'rtpsla-closed'], {}, closed.serveUrl);
  expect(failed).toEqual([{
    name: 'media', ok: false,
    detail: `nothing listens at 127.0.0.1:${closed.port}: the kernel reported its port unreachable`,
    fix: `start \`rtpsla echo --port ${closed.port}\` (or your media server) at 127.0.0.1:${closed.port}, or point serve's --echo-host/--echo-port at it`,
  }]);
});

test('a media server that listens and never answers: fine for a sink; for an echo the line fails saying what a sink means', async () => {
  const before = sink.got;
  const asSink = await doctor(['--app', 'rtpsla-sink'], {}, sink.serveUrl);
  expect(asSink.failed).toEqual([]);
  expect(asSink.chain.find((c) => c.name === 'media')?.detail).toBe(`the media server at 127.0.0.1:${sink.socket.address().port} did not answer a probe RTP packet in 1 s: fine, serve says it is a sink`);
  expect(sink.got).toBe(before + 1); // exactly one probe datagram
  const asEcho = await mediaCheck(`127.0.0.1:${sink.socket.address().port}`, 'echo');
  expect(asEcho).toEqual({
    name: 'media', ok: false,
    detail: `the media server at 127.0.0.1:${sink.socket.address().port} did not answer a probe RTP packet in 1 s (no answer: fine if it is a sink, but serve says it is an echo)`,
    fix: `start \`rtpsla echo --port ${sink.socket.address().port}\` (or your media server) at 127.0.0.1:${sink.socket.address().port}, or point serve's --echo-host/--echo-port at it; or, if it only listens, start serve with --media-server sink`,
  });
});

test('an unknown dialplan context: the call line fails with the cause Asterisk gave', async () => {
  const {failed} = await doctor(['--caller', 'endpoint', '--endpoint', 'Local/s@nosuchcontext/n']);
  expect(failed.map((c) => c.name)).toEqual(['call']);
  expect(failed[0].detail).toMatch(/^originated Local\/s@nosuchcontext\/n but it never entered the Stasis app `rtpsla`: Asterisk hung it up after \d+ ms \(cause 1, unallocated number: no such extension or context\?\)$/);
  expect(failed[0].fix).toMatch(/^add the context and extension of Local\/s@nosuchcontext\/n to Asterisk's dialplan/);
  expect(await stack.ari.listChannels()).toEqual([]);
});

test('without chain settings only the engines are checked; --serve-url without credentials is one line and exit 2', async () => {
  const r = await runCli(['doctor', '--json'], {env: {ARI_USER: '', ARI_PASS: '', SERVE_URL: ''}});
  const d = JSON.parse(r.stdout) as {checks: Check[]};
  expect(d.checks.map((c) => c.name).filter((n) => CHAIN.includes(n))).toEqual([]);
  expect(d.checks.length).toBeGreaterThan(0);
  const bad = await runCli(['doctor', '--serve-url', stack.serveUrl], {env: {ARI_USER: '', ARI_PASS: ''}});
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim().split('\n')).toEqual(['rtpsla doctor: --ari-user/ARI_USER is required (flag or environment variable)']);
});
