/**
 * The appArgs convention between `rtpsla load` (which originates) and `rtpsla serve` (which
 * answers), in one place both import (docs/design.md, call lifecycle): `rtpsla-load,<runId>,<index>,<token>`.
 * The token is a secret of the run: only the `load` that owns the run may consume its records
 * from serve (`GET /runs/<runId>?consume=1` with header RUN_TOKEN_HEADER).
 */
import {randomBytes} from 'node:crypto';
import {z} from 'zod';

/** appArgs[0] of calls originated by `rtpsla load`. */
export const LOAD_APP_ARG = 'rtpsla-load';

/** HTTP header carrying a run's token to serve. */
export const RUN_TOKEN_HEADER = 'x-rtpsla-run-token';

/**
 * A run id as it travels in appArgs (which Asterisk splits on commas) and names the report file:
 * letters, digits, `.`, `_`, `-`, starting with a letter or digit.
 */
export const RunIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a run id is letters, digits, . _ - (starting with a letter or digit)');
const IndexSchema = z.string().regex(/^(0|[1-9][0-9]*)$/, 'a call index is a non-negative integer').transform(Number).pipe(z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER));
const TokenSchema = z.string().regex(/^[0-9a-f]{16,128}$/, 'a run token is 16-128 hex digits');

/** `rtpsla-load,<runId>,<index>[,<token>]` (further args ignored). */
const LoadAppArgsSchema = z
  .tuple([z.literal(LOAD_APP_ARG), RunIdSchema, IndexSchema], z.string())
  .transform(([, runId, index, token]) => ({runId, index, token: token !== undefined && TokenSchema.safeParse(token).success ? token : null}));

export interface LoadCallArgs {
  runId: string;
  index: number;
  /** null: a call originated without a token, or with one that is not a token (nobody can consume its run's records). */
  token: string | null;
}

/** A fresh run token (128 bits, hex). */
export function newRunToken(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The appArgs of call `index` of run `runId`, checked against the convention serve parses
 * (throws a RangeError naming the problem: a run id serve could not read back is a bug or bad input).
 */
export function loadAppArgs(runId: string, index: number, token: string): string[] {
  const args = [LOAD_APP_ARG, runId, String(index), token];
  const r = LoadAppArgsSchema.safeParse(args);
  if (!r.success || r.data.token === null) throw new RangeError(`appArgs ${JSON.stringify(args.slice(0, 3))}: ${r.success ? 'a run token is 16-128 hex digits' : r.error.issues[0].message}`);
  return args;
}

/** The load call these appArgs describe, or null when they are not load's (or not readable as load's). */
export function parseLoadAppArgs(args: readonly string[]): LoadCallArgs | null {
  const r = LoadAppArgsSchema.safeParse(args);
  return r.success ? r.data : null;
}
