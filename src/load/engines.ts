/**
 * The report's `tool.engines`: how each media engine role of the run measured. load knows its own
 * caller engine, asks serve for the relay's (with its run records) and the sim for its own; a
 * media server load does not start is not known here and says so, unless the one who started it
 * (npm start, the bench) passes it in.
 */
import type {AriCheckResult} from '../ari/check.js';
import {errorMessage} from '../errors.js';
import type {EngineRoleInfo, ToolEngines} from '../protocol/report.js';
import type {RunRecords} from '../protocol/serve-api.js';

export interface EngineFacts {
  ariUrl: string;
  ariUser: string;
  ariPass: string;
  info: AriCheckResult;
  run: RunRecords | undefined;
  /** The caller engine's info (`--caller rtp`), or null. */
  caller: (() => Promise<EngineRoleInfo>) | null;
  /** The media server's engine when whoever started it knows it (npm start, the bench). */
  echo?: EngineRoleInfo;
}

/** The sim's own engine, from its /_sim/stats (same credentials as ARI). */
async function simEngine(f: EngineFacts): Promise<ToolEngines['sim']> {
  try {
    const auth = Buffer.from(`${f.ariUser}:${f.ariPass}`).toString('base64');
    const res = await fetch(new URL('/_sim/stats', f.ariUrl), {headers: {authorization: `Basic ${auth}`}, signal: AbortSignal.timeout(5000)});
    if (!res.ok) return {unknown: `the sim's /_sim/stats answered ${res.status}`};
    const body = (await res.json()) as {engineInfo?: EngineRoleInfo};
    return body.engineInfo ?? {unknown: 'the sim did not report its engine (an older sim)'};
  } catch (err) {
    return {unknown: `the sim's /_sim/stats could not be read: ${errorMessage(err)}`};
  }
}

export async function toolEngines(f: EngineFacts): Promise<ToolEngines> {
  const engines: ToolEngines = {
    relay: f.run?.relayEngine ?? {unknown: f.run === undefined ? "serve's records could not be read" : 'serve did not report its engine (an older serve)'},
    echo: f.echo ?? {unknown: 'a media server load did not start: its engine is not known here'},
  };
  if (f.caller !== null) engines.caller = await f.caller().catch((err: unknown) => ({unknown: `the caller engine did not answer: ${errorMessage(err)}`}));
  if (f.info.isSim) engines.sim = await simEngine(f);
  return engines;
}
