/**
 * `rtpsla doctor --caller endpoint`'s test call: originate the endpoint into the app as load
 * would (its appArgs, a run of its own), and wait for serve to take the call or for Asterisk's
 * hangup cause (followed on a subscribeAll events app of doctor's own), then hang it up and
 * consume its record at serve.
 */
import {randomBytes} from 'node:crypto';
import {openEventStream, type EventStream} from '../ari/event-stream.js';
import {AriRest} from '../ari/rest.js';
import {errorMessage} from '../errors.js';
import {CallFollower, ENTER_TIMEOUT_MS} from '../load/call-follower.js';
import {ServeClient} from '../load/serve-client.js';
import {loadAppArgs, newRunToken} from '../protocol/app-args.js';
import type {DoctorCheck} from './engine-report.js';

export interface TestCallSettings {
  ariUrl: string;
  ariUser: string;
  ariPass: string;
  app: string;
  endpoint: string;
  format: string;
  serveUrl: string;
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fixFor(reason: string, endpoint: string): string {
  if (/cause 1,/.test(reason)) return `add the context and extension of ${endpoint} to Asterisk's dialplan (extensions.conf; the README shows rtpsla-source), or pass the --endpoint load will use`;
  return `make ${endpoint} answer when Asterisk dials it (try \`asterisk -rx "channel originate ${endpoint} application Wait 5"\`), or pass the --endpoint load will use`;
}

export async function testCall(s: TestCallSettings): Promise<DoctorCheck> {
  const timeoutMs = s.timeoutMs ?? ENTER_TIMEOUT_MS;
  const runId = `doctor-${randomBytes(3).toString('hex')}`;
  const token = newRunToken();
  const channelId = `${runId}-0`;
  let failure: string | null = null;
  const follower = new CallFollower({app: s.app, timeoutMs, onFailed: (_i, reason) => (failure = reason)});
  const rest = new AriRest({url: s.ariUrl, user: s.ariUser, pass: s.ariPass, maxSockets: 4});
  const serve = new ServeClient(s.serveUrl);
  let stream: EventStream | null = null;
  try {
    stream = await openEventStream({url: s.ariUrl, user: s.ariUser, pass: s.ariPass, app: `${s.app}-doctor-${runId}`, onEvent: (e) => follower.onEvent(e)}).catch(() => null);
    follower.expect(channelId, 0, s.endpoint);
    const started = performance.now();
    try {
      await rest.originate({endpoint: s.endpoint, app: s.app, appArgs: loadAppArgs(runId, 0, token), formats: s.format, channelId});
    } catch (err) {
      return {name: 'call', ok: false, detail: `originating ${s.endpoint} into \`${s.app}\` failed: ${errorMessage(err)}`, fix: `pass an --endpoint Asterisk can dial (PJSIP/…, Local/<exten>@<context>/n)`};
    }
    follower.originated(channelId);
    const deadline = started + timeoutMs + 500;
    while (failure === null && performance.now() < deadline) {
      const p = await serve.runProgress(runId).catch(() => undefined);
      if (p && p.activeCalls + p.recorded > 0) {
        return {name: 'call', ok: true, detail: `${s.endpoint} entered the Stasis app \`${s.app}\` and serve took the call in ${Math.round(performance.now() - started)} ms`, fix: null};
      }
      await sleep(50);
    }
    const reason = failure ?? `originated ${s.endpoint} but serve did not see it within ${timeoutMs / 1000} s${stream ? '' : ' (the events WebSocket could not be opened, so Asterisk\'s hangup cause is unknown)'}`;
    return {name: 'call', ok: false, detail: reason, fix: fixFor(reason, s.endpoint)};
  } finally {
    follower.close();
    stream?.close();
    await cleanUp(rest, serve, channelId, runId, token);
    rest.close();
  }
}

/** Hang the test call up and drop its record at serve (best effort: nothing of it must stay). */
async function cleanUp(rest: AriRest, serve: ServeClient, channelId: string, runId: string, token: string): Promise<void> {
  await rest.hangup(channelId).catch(() => undefined);
  for (let i = 0; i < 40; i++) {
    const p = await serve.runProgress(runId).catch(() => undefined);
    if (p === undefined) return;
    if (p.activeCalls === 0) break;
    await sleep(50);
  }
  await serve.run(runId, {token}).catch(() => undefined);
}
