/** Shared helpers for the sim tests: a tiny ARI REST client, an events recorder, fixtures. */
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import WebSocket from 'ws';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const USER = 'rtpsla';
export const PASS = 'rtpsla';

export function readJsonl<T = Record<string, unknown>>(name: string): T[] {
  return readFileSync(path.join(FIXTURES, name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

export function readJson<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
}

export interface AriResponse {
  status: number;
  body: unknown;
  headers: Headers;
  /** performance.now() when the response was complete. */
  tDoneMs: number;
}

/** One ARI REST call (`path` under /ari), query as an object, Basic auth unless `auth: false`. */
export async function ari(
  baseUrl: string,
  method: string,
  p: string,
  query: Record<string, string> = {},
  opts: {auth?: boolean | {user: string; pass: string}; body?: unknown} = {},
): Promise<AriResponse> {
  const qs = new URLSearchParams(query).toString();
  const headers: Record<string, string> = {};
  const auth = opts.auth ?? true;
  if (auth) {
    const cred = auth === true ? {user: USER, pass: PASS} : auth;
    headers.authorization = 'Basic ' + Buffer.from(`${cred.user}:${cred.pass}`).toString('base64');
  }
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}/ari${p}${qs ? `?${qs}` : ''}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return {status: res.status, body: text === '' ? null : JSON.parse(text), headers: res.headers, tDoneMs: performance.now()};
}

export interface RecordedEvent {
  type: string;
  tMs: number;
  data: Record<string, unknown> & {type: string};
}

/** An events WebSocket that records every message. */
export class EventRecorder {
  readonly events: RecordedEvent[] = [];
  readonly ws: WebSocket;
  closed = false;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (m) => {
      const data = JSON.parse(m.toString()) as RecordedEvent['data'];
      this.events.push({type: data.type, tMs: performance.now(), data});
    });
    ws.on('close', () => (this.closed = true));
  }

  static open(baseUrl: string, app = 'rtpsla', extra = ''): Promise<EventRecorder> {
    const sub = extra.includes('subscribeAll=') ? '' : '&subscribeAll=false';
    const url = `${baseUrl.replace(/^http/, 'ws')}/ari/events?app=${app}${sub}&api_key=${USER}:${PASS}${extra}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const rec = new EventRecorder(ws);
      ws.once('open', () => resolve(rec));
      ws.once('error', reject);
    });
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }

  clear(): void {
    this.events.length = 0;
  }

  async waitFor(pred: (e: RecordedEvent) => boolean, timeoutMs = 5000): Promise<RecordedEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find(pred);
      if (e) return e;
      if (Date.now() > deadline) throw new Error(`timed out; events so far: ${this.types().join(', ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Waits until `n` events matched `pred`. */
  async waitCount(pred: (e: RecordedEvent) => boolean, n: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.filter(pred).length < n) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n}; events so far: ${this.types().join(', ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Every key path of `recorded` (recursively, arrays by their first element) exists in `actual`. */
export function missingKeys(recorded: unknown, actual: unknown, at = '$'): string[] {
  if (recorded === null || typeof recorded !== 'object') return [];
  if (actual === null || typeof actual !== 'object') return [`${at} (not an object)`];
  if (Array.isArray(recorded)) {
    if (!Array.isArray(actual)) return [`${at} (not an array)`];
    if (recorded.length === 0 || actual.length === 0) return [];
    return missingKeys(recorded[0], actual[0], `${at}[0]`);
  }
  const out: string[] = [];
  for (const [k, v] of Object.entries(recorded as Record<string, unknown>)) {
    if (!(k in (actual as Record<string, unknown>))) out.push(`${at}.${k}`);
    else out.push(...missingKeys(v, (actual as Record<string, unknown>)[k], `${at}.${k}`));
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const TS = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000/g;

/**
 * Replaces ids, names and times by tokens in order of first appearance, so a recorded and a
 * live call can be compared field by field (each external host by its own token).
 */
export function normalise(events: Array<Record<string, unknown>>, ...externalHosts: string[]): unknown[] {
  const tokens = new Map<string, string>();
  const token = (value: string, kind: string): string => {
    let t = tokens.get(value);
    if (!t) {
      t = `<${kind}${[...tokens.values()].filter((x) => x.startsWith(`<${kind}`)).length}>`;
      tokens.set(value, t);
    }
    return t;
  };
  const collect = (o: unknown): void => {
    if (!o || typeof o !== 'object') return;
    const r = o as Record<string, unknown>;
    if (typeof r.id === 'string' && 'technology' in r) token(r.id, 'bridge');
    else if (typeof r.id === 'string' && typeof r.name === 'string') {
      token(r.id, 'id');
      token(r.name, 'name');
    }
    for (const v of Object.values(r)) collect(v);
  };
  events.forEach(collect);
  const sorted = [...tokens.entries()].sort((a, b) => b[0].length - a[0].length);
  return events.map((e) => {
    let text = JSON.stringify(e).replace(TS, '<ts>');
    for (const [value, t] of sorted) text = text.split(JSON.stringify(value).slice(1, -1)).join(t);
    externalHosts.forEach((h, i) => {
      text = text.split(h).join(`<external_host${i}>`);
    });
    return JSON.parse(text) as unknown;
  });
}
