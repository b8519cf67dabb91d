import {mkdirSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';

/**
 * Write `text` to `file` so that a reader sees the old file or the whole new one, never a part:
 * a temp file beside it (`<file>.tmp-<pid>`, same directory so the rename stays on one file
 * system), then rename over `file`. Parent directories are created. On failure the temp file
 * is removed and the error thrown as it came (callers word it for their flag).
 */
export function atomicWriteFile(file: string, text: string, options: {mode?: number} = {}): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    mkdirSync(path.dirname(path.resolve(file)), {recursive: true});
    writeFileSync(tmp, text, {encoding: 'utf8', mode: options.mode ?? 0o666});
    renameSync(tmp, file);
  } catch (err) {
    try {
      rmSync(tmp, {force: true});
    } catch {
      // nothing more to clean up
    }
    throw err;
  }
}
