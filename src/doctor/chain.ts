/**
 * `rtpsla doctor`'s chain section, given the settings load would run with: ARI reachable with
 * those credentials, the ARI user allowed to write, serve reachable and running the same app and
 * format, the media server answering a probe RTP packet, and (with --caller endpoint) one test
 * call of the endpoint reaching the app. Each check is one line with its fix; a check whose
 * precondition failed is left out (the failing line above it names the cause).
 */
import {randomBytes} from 'node:crypto';
import {checkAri, ariOrigin} from '../ari/check.js';
import {AriRest, isAriHttpError} from '../ari/rest.js';
import {ariSettings, splitUserinfo} from '../config/flags.js';
import {errorMessage} from '../errors.js';
import {ServeClient} from '../load/serve-client.js';
import type {DoctorCheck} from './engine-report.js';
import {probeMediaServer, splitEchoAddress} from './media-probe.js';
import {testCall} from './test-call.js';

export interface ChainSettings {
  ariUrl: string;
  ariUser: string;
  ariPass: string;
  app: string;
  serveUrl: string;
  format: string;
  caller: 'rtp' | 'endpoint';
  endpoint: string;
}

export async function chainDoctor(s: ChainSettings): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const ari = await ariCheck(s);
  checks.push(ari);
  if (ari.ok) checks.push(await writeCheck(s));
  const serve = await serveCheck(s);
  checks.push(serve.check);
  if (serve.check.ok) checks.push(await mediaCheck(serve.echo, serve.mediaServer));
  if (s.caller === 'endpoint' && checks.every((c) => c.ok)) checks.push(await testCall(s));
  return checks;
}

async function ariCheck(s: ChainSettings): Promise<DoctorCheck> {
  try {
    const info = await checkAri(s.ariUrl, s.ariUser, s.ariPass, {timeoutMs: 5000});
    return {name: 'ari', ok: true, detail: `${ariOrigin(s.ariUrl)} answers user \`${s.ariUser}\` (Asterisk ${info.version})`, fix: null};
  } catch (err) {
    const detail = errorMessage(err);
    const fix = / \(401\)$/.test(detail)
      ? 'set --ari-user/--ari-pass (ARI_USER/ARI_PASS) to a user and its password from ari.conf'
      : 'start Asterisk (or `rtpsla sim`), or point --ari-url/ARI_URL at its HTTP server (http.conf: enabled = yes)';
    return {name: 'ari', ok: false, detail, fix};
  }
}

/** A user with `read_only = yes` passes the check above and fails every originate: create and delete a bridge. */
async function writeCheck(s: ChainSettings): Promise<DoctorCheck> {
  const rest = new AriRest({url: s.ariUrl, user: s.ariUser, pass: s.ariPass, maxSockets: 2, requestTimeoutMs: 5000});
  try {
    const bridge = await rest.createBridge({type: 'mixing', name: `rtpsla-doctor-${randomBytes(3).toString('hex')}`});
    await rest.destroyBridge(bridge.id);
    return {name: 'ari-write', ok: true, detail: `user \`${s.ariUser}\` may write (created and deleted a bridge)`, fix: null};
  } catch (err) {
    if (isAriHttpError(err) && err.status === 403)
      return {
        name: 'ari-write',
        ok: false,
        detail: `user \`${s.ariUser}\` is read_only: creating a bridge answered 403 (${err.ariMessage})`,
        fix: `set read_only = no for [${s.ariUser}] in ari.conf (then \`asterisk -rx "module reload res_ari.so"\`), or use a user that may write`,
      };
    return {name: 'ari-write', ok: false, detail: `creating and deleting a bridge failed: ${errorMessage(err)}`, fix: "read Asterisk's log for why it refused"};
  } finally {
    rest.close();
  }
}

async function serveCheck(s: ChainSettings): Promise<{check: DoctorCheck; echo: string | null; mediaServer: string | null}> {
  const fail = (detail: string, fix: string) => ({check: {name: 'serve', ok: false, detail, fix}, echo: null, mediaServer: null});
  let h: Awaited<ReturnType<ServeClient['checkHealthy']>>;
  try {
    h = await new ServeClient(s.serveUrl).checkHealthy();
  } catch (err) {
    return fail(errorMessage(err), 'start `rtpsla serve` with the same --ari-url and --app, or point --serve-url/SERVE_URL at it');
  }
  if (h.app !== null && h.app !== s.app) return fail(`serve at ${s.serveUrl} runs app \`${h.app}\`, not \`${s.app}\``, `pass --app ${h.app} to load and doctor, or start serve with --app ${s.app}`);
  if (h.format !== null && h.format !== s.format) return fail(`serve at ${s.serveUrl} asks Asterisk for format ${h.format}, not ${s.format}`, `pass --format ${h.format} to load and doctor, or start serve with --format ${s.format}`);
  const kind = h.mediaServer ?? 'echo';
  return {
    check: {name: 'serve', ok: true, detail: `${s.serveUrl} runs app \`${s.app}\` with format ${s.format}, media server: ${kind}${h.echo ? ` at ${h.echo}` : ''}`, fix: null},
    echo: h.echo,
    mediaServer: kind,
  };
}

export async function mediaCheck(echo: string | null, kind: string | null): Promise<DoctorCheck> {
  const addr = echo === null ? null : splitEchoAddress(echo);
  if (echo === null || addr === null)
    return {name: 'media', ok: false, detail: `serve does not say where its media server is${echo ? ` ("${echo}")` : ''}: an older rtpsla serve`, fix: 'run the same rtpsla version for serve and doctor'};
  const probe = await probeMediaServer(addr.host, addr.port, 1000);
  if (probe.answered) return {name: 'media', ok: true, detail: `the media server at ${echo} answered a probe RTP packet in ${probe.ms.toFixed(1)} ms`, fix: null};
  const start = `start \`rtpsla echo --port ${addr.port}\` (or your media server) at ${echo}, or point serve's --echo-host/--echo-port at it`;
  if (probe.unreachable) return {name: 'media', ok: false, detail: `nothing listens at ${echo}: the kernel reported its port unreachable`, fix: start};
  if (kind === 'sink') return {name: 'media', ok: true, detail: `the media server at ${echo} did not answer a probe RTP packet in 1 s: fine, serve says it is a sink`, fix: null};
  return {
    name: 'media',
    ok: false,
    detail: `the media server at ${echo} did not answer a probe RTP packet in 1 s (no answer: fine if it is a sink, but serve says it is ${kind === 'stream' ? 'a stream' : 'an echo'})`,
    fix: `${start}; or, if it only listens, start serve with --media-server sink`,
  };
}

export interface ChainFlags {
  'ari-url': string;
  'ari-user'?: string;
  'ari-pass'?: string;
  app: string;
  'serve-url'?: string;
  format: string;
  caller: 'rtp' | 'endpoint';
  endpoint: string;
}

/** The chain's settings when any was given (ARI credentials, --serve-url), else null: only the engines are checked. */
export function chainSettingsFrom(flags: ChainFlags): ChainSettings | null {
  const given = flags['ari-user'] !== undefined || flags['ari-pass'] !== undefined || flags['serve-url'] !== undefined || splitUserinfo(flags['ari-url']).user !== undefined;
  if (!given) return null;
  return {...ariSettings(flags), serveUrl: flags['serve-url'] ?? 'http://127.0.0.1:9090', format: flags.format, caller: flags.caller, endpoint: flags.endpoint};
}
