/**
 * Settings checked against the machine before anything starts (the bad-config fault scenario holds it): each failure is
 * a ConfigError naming the setting (one line, exit 2), instead of a failure later on.
 */
import {createSocket} from 'node:dgram';
import {accessSync, constants, mkdirSync, statSync, unlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {ConfigError, errorMessage} from '../errors.js';

/** Throws unless a UDP socket can bind to `address` (an address of this host). */
export async function checkLocalAddress(address: string, setting: string): Promise<void> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
  } catch (err) {
    const code = (err as {code?: string}).code ?? errorMessage(err);
    throw new ConfigError(`${setting}: cannot bind a UDP socket to ${address} (${code}): not an address of this host`);
  } finally {
    try {
      socket.close();
    } catch {
      // never bound
    }
  }
}

/**
 * Make sure `dir` is a directory we can write a file into, creating missing components one at a
 * time (never `mkdir -p` on a pseudo file system: Node's recursive mkdir spins on /proc). Returns
 * `dir` as given. Throws a ConfigError naming `setting` otherwise.
 */
export function prepareOutDir(dir: string, setting: string): string {
  const abs = path.resolve(dir);
  const fail = (why: string): never => {
    throw new ConfigError(`${setting}: cannot write reports to ${dir}: ${why}`);
  };
  const missing: string[] = [];
  let existing = abs;
  for (;;) {
    try {
      if (!statSync(existing).isDirectory()) fail(`${existing} is not a directory`);
      break;
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const code = (err as {code?: string}).code;
      if (code !== 'ENOENT') fail(code ?? errorMessage(err));
      const parent = path.dirname(existing);
      if (parent === existing) fail('no existing parent directory');
      missing.unshift(existing);
      existing = parent;
    }
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    fail(`${existing} is not writable (${(err as {code?: string}).code ?? errorMessage(err)})`);
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      const code = (err as {code?: string}).code;
      if (code !== 'EEXIST') fail(`cannot create ${d} (${code ?? errorMessage(err)})`);
    }
  }
  // a real write: access() says yes to root everywhere, and /proc or a read-only mount say no only here
  const probe = path.join(abs, `.rtpsla-write-check-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (err) {
    fail(`a file cannot be created there (${(err as {code?: string}).code ?? errorMessage(err)})`);
  }
  return dir;
}
