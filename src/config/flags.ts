import {Flags} from '@oclif/core';
import {ConfigError} from '../errors.js';
import {parseLogLevel, type LogLevel} from '../log/logger.js';
import {SUPPORTED_FORMATS} from '../rtp/formats.js';
import {parseEngineChoice} from '../engine/engine-select.js';
import type {EngineChoice} from '../engine/engine-types.js';
import {MEDIA_SERVER_KINDS, type MediaServerKind} from '../protocol/media-server.js';
import {parseHttpUrl, parsePort, parsePortRange, portRangeText, requireCredential, type PortRange} from './parse.js';

/**
 * The flags the commands share, as typed oclif flags: each value is parsed once, at parse time,
 * and a bad value is one line naming the flag and its environment variable (exit 2). Every flag
 * also reads its environment variable; the flag wins.
 */

/** How an error line names a setting: "--name/ENV", or "--name" for a flag without env var. */
export function settingName(flag: {name: string; env?: string}): string {
  return flag.env === undefined ? `--${flag.name}` : `--${flag.name}/${flag.env}`;
}

/** The default as help shows it (oclif hides a default of 0 and cannot print objects). */
async function showDefault({options}: {options: {default?: unknown}}): Promise<string | undefined> {
  const d = options.default;
  if (d === undefined || typeof d === 'function') return undefined;
  if (typeof d === 'object' && d !== null && 'low' in d && 'high' in d) return portRangeText(d as PortRange);
  return String(d);
}

/** oclif's integer flag: a whole number in [min, max], else one line naming the setting and the range. */
export const integer = ((options: Parameters<typeof Flags.integer>[0]) =>
  Flags.integer({
    defaultHelp: showDefault,
    ...options,
    parse: async (text, _ctx, o) => numberSetting(text, settingName(o), o.min ?? Number.MIN_SAFE_INTEGER, o.max ?? Number.MAX_SAFE_INTEGER, true),
  })) as typeof Flags.integer;

/** A number (fractions allowed, e.g. 0.5 ms) in [min, max]. */
export const decimal = Flags.custom<number, {min: number; max: number}>({
  defaultHelp: showDefault,
  parse: async (text, _ctx, o) => numberSetting(text, settingName(o), o.min, o.max),
});

/** Comma-separated whole numbers, each in [min, max]. */
export const integerList = Flags.custom<number[], {min: number; max: number}>({
  parse: async (text, _ctx, o) => text.split(',').map((item) => numberSetting(item.trim(), settingName(o), o.min, o.max, true)),
});

/** A UDP/TCP port (0-65535, or from `min`). */
export const port = Flags.custom<number, {min?: number}>({
  defaultHelp: showDefault,
  parse: async (text, _ctx, o) => parsePort(text, settingName(o), o.min),
});

/** "LOW-HIGH" inclusive; `even`: RTP uses the even ports, so the range needs at least two ports. */
export const portRange = Flags.custom<PortRange, {even?: boolean}>({
  defaultHelp: showDefault,
  parse: async (text, _ctx, o) => {
    const r = parsePortRange(text, settingName(o));
    if (o.even && r.high - r.low < 1) throw new ConfigError(`${settingName(o)}: needs at least one even port`);
    return r;
  },
});

/** An http(s) URL with scheme, trailing slash removed. */
export const httpUrl = Flags.custom<string>({parse: async (text, _ctx, o) => parseHttpUrl(text, settingName(o))});

/** An address or host name (not empty, no spaces). */
export const host = Flags.custom<string>({parse: async (text, _ctx, o) => hostSetting(text, settingName(o))});

/** Any text but the empty string. */
export const nonEmpty = Flags.custom<string>({
  parse: async (text, _ctx, o) => {
    if (text.trim() === '') throw new ConfigError(`${settingName(o)}: empty`);
    return text.trim();
  },
});

/** Letters, digits, . _ - (first a letter or digit): safe in URLs, appArgs and file names. */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A run id: the report's file name. */
export const runId = Flags.custom<string>({
  parse: async (text, _ctx, o) => {
    if (!SAFE_NAME.test(text)) throw new ConfigError(`${settingName(o)}: "${text}" is not usable as a file name (letters, digits, . _ -)`);
    return text;
  },
});

/** ARI connection flags shared by serve and load. */
export const ariFlags = {
  'ari-url': httpUrl({description: 'Asterisk ARI base URL (http://host:port); user:password@ in it stands for --ari-user/--ari-pass.', env: 'ARI_URL', default: 'http://127.0.0.1:8088'}),
  'ari-user': Flags.string({description: 'ARI user from ari.conf; required.', env: 'ARI_USER'}),
  'ari-pass': Flags.string({description: 'ARI password from ari.conf; required, and never printed or logged.', env: 'ARI_PASS'}),
  app: Flags.string({description: 'Stasis application name (letters, digits, . _ -).', env: 'APP_NAME', default: 'rtpsla'}),
};

/** --log-level / LOG_LEVEL. */
export const logLevelOption = Flags.custom<LogLevel>({
  description: 'Log level on stderr: debug, info, warn, error or silent.',
  env: 'LOG_LEVEL',
  default: 'info',
  parse: async (text, _ctx, o) => logLevel(text, settingName(o)),
});

export const logLevelFlag = {'log-level': logLevelOption()};

/** --format / FORMAT. */
export const formatFlag = {
  format: Flags.custom<string>({
    description: `The externalMedia format, also the originate "formats": ${SUPPORTED_FORMATS.join(', ')}.`,
    env: 'FORMAT',
    default: 'ulaw',
    parse: async (text, _ctx, o) => format(text, settingName(o)),
  })(),
};

/** --engine / RTPSLA_ENGINE, shared by serve, echo and sim. */
export const engineFlag = {
  engine: Flags.custom<EngineChoice>({
    description: 'Media engine: auto (the native engine when it is built and starts, else node), native (required) or node.',
    env: 'RTPSLA_ENGINE',
    default: 'auto',
    parse: async (text, _ctx, o) => parseEngineChoice(text, settingName(o)),
  })(),
};

export const CALLER_KINDS = ['rtp', 'endpoint'] as const;
export type CallerKind = (typeof CALLER_KINDS)[number];

/** load's caller flags: who the caller is, and where rtpsla's own RTP caller binds its ports. */
export const callerFlags = {
  caller: Flags.custom<CallerKind>({
    description:
      'Who calls: rtp makes rtpsla itself the caller (an externalMedia channel fed by its own RTP, measured at the caller too), endpoint originates --endpoint as before (no caller-side figures).',
    env: 'CALLER',
    default: 'rtp',
    parse: async (text, _ctx, o) => {
      const t = text.trim() as CallerKind;
      if (!CALLER_KINDS.includes(t)) throw new ConfigError(`${settingName(o)}: "${text}" is not one of ${CALLER_KINDS.join(', ')}`);
      return t;
    },
  })(),
  'caller-bind-ip': host({description: 'The address the RTP caller binds its ports on; Asterisk sends the caller\'s media there.', env: 'CALLER_BIND_IP', default: '127.0.0.1'}),
  'caller-port-range': portRange({
    description: 'The RTP caller\'s ports, LOW-HIGH inclusive, one per call; they must not overlap serve\'s relay ports nor the sim\'s RTP ports.',
    env: 'CALLER_PORT_RANGE',
    default: {low: 52000, high: 59999},
  }),
};

/** One of the media server kinds (echo, stream, sink). */
export function mediaServerKind(text: string, setting: string): MediaServerKind {
  const k = MEDIA_SERVER_KINDS.find((x) => x === text.trim());
  if (k === undefined) throw new ConfigError(`${setting}: "${text}" is not one of ${MEDIA_SERVER_KINDS.join(', ')}`);
  return k;
}

/** --media-server / MEDIA_SERVER (serve): how each call's back stream is judged. */
export const mediaServerFlag = {
  'media-server': Flags.custom<MediaServerKind>({
    description:
      'What the media server behind the relay does: echo (returns each frame; rtt and the legs are measured), ' +
      'stream (sends its own stream, judged on its own: lateness against its own earliest phase, loss by its own sequence numbers, no rtt) ' +
      'or sink (sends nothing back; the up stream as delivered to it is judged).',
    env: 'MEDIA_SERVER',
    default: 'echo',
    parse: async (text, _ctx, o) => mediaServerKind(text, settingName(o)),
  })(),
};

/** --mode / ECHO_MODE (echo): what the stand-in media server does. */
export const echoModeFlag = {
  mode: Flags.custom<MediaServerKind>({
    description:
      'What to do with each source: echo returns each frame paced by its timestamp, stream is a stand-in voice bot that sends each source its own paced 20 ms stream ' +
      'whatever it sends, and sink receives and counts only.',
    env: 'ECHO_MODE',
    default: 'echo',
    parse: async (text, _ctx, o) => mediaServerKind(text, settingName(o)),
  })(),
};

/** --json with a description of what the command prints (oclif's enableJsonFlag prints it). */
export function jsonFlag(description: string) {
  return {json: Flags.boolean({description, default: false})};
}

export interface AriSettings {
  ariUrl: string;
  ariUser: string;
  ariPass: string;
  app: string;
}

/**
 * Validate the ARI flags: URL with scheme and its userinfo taken out (`http://user:pass@host`
 * gives the credentials when ARI_USER/ARI_PASS are not set, and is never stored or printed),
 * credentials present, app name within a safe set of characters (it travels unescaped in ARI URLs
 * and in appArgs, where `?`, `#`, `/`, `,`, `&`, spaces… change the request).
 */
export function ariSettings(flags: {'ari-url': string; 'ari-user'?: string; 'ari-pass'?: string; app: string}): AriSettings {
  const {url: ariUrl, user, pass} = splitUserinfo(parseHttpUrl(flags['ari-url'], '--ari-url/ARI_URL'));
  const ariUser = requireCredential(flags['ari-user'] || user, '--ari-user/ARI_USER');
  const ariPass = requireCredential(flags['ari-pass'] || pass, '--ari-pass/ARI_PASS');
  const app = flags.app.trim();
  if (!SAFE_NAME.test(app))
    throw new ConfigError(`--app/APP_NAME: "${flags.app}" is not a usable Stasis application name (letters, digits, . _ - only)`);
  return {ariUrl, ariUser, ariPass, app};
}

/** `url` without its userinfo, and the user and password it carried (decoded), if any. */
export function splitUserinfo(url: string): {url: string; user?: string; pass?: string} {
  const u = new URL(url);
  if (u.username === '' && u.password === '') return {url};
  const user = u.username !== '' ? decodeURIComponent(u.username) : undefined;
  const pass = u.password !== '' ? decodeURIComponent(u.password) : undefined;
  u.username = '';
  u.password = '';
  return {url: u.toString().replace(/\/+$/, ''), user, pass};
}

export function logLevel(text: string, setting = '--log-level/LOG_LEVEL'): LogLevel {
  const level = parseLogLevel(text);
  if (level === undefined) throw new ConfigError(`${setting}: "${text}" is not one of debug, info, warn, error, silent`);
  return level;
}

export function format(text: string, setting = '--format/FORMAT'): string {
  if (!SUPPORTED_FORMATS.includes(text)) throw new ConfigError(`${setting}: "${text}" is not one of ${SUPPORTED_FORMATS.join(', ')}`);
  return text;
}

/** A number flag given as text, within [min, max]. */
export function numberSetting(text: string, setting: string, min: number, max: number, integer = false): number {
  const t = text.trim();
  const n = Number(t);
  if (t === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
    throw new ConfigError(`${setting}: "${text}" is not ${integer ? 'a whole number' : 'a number'} in ${min}-${max}`);
  return n;
}

/** IPv4/IPv6 literal or host name; rejects empty. */
export function hostSetting(text: string, setting: string): string {
  const t = text.trim();
  if (t === '' || /\s/.test(t)) throw new ConfigError(`${setting}: "${text}" is not a host address`);
  return t;
}
