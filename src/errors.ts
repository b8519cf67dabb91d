/**
 * Typed errors that carry the one-line message a user sees and the exit code.
 * Commands let these propagate; `BaseCommand.catch` prints `message` alone (no stack) and exits.
 */
export class RtpslaError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: {cause?: unknown}) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad flag/env value, detected before anything starts. Exit 2. */
export class ConfigError extends RtpslaError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Unreadable or invalid input file (report, profile). Exit 2. */
export class InputError extends RtpslaError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** A peer (ARI, serve) is unreachable or refused us. Exit 2. */
export class ConnectError extends RtpslaError {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, 2, options);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  // Errors from another realm (vm contexts, jest) fail instanceof but still carry a message.
  if (typeof err === 'object' && err !== null && typeof (err as {message?: unknown}).message === 'string') return (err as {message: string}).message;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}
