import type {Report} from '../protocol/report.js';

/** What the media server behind the relay is: the report says so (params), else its calls do, else an echo. */
export function mediaServerOf(report: Report): 'echo' | 'stream' | 'sink' {
  return report.params.mediaServer ?? report.calls.find((c) => c.mediaServer !== undefined)?.mediaServer ?? 'echo';
}
