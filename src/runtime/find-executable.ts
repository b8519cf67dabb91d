import {accessSync, constants} from 'node:fs';
import path from 'node:path';

/** The first executable file called `name` in `dirs`, then in the directories of `envPath` ($PATH); null when none. */
export function findExecutable(name: string, dirs: readonly string[], envPath = process.env.PATH ?? ''): string | null {
  for (const d of [...dirs, ...envPath.split(path.delimiter).filter(Boolean)]) {
    const file = path.join(d, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}
