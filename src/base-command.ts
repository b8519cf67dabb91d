import {Command, Errors} from '@oclif/core';
import {RtpslaError, errorMessage} from './errors.js';

/**
 * oclif wraps an error thrown while parsing a flag as "Parsing --NAME \n\t<message>\nSee more
 * help with --help"; the user sees <message> alone (it already names the setting).
 */
export function flagErrorLine(message: string): string {
  const wrapped = /^Parsing --\S+ \n\t([^\n]*)\nSee more help with --help$/.exec(message);
  return wrapped ? wrapped[1] : message.split('\n')[0];
}

/**
 * Every rtpsla command extends this: typed errors become one line on stderr
 * ("rtpsla <cmd>: <message>") and their exit code, never a stack trace.
 */
export abstract class BaseCommand extends Command {
  /** Report `err` as the one line and exit code it stands for; the command goes on. */
  protected reportError(err: RtpslaError): void {
    process.stderr.write(`rtpsla ${this.id ?? ''}: ${flagErrorLine(err.message)}\n`);
    process.exitCode = err.exitCode;
  }

  /**
   * Something the command stands on died for good (its media engine): one line, exit code 1, and
   * a SIGTERM to this process so its stop path runs (a supervisor restarts it).
   */
  protected dieWith(line: string): void {
    process.stderr.write(`rtpsla ${this.id ?? ''}: ${line}\n`);
    process.exitCode = 1;
    process.kill(process.pid, 'SIGTERM');
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // a bad flag value throws inside this.parse: it is reported here, not also as "did not parse its arguments"
    this.parsed = true;
    if (err instanceof RtpslaError) return this.reportError(err);
    // oclif's own exits and flag-parsing errors: exit code 2 for bad input, message already formatted.
    if (err instanceof Errors.ExitError) throw err;
    if (err instanceof Errors.CLIError && err.oclif?.exit !== undefined) {
      process.stderr.write(`rtpsla ${this.id ?? ''}: ${flagErrorLine(errorMessage(err))}\n`);
      process.exitCode = err.oclif.exit === 1 ? 1 : err.oclif.exit;
      return;
    }
    return super.catch(err);
  }
}
