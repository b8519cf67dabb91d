/**
 * The appArgs convention between `rtpsla load` (which originates) and `rtpsla serve` (which
 * answers), in one place both import (SPEC §3): `rtpsla-load,<runId>,<index>,<token>`.
 * The token is a secret of the run: only the `load` that owns the run may consume its records
 * from serve (`GET /runs/<runId>?consume=1` with header RUN_TOKEN_HEADER).
 */
import {randomBytes} from 'node:crypto';

/** appArgs[0] of calls originated by `rtpsla load`. */
export const LOAD_APP_ARG = 'rtpsla-load';

/** HTTP header carrying a run's token to serve. */
export const RUN_TOKEN_HEADER = 'x-rtpsla-run-token';

export interface LoadCallArgs {
  runId: string;
  index: number;
  /** null: a call originated without a token (nobody can consume its run's records). */
  token: string | null;
}

/** A fresh run token (128 bits, hex). */
export function newRunToken(): string {
  return randomBytes(16).toString('hex');
}

/** The appArgs of call `index` of run `runId`. */
export function loadAppArgs(runId: string, index: number, token: string): string[] {
  return [LOAD_APP_ARG, runId, String(index), token];
}

/** The load call these appArgs describe, or null when they are not load's. */
export function parseLoadAppArgs(args: readonly string[]): LoadCallArgs | null {
  if (args[0] !== LOAD_APP_ARG || args.length < 3 || args[1] === '') return null;
  const index = Number(args[2]);
  if (!Number.isInteger(index) || index < 0) return null;
  const token = args[3] !== undefined && /^[0-9a-f]{16,128}$/.test(args[3]) ? args[3] : null;
  return {runId: args[1], index, token};
}
