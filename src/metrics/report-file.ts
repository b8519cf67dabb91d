/**
 * Report files: `sla` reads them with `readReportFile` (regular files only, size-limited,
 * validated against src/protocol/report.ts), `load` writes them with `writeReportAtomic`
 * (validated, temp file then rename).
 */
import {readFileSync, statSync, type Stats} from 'node:fs';
import path from 'node:path';
import {ConfigError, InputError, RtpslaError, errorMessage} from '../errors.js';
import {atomicWriteFile} from '../runtime/atomic-write.js';
import {REPORT_SCHEMA_ID, validateReport, type Report} from '../protocol/report.js';

export type ReadReportResult = {ok: true; report: Report} | {ok: false; reason: string};

/** Reads and validates a report file; on failure `reason` says why (without the path). */
export function tryReadReportFile(file: string): ReadReportResult {
  let text: string;
  try {
    // a FIFO or device could block the read forever or never end: only regular files, bounded
    const st = statSync(file);
    if (st.isDirectory()) return {ok: false, reason: 'is a directory, not a report file'};
    if (!st.isFile()) return {ok: false, reason: `is a ${fileKind(st)}, not a regular file: refused`};
    if (st.size > MAX_REPORT_BYTES)
      return {ok: false, reason: `is ${Math.round(st.size / 2 ** 20)} MB, over the ${MAX_REPORT_BYTES / 2 ** 20} MB limit for a report file`};
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {ok: false, reason: 'no such file'};
    if (code === 'EISDIR') return {ok: false, reason: 'is a directory, not a report file'};
    if (code === 'EACCES') return {ok: false, reason: 'permission denied'};
    return {ok: false, reason: `cannot read: ${errorMessage(err)}`};
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return {ok: false, reason: `not valid JSON: ${errorMessage(err)}`};
  }
  const r = validateReport(json);
  if (!r.ok) return {ok: false, reason: `not a valid ${REPORT_SCHEMA_ID} report: ${r.reason}`};
  return r;
}

/** The largest report file `sla` reads (a 1000-call, 10-minute report is a few MB). */
export const MAX_REPORT_BYTES = 256 * 2 ** 20;

function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'FIFO';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSocket()) return 'socket';
  return 'special file';
}

/** Reads and validates a report file; throws InputError("<path>: <reason>") if it cannot be used. */
export function readReportFile(file: string): Report {
  const r = tryReadReportFile(file);
  if (!r.ok) throw new InputError(`${file}: ${r.reason}`);
  return r.report;
}

/**
 * Validates `report`, then writes `<dir>/<runId>.json` atomically (temp file in the same
 * directory, then rename), creating `dir` if missing. Returns the final path. An invalid
 * report is never written: throws RtpslaError (exit 1: a bug in the producer, not user input);
 * a run id unusable as a file name throws ConfigError.
 */
export function writeReportAtomic(dir: string, runId: string, report: Report): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId)) throw new ConfigError(`run id "${runId}" is not usable as a file name (letters, digits, . _ -)`);
  const r = validateReport(report);
  if (!r.ok) throw new RtpslaError(`refusing to write an invalid report ${runId}: ${r.reason}`);
  const finalPath = path.join(dir, `${runId}.json`);
  atomicWriteFile(finalPath, `${stringifyReport(report)}\n`, {mode: 0o644});
  return finalPath;
}


/** A pretty-printed array of numbers (and nulls): `[` and a newline, one item a line. A string never holds a raw newline. */
const NUMBER_ARRAY = /\[\n\s*((?:-?[\d.eE+-]+|null)(?:,\n\s*(?:-?[\d.eE+-]+|null))*)\n\s*\]/g;

/** The report as its file holds it: indented by 2, arrays of numbers (the timelines) on one line each. */
export function stringifyReport(report: Report): string {
  return JSON.stringify(report, null, 2).replace(NUMBER_ARRAY, (_m, items: string) => `[${items.replace(/,\n\s*/g, ',')}]`);
}
