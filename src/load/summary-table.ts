import Table from 'cli-table3';
import type {PercentilesMs, Report} from '../protocol/report.js';

/** `rtpsla load --json`: the run id, the report's path, whether it was cut short, the summary. */
export function loadSummaryJson(report: Report, reportPath: string): {runId: string; report: string; partial: boolean; summary: Report['summary']} {
  return {runId: report.runId, report: reportPath, partial: report.partial ?? false, summary: report.summary};
}

/**
 * The end-of-run summary (calls, packets, loss, late, lateness, rtt and the other legs' percentiles) as a table,
 * then the report's notes (unless `notes: false`: the pipeline prints `sla`'s table right after,
 * which repeats them).
 */
export function renderSummaryTable(report: Report, reportPath: string, opts: {notes?: boolean} = {}): string {
  const s = report.summary;
  const pct = (x: number) => `${(x * 100).toFixed(3)} %`;
  const ms = (p: {p50: number; p99: number; max: number} | null) => (p === null ? 'none' : `${p.p50.toFixed(2)} / ${p.p99.toFixed(2)} / ${p.max.toFixed(2)}`);
  const t = new Table({head: ['', 'value'], style: {head: [], border: []}});
  t.push(
    ['run', `${report.runId}${report.partial ? ' (PARTIAL: interrupted)' : ''}`],
    ['target', `${report.target.ariUrl} (asterisk: ${report.target.asterisk})`],
    ['calls attempted / answered / failed', `${s.callsAttempted} / ${s.callsAnswered} / ${s.callsFailed}`],
    ['peak concurrent', String(s.peakConcurrent)],
    ['packets up / back', `${s.packetsUp} / ${s.packetsBack}`],
    ['lost (ratio)', `${s.lost} (${pct(s.lossRatio)})`],
    ['late (ratio), max consecutive', `${s.late} (${pct(s.lateRatio)}), ${s.maxConsecutiveLate}`],
    ['lateness ms p50 / p99 / max', ms(s.latenessMs)],
    ['rtt ms p50 / p99 / max', ms(s.rttMs)],
    ...(s.upLatenessMs ? [['arrival from Asterisk ms p50 / p99 / max', ms(s.upLatenessMs)]] : []),
    ...(s.relayHoldMs ? [[`relay hold ms p50 / p99 / max (${report.tool.engine ?? 'node'})`, ms(s.relayHoldMs)]] : []),
    ...(s.lateBy ? [['late by asterisk / media server / relay', `${s.lateBy.asterisk} / ${s.lateBy.mediaServer} / ${s.lateBy.relay}`]] : []),
    ...callerRows(report),
    [
      'leaked channels / bridges / ports',
      s.leaked.channels === null || s.leaked.bridges === null || s.leaked.ports === null
        ? `unknown (${s.leakCheckError ?? 'the leak check could not be made'})`
        : `${s.leaked.channels} / ${s.leaked.bridges} / ${s.leaked.ports}`,
    ],
  );
  const host = report.loadHost;
  if (host) t.push(['CPU steal on this machine', host.stealMs === null ? 'not readable' : `${host.stealMs} ms (${host.cpus} CPUs)`]);
  if (host?.stalls)
    t.push([
      `load stalled ≥ ${host.stalls.thresholdMs} ms`,
      host.stalls.count === 0 ? 'never' : `${host.stalls.count}× (longest ${host.stalls.maxMs} ms, ${host.stalls.totalMs} ms in all)`,
    ]);
  t.push(['report', reportPath]);
  // notes go under the table, one line each (as `sla` prints them): a long note would stretch the table
  return [t.toString(), ...(opts.notes === false ? [] : (report.notes ?? [])).map((n) => `note: ${n}`)].join('\n');
}

/** What the callers heard (`--caller rtp`), beside the relay's rows; none without a caller side. */
function callerRows(report: Report): string[][] {
  const c = report.summary.caller;
  if (!c) return [];
  const pct = (x: number) => `${(x * 100).toFixed(3)} %`;
  const ms = (p: PercentilesMs | null, why: string | undefined) => (p === null ? `none (${why ?? 'not measured'})` : `${p.p50.toFixed(2)} / ${p.p99.toFixed(2)} / ${p.max.toFixed(2)}`);
  const by = c.lateBy;
  return [
    ['caller frames sent / heard back', `${c.sent} / ${c.received}`],
    ['caller lost (ratio), after the relay', `${c.lost} (${pct(c.lossRatio)}), ${c.lostAfterRelay ?? 0}`],
    ['caller late (ratio), max consecutive', `${c.late} (${pct(c.lateRatio)}), ${c.maxConsecutiveLate}`],
    ['caller hears lateness ms p50 / p99 / max', ms(c.hearsLatenessMs, c.nullReasons?.hearsLatenessMs)],
    ['caller round trip ms p50 / p99 / max', ms(c.callerRttMs, c.nullReasons?.callerRttMs)],
    ['caller late: already at relay / after it', `${by.asterisk + by.relay + by.mediaServer} / ${by.asteriskBack}`],
  ];
}

