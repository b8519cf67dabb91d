/**
 * `load --caller rtp`: rtpsla itself is each call's caller (docs/measurement.md "At the caller").
 * Starting a call = bind a port of the caller engine, create the caller's externalMedia channel
 * in the app (`external_host` = that port, `data` = load's appArgs, which Asterisk delivers as the
 * StasisStart args serve reads), point the port at Asterisk's side of it
 * (UNICASTRTP_LOCAL_ADDRESS/PORT) and start sending at a random phase. Sending starts at once;
 * frames sent before serve bridged the call count for nothing (loss is counted from serve's bridge
 * time). At the hold's end the port stops sending and drains (frames in flight come back) before
 * the hangup; after it, the port closes.
 */
import type {AriRest} from '../ari/rest.js';
import {randomPhaseUs, randomStreamStart, type CallerEngine, type CallerPort} from '../media/source/caller.js';
import {loadAppArgs} from '../protocol/app-args.js';
import {realClock, type Clock} from '../runtime/clock.js';
import type {OriginatedCall} from './originate.js';

/** How long a caller keeps receiving after it stopped sending, before the hangup. */
export const CALLER_DRAIN_MS = 200;

export interface RtpCallersOptions {
  rest: Pick<AriRest, 'externalMedia'>;
  engine: CallerEngine;
  app: string;
  format: string;
  runId: string;
  token: string;
  /** The address the caller engine binds (Asterisk sends the caller's media there). */
  bindIp: string;
  drainMs?: number;
  clock?: Clock;
}

export class RtpCallers {
  /** Each started call's caller port, by call index. */
  readonly ports = new Map<number, CallerPort>();
  private readonly clock: Clock;

  constructor(private readonly o: RtpCallersOptions) {
    this.clock = o.clock ?? realClock;
  }

  /** OriginateLoop's startCall: the caller's externalMedia channel, its port pointed at it, sending. */
  async start(call: OriginatedCall): Promise<void> {
    const o = this.o;
    const port = await o.engine.open();
    try {
      const em = await o.rest.externalMedia({
        channelId: call.channelId,
        app: o.app,
        externalHost: `${o.bindIp}:${port.port}`,
        format: o.format,
        data: loadAppArgs(o.runId, call.index, o.token).join(','),
      });
      this.ports.set(call.index, port);
      await port.setup({remoteAddress: em.localAddress, remotePort: em.localPort, ...randomStreamStart()});
      await port.start(randomPhaseUs());
    } catch (err) {
      if (!this.ports.has(call.index)) await port.close();
      throw err;
    }
  }

  /** OriginateLoop's beforeHangup: stop sending, let the frames in flight come back. */
  async stop(call: OriginatedCall): Promise<void> {
    const port = this.ports.get(call.index);
    if (!port) return;
    await port.stop();
    await new Promise<void>((resolve) => this.clock.setTimer(resolve, this.o.drainMs ?? CALLER_DRAIN_MS));
  }

  /** OriginateLoop's afterHangup: close the port (its last records are in its meter then). */
  async close(call: OriginatedCall): Promise<void> {
    await this.ports.get(call.index)?.close();
  }

  /** Close every port still open and the engine. */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.ports.values()].map((p) => p.close()));
    await this.o.engine.close();
  }
}
