/**
 * A plain events WebSocket for an app of our own (`/ari/events?app=X&subscribeAll=true`): with
 * subscribeAll, Asterisk delivers every channel's and bridge's events to that app, whatever
 * app the channels belong to, so a client can watch calls it originated into another program's
 * app (serve's) without registering as that app (which would take serve's events away:
 * ApplicationReplaced). No reconnect: the watcher is for the length of one run.
 */
import WebSocket from 'ws';
import {ConnectError} from '../errors.js';
import {ariOrigin, basicAuth} from './check.js';
import type {AriAnyEvent} from './types.js';

export interface EventStreamOptions {
  url: string;
  user: string;
  pass: string;
  /** The app this stream registers (not one another program runs). */
  app: string;
  /** Every channel's and bridge's events (default true). */
  subscribeAll?: boolean;
  onEvent: (event: AriAnyEvent) => void;
  /** The socket closed (not by close()). */
  onClose?: (reason: string) => void;
  /** Bound for the WebSocket to open; default 5 s. */
  timeoutMs?: number;
}

export interface EventStream {
  close(): void;
}

/** Opens the stream; rejects with a ConnectError naming the status when Asterisk refuses it. */
export function openEventStream(o: EventStreamOptions): Promise<EventStream> {
  const base = ariOrigin(o.url).replace(/^http/, 'ws');
  const url = `${base}/ari/events?app=${encodeURIComponent(o.app)}&subscribeAll=${o.subscribeAll ?? true}`;
  const ws = new WebSocket(url, {headers: {authorization: basicAuth(o.user, o.pass)}, handshakeTimeout: o.timeoutMs ?? 5000, perMessageDeflate: false});
  let closing = false;
  const stream: EventStream = {
    close: () => {
      closing = true;
      ws.terminate();
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      reject(new ConnectError(`the events WebSocket for app \`${o.app}\` was refused (HTTP ${res.statusCode})`));
      ws.terminate();
    });
    ws.once('error', (err) => reject(new ConnectError(`the events WebSocket for app \`${o.app}\` failed: ${err.message}`)));
    ws.once('open', () => {
      ws.on('error', () => undefined);
      resolve(stream);
    });
    ws.on('message', (data) => {
      let event: AriAnyEvent;
      try {
        event = JSON.parse(data.toString()) as AriAnyEvent;
      } catch {
        return;
      }
      if (event && typeof event.type === 'string') o.onEvent(event);
    });
    ws.on('close', (code) => {
      if (!closing) o.onClose?.(`closed (${code})`);
    });
  });
}
