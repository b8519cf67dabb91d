/**
 * The sim's flags for what a new user gets wrong first: the dialplan contexts it has (a Local
 * channel to another fails as in Asterisk) and ari.conf users with `read_only = yes`.
 */
import {Flags} from '@oclif/core';
import {settingName} from '../config/flags.js';
import {ConfigError} from '../errors.js';
import {DEFAULT_DIALPLAN_CONTEXTS} from './model.js';

/** `NAME:PASS` of a read_only ARI user; one line naming the setting otherwise. */
export function parseReadOnlyUser(text: string, setting = '--read-only-user'): {user: string; pass: string} {
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1) throw new ConfigError(`${setting}: expected NAME:PASS, got "${text.includes(':') ? `${text.slice(0, i)}:…` : text}"`);
  return {user: text.slice(0, i), pass: text.slice(i + 1)};
}

/** A dialplan context name as Asterisk takes it in a Local dial string (no `@`, `/` or comma). */
export function parseContextName(text: string, setting = '--dialplan-context'): string {
  const name = text.trim();
  if (!/^[A-Za-z0-9_.+-]+$/.test(name)) throw new ConfigError(`${setting}: "${text}" is not a dialplan context name (letters, digits, _ . + -)`);
  return name;
}

/** The contexts the sim has: the default one and those named on the command line. */
export function dialplanContexts(extra: readonly string[] | undefined): string[] {
  return [...new Set([...DEFAULT_DIALPLAN_CONTEXTS, ...(extra ?? [])])];
}

export const simChainFlags = {
  'dialplan-context': Flags.custom<string>({parse: async (text, _ctx, o) => parseContextName(text, settingName(o))})({
    description: `A dialplan context the sim has besides ${DEFAULT_DIALPLAN_CONTEXTS.join(', ')}; repeatable. Originating a Local channel to any other context fails as in Asterisk: the channel is hung up with cause 1 (Unallocated) before it enters Stasis.`,
    multiple: true,
  }),
  'read-only-user': Flags.custom<{user: string; pass: string}>({parse: async (text, _ctx, o) => parseReadOnlyUser(text, settingName(o))})({
    description: 'An ARI user with read_only = yes, as NAME:PASS; repeatable. It may read (GET, the events WebSocket); its writes answer 403 "Write access denied", as Asterisk does.',
    multiple: true,
  }),
};
