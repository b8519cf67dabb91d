/**
 * externalMedia channels of the sim's Asterisk model (chan_rtp's UnicastRTP): validation with
 * Asterisk's errors, an even RTP port of the range, the media stream, and the StasisStart race
 * against the REST response.
 */
import {lookup} from 'node:dns/promises';
import {isIP} from 'node:net';
import type {MediaPort} from '../media/source/engine.js';
import {MediaStream} from '../media/source/stream.js';
import {isSimMediaFormat, type SimMediaFormat} from '../media/source/tone.js';
import {ChannelOps} from './channels.js';
import {AriError, EXTERNAL_HOST_FORMAT, INTERNAL_ERROR, KNOWN_FORMATS, splitArgs, splitHostPort, type OpResult, type Params, type SimChannel} from './model.js';

/** A checked externalMedia request. */
export interface ExternalMediaRequest {
  channelId: string | undefined;
  variables: Array<[string, string]>;
  app: string;
  /** external_host as given. */
  externalHost: string;
  host: string;
  port: number;
  format: SimMediaFormat;
  /** `data`: the channel's Stasis args, comma-separated ("" = none). */
  data: string;
}

export abstract class ExternalMediaOps extends ChannelOps {
  async externalMedia(p: Params): Promise<OpResult> {
    const req = this.externalMediaRequest(p);
    let remoteAddress = req.host;
    if (!isIP(remoteAddress)) {
      try {
        remoteAddress = (await lookup(req.host, {family: 4})).address;
      } catch {
        throw new AriError(500, INTERNAL_ERROR);
      }
    }
    const {socket, port} = await this.allocatePort();
    if (this.closed) {
      socket.close();
      throw new AriError(503, 'Service Unavailable');
    }
    // the channel id may have been taken while we were binding
    if (req.channelId !== undefined && this.channels.has(req.channelId)) {
      socket.close();
      this.portsInUse.delete(port);
      throw new AriError(409, 'Channel with given unique ID already exists');
    }
    const c = this.newUnicastChannel(req, port);
    const stream = new MediaStream({
      id: c.id, name: c.name, format: req.format, localAddress: this.localRtpAddress, port, remoteAddress, remotePort: req.port,
      externalHost: req.externalHost, ssrc: this.o.rng.u32(), firstSeq: this.o.rng.int(0, 0xffff),
      startOffsetUs: this.phases.nextOffsetUs(this.o.media.liveStreams + 1),
    });
    this.o.media.add(stream, socket);
    c.media = stream;
    this.counters.externalMediaCreated++;
    this.o.log.debug('sim.externalMedia', {channel: c.id, port, external_host: req.externalHost, format: req.format});
    return this.raceStasisStart(c, req.app);
  }

  /** UNICASTRTP_LOCAL_ADDRESS: the address the RTP sockets bind to (loopback for a wildcard bind). */
  protected get localRtpAddress(): string {
    return this.o.rtpAddress === '0.0.0.0' ? '127.0.0.1' : this.o.rtpAddress;
  }

  /** The request's parameters, checked in Asterisk's order with its errors. */
  protected externalMediaRequest(p: Params): ExternalMediaRequest {
    const channelId = p.get('channelId') || undefined;
    const variables = this.parseVariables(p.variables);
    const app = p.get('app') ?? '';
    if (app === '') throw new AriError(400, 'app cannot be empty');
    const externalHost = p.get('external_host') ?? '';
    if (externalHost === '') throw new AriError(400, 'external_host cannot be empty for all transports other than websocket');
    const hp = splitHostPort(externalHost);
    if (!hp) throw new AriError(400, EXTERNAL_HOST_FORMAT);
    const format = p.get('format') ?? '';
    if (format === '') throw new AriError(400, 'format cannot be empty');
    const encapsulation = (p.get('encapsulation') || 'rtp').toLowerCase();
    const transport = (p.get('transport') || 'udp').toLowerCase();
    if (encapsulation !== 'rtp' || transport !== 'udp') throw new AriError(501, 'The encapsulation and/or transport is not supported');
    this.checkNewId(channelId);
    if (!isSimMediaFormat(format)) {
      if (KNOWN_FORMATS.has(format)) this.o.log.warn('sim.externalMedia.format_unsupported', {format, supported: 'ulaw,alaw,slin16,g722'});
      throw new AriError(500, INTERNAL_ERROR);
    }
    return {channelId, variables, app, externalHost, host: hp.host, port: hp.port, format, data: p.get('data') ?? ''};
  }

  /** The UnicastRTP channel (Down, not yet in Stasis) with its response variables. */
  protected newUnicastChannel(req: ExternalMediaRequest, port: number): SimChannel {
    const c = this.newChannel({
      id: req.channelId ?? this.nextId(),
      name: `UnicastRTP/${req.externalHost}-0x7f${this.o.rng.hex(10)}`,
      kind: 'unicast',
      state: 'Down',
      dialstring: `${req.externalHost}/c(${req.format})`,
      app: req.app,
      dialplan: {context: 'default', exten: 's', priority: 1, app_name: 'AppDial2', app_data: '(Outgoing Line)'},
    });
    for (const [k, v] of req.variables) {
      c.vars.set(k, v);
      c.responseVars.push(k);
    }
    c.vars.set('UNICASTRTP_LOCAL_PORT', String(port));
    c.vars.set('UNICASTRTP_LOCAL_ADDRESS', this.localRtpAddress);
    c.responseVars.push('UNICASTRTP_LOCAL_PORT', 'UNICASTRTP_LOCAL_ADDRESS');
    c.formats = req.format;
    c.args = splitArgs(req.data);
    return c;
  }

  /** The 200 with the channel; its StasisStart before the response, just after, or 2–4 ms late. */
  protected raceStasisStart(c: SimChannel, app: string): OpResult {
    const body = this.channelJson(c, true);
    const enter = (): void => this.runUnicastDial(c, app);
    const r = this.o.rng.float();
    if (r < this.race.before) {
      enter();
      this.counters.stasisStartBeforeResponse++;
      return {status: 200, body};
    }
    if (r < this.race.before + this.race.late) {
      const {min, max} = this.race.lateMs ?? {min: 2, max: 4};
      const delayMs = min + this.o.rng.float() * (max - min);
      return {status: 200, body, after: () => this.later(c, delayMs, enter)};
    }
    return {
      status: 200,
      body,
      after: () => {
        const t = setImmediate(() => {
          if (!c.destroyed && !this.closed) enter();
        });
        c.timers.push(t as unknown as NodeJS.Timeout);
      },
    };
  }

  protected runUnicastDial(c: SimChannel, app: string): void {
    this.emit(c, {type: 'Dial', timestamp: this.ts(), dialstatus: '', forward: '', dialstring: c.dialstring, peer: this.channelJson(c)});
    c.state = 'Up';
    this.emit(c, {type: 'ChannelStateChange', timestamp: this.ts(), channel: this.channelJson(c)});
    this.emit(c, {type: 'Dial', timestamp: this.ts(), dialstatus: 'ANSWER', forward: '', dialstring: c.dialstring, peer: this.channelJson(c)});
    this.enterStasis(c, app, app);
  }

  protected async allocatePort(): Promise<{socket: MediaPort; port: number}> {
    const {low, high} = this.o.rtpRange;
    const first = low % 2 === 0 ? low : low + 1;
    const count = Math.floor((high - first) / 2) + 1;
    if (count <= 0) throw new AriError(500, INTERNAL_ERROR);
    let idx = this.o.rng.int(0, count - 1);
    let failures = 0;
    for (let i = 0; i < count && failures < 64; i++, idx = (idx + 1) % count) {
      const port = first + idx * 2;
      if (this.portsInUse.has(port)) continue;
      this.portsInUse.add(port);
      try {
        const socket = await this.o.media.bind(this.o.rtpAddress, port);
        return {socket, port};
      } catch {
        // taken by someone else (EADDRINUSE): like Asterisk, try the next even port
        this.portsInUse.delete(port);
        failures++;
      }
    }
    this.o.log.warn('sim.rtp.no_port', {range: `${low}-${high}`});
    throw new AriError(500, INTERNAL_ERROR);
  }
}
