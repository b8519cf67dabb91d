/**
 * `rtpsla report FILE.json… --html OUT.html` (and `load --html`, `npm start`): the reports judged
 * as `rtpsla sla` judges them (src/sla, the same evaluation and verdict line), drawn into one
 * self-contained HTML page (src/report/html.ts), written atomically.
 */
import {InputError} from '../errors.js';
import {readReportFile} from '../metrics/report-file.js';
import type {Report} from '../protocol/report.js';
import type {SlaLevel, SlaProfile} from '../sla/profile.js';
import {evaluateFiles, type SlaOutcome} from '../sla/run.js';
import {writeFileAtomic} from '../sla/render.js';
import {renderPage} from './html.js';

export {renderPage} from './html.js';

export interface HtmlReportOptions {
  /** The SLA profile and level to judge with (as `rtpsla sla --profile/--level`); default: sla's defaults. */
  profile?: SlaProfile;
  level?: SlaLevel;
}

/** The page of the reports `args` name (files, directories, globs, as `rtpsla sla` takes them). An unusable input is an InputError (exit 2). */
export async function htmlReport(args: readonly string[], o: HtmlReportOptions = {}): Promise<{html: string; outcome: SlaOutcome}> {
  const outcome = evaluateFiles(args, o);
  if (outcome.errors.length > 0) throw new InputError(outcome.errors.map((e) => `${e.file}: ${e.reason}`).join('; '));
  const reports = new Map<string, Report>();
  for (const r of outcome.reports) reports.set(r.file, readReportFile(r.file));
  return {html: renderPage(outcome, reports), outcome};
}

/** Writes the page of `args` to `out` (atomically); returns the verdict it shows. */
export async function writeHtmlReport(args: readonly string[], out: string, o: HtmlReportOptions = {}): Promise<SlaOutcome> {
  const {html, outcome} = await htmlReport(args, o);
  writeFileAtomic(out, html, '--html');
  return outcome;
}
