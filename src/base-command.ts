import {Command, Errors} from '@oclif/core';
import {RtpslaError, errorMessage} from './errors.js';

/**
 * Every rtpsla command extends this: typed errors become one line on stderr
 * ("rtpsla <cmd>: <message>") and their exit code, never a stack trace.
 */
export abstract class BaseCommand extends Command {
  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (err instanceof RtpslaError) {
      process.stderr.write(`rtpsla ${this.id ?? ''}: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    // oclif's own exits and flag-parsing errors: exit code 2 for bad input, message already formatted.
    if (err instanceof Errors.ExitError) throw err;
    if (err instanceof Errors.CLIError && err.oclif?.exit !== undefined) {
      process.stderr.write(`rtpsla ${this.id ?? ''}: ${errorMessage(err).split('\n')[0]}\n`);
      process.exitCode = err.oclif.exit === 1 ? 1 : err.oclif.exit;
      return;
    }
    return super.catch(err);
  }
}
