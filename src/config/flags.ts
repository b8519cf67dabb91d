import {Flags} from '@oclif/core';
import {ConfigError} from '../errors.js';
import {parseLogLevel, type LogLevel} from '../log/logger.js';
import {SUPPORTED_FORMATS} from '../rtp/formats.js';
import {parseHttpUrl, requireCredential} from './parse.js';

/** ARI connection flags shared by serve and load (SPEC §2: every flag also reads its env var). */
export const ariFlags = {
  'ari-url': Flags.string({description: 'Asterisk ARI base URL (http://host:port).', env: 'ARI_URL', default: 'http://127.0.0.1:8088'}),
  'ari-user': Flags.string({description: 'ARI user (ari.conf). Required.', env: 'ARI_USER'}),
  'ari-pass': Flags.string({description: 'ARI password (ari.conf). Required; never printed or logged.', env: 'ARI_PASS'}),
  app: Flags.string({description: 'Stasis application name.', env: 'APP_NAME', default: 'rtpsla'}),
};

export const logLevelFlag = {
  'log-level': Flags.string({description: 'Log level on stderr: debug, info, warn, error, silent.', env: 'LOG_LEVEL', default: 'info'}),
};

export const formatFlag = {
  format: Flags.string({
    description: `externalMedia format (also the originate "formats", SPEC §3): ${SUPPORTED_FORMATS.join(', ')}.`,
    env: 'FORMAT',
    default: 'ulaw',
  }),
};

export interface AriSettings {
  ariUrl: string;
  ariUser: string;
  ariPass: string;
  app: string;
}

/**
 * Characters a Stasis application name may have: it travels unescaped in ARI URLs
 * (`?app=…`, `/applications/…`) and in appArgs, where `?`, `#`, `/`, `,`, `&`, spaces… change
 * the request.
 */
const APP_NAME_SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Validate the ARI flags: URL with scheme and its userinfo taken out (`http://user:pass@host`
 * gives the credentials when ARI_USER/ARI_PASS are not set, and is never stored or printed),
 * credentials present, app name within a safe set of characters.
 */
export function ariSettings(flags: {'ari-url': string; 'ari-user'?: string; 'ari-pass'?: string; app: string}): AriSettings {
  const {url: ariUrl, user, pass} = splitUserinfo(parseHttpUrl(flags['ari-url'], '--ari-url/ARI_URL'));
  const ariUser = requireCredential(flags['ari-user'] || user, '--ari-user/ARI_USER');
  const ariPass = requireCredential(flags['ari-pass'] || pass, '--ari-pass/ARI_PASS');
  const app = flags.app.trim();
  if (!APP_NAME_SAFE.test(app))
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

export function logLevel(text: string): LogLevel {
  const level = parseLogLevel(text);
  if (level === undefined) throw new ConfigError(`--log-level/LOG_LEVEL: "${text}" is not one of debug, info, warn, error, silent`);
  return level;
}

export function format(text: string): string {
  if (!SUPPORTED_FORMATS.includes(text)) throw new ConfigError(`--format/FORMAT: "${text}" is not one of ${SUPPORTED_FORMATS.join(', ')}`);
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

/** --engine / RTPSLA_ENGINE, shared by serve, echo and sim (validated by parseEngineChoice). */
export const engineFlag = {
  engine: Flags.string({
    description: 'Media engine: auto (the native engine when it is built and starts, else node), native (required), or node.',
    env: 'RTPSLA_ENGINE',
    default: 'auto',
  }),
};
