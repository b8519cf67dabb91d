import type {IntervalHistogram} from 'node:perf_hooks';
import type {LatencyHistogram} from '../metrics/histogram.js';
import type {HistogramSample, MetricSample} from '../metrics/prometheus.js';
import type {EngineKind} from '../engine/engine-types.js';
import type {MediaTotals, ServeLedger} from './ledger.js';

/** Media totals of the finished calls plus the live ones. */
export interface ServeMetricsSnapshot extends MediaTotals {
  /** The engine that forwards and measures (native or node). */
  engine: EngineKind;
  ariConnected: boolean;
  callsActive: number;
  callsStarted: number;
  callsFinished: number;
  callsFailed: number;
  portsHeld: number;
  portsFree: number;
  portBindFailures: number;
  portExhaustions: number;
  addChannelRetries422: number;
  zombiesRemoved: number;
  /** Times the native engine was restarted after it died. */
  engineRestarts: number;
  lateness: LatencyHistogram;
  rtt: LatencyHistogram;
  /** legs, docs/measurement.md: arrival from Asterisk against the schedule, and the relay's own hold (both directions). */
  upLateness: LatencyHistogram;
  relayHold: LatencyHistogram;
  /** serve's own event-loop delay since start (ms), when monitored. */
  eventLoopDelayMs: {p50: number; p99: number; max: number} | null;
  rssBytes: number;
}

/**
 * Global figures: totals of finished calls plus the live calls' current counts; the global
 * histograms are the ledger's sets (serve's own and each run's, recorded live by the call
 * meters) merged for this snapshot.
 */
export function snapshotMetrics(ledger: ServeLedger, ariConnected: boolean, eventLoop?: IntervalHistogram): ServeMetricsSnapshot {
  const ports = ledger.ports;
  return {
    engine: ledger.engine,
    ariConnected,
    callsActive: ledger.activeCalls,
    callsStarted: ledger.callsStarted,
    callsFinished: ledger.callsFinished,
    callsFailed: ledger.callsFailed,
    portsHeld: ports.held,
    portsFree: ports.free,
    portBindFailures: ports.bindFailures,
    portExhaustions: ports.exhausted,
    addChannelRetries422: ledger.addChannelRetries422,
    zombiesRemoved: ledger.zombiesRemovedTotal,
    engineRestarts: ledger.engineRestarts,
    ...ledger.mediaTotals(),
    ...ledger.histograms(),
    eventLoopDelayMs: eventLoop
      ? {p50: eventLoop.percentile(50) / 1e6, p99: eventLoop.percentile(99) / 1e6, max: eventLoop.max / 1e6}
      : null,
    rssBytes: process.memoryUsage.rss(),
  };
}

export function metricSamples(s: ServeMetricsSnapshot): MetricSample[] {
  const c = (name: string, help: string, value: number, labels?: Record<string, string>): MetricSample => ({
    name: `rtpsla_${name}`,
    help,
    type: 'counter',
    value,
    ...(labels ? {labels} : {}),
  });
  const lateByHelp = 'Late packets by the leg that contributed most (asterisk: arrival from Asterisk; relay: its own hold; media_server: rtt)';
  const g = (name: string, help: string, value: number): MetricSample => ({name: `rtpsla_${name}`, help, type: 'gauge', value});
  return [
    {name: 'rtpsla_engine_info', help: 'The media engine that forwards and measures (label engine: native or node)', type: 'gauge', value: 1, labels: {engine: s.engine}},
    g('ari_connected', '1 while the ARI events WebSocket is connected', s.ariConnected ? 1 : 0),
    g('calls_active', 'Calls being set up or measured', s.callsActive),
    c('calls_started_total', 'Calls that entered the Stasis app', s.callsStarted),
    c('calls_finished_total', 'Calls torn down and recorded', s.callsFinished),
    c('calls_failed_total', 'Calls that failed at some step (recorded with their error)', s.callsFailed),
    g('relay_ports_held', 'Relay ports currently held by calls', s.portsHeld),
    g('relay_ports_free', 'Relay ports free in PORT_RANGE', s.portsFree),
    c('relay_port_bind_failures_total', 'Relay ports skipped because they failed to bind', s.portBindFailures),
    c('relay_port_exhaustions_total', 'Calls rejected because no relay port was free', s.portExhaustions),
    c('ari_add_channel_retries_total', 'addChannel retried after 422 (externalMedia not yet in Stasis)', s.addChannelRetries422),
    c('zombies_removed_total', 'Leaked bridges/externalMedia channels removed by reconciliation', s.zombiesRemoved),
    c('engine_restarts_total', 'Times the native media engine was restarted after it died', s.engineRestarts),
    c('rtp_packets_up_total', 'RTP packets received from Asterisk', s.packetsUp),
    c('rtp_packets_back_total', 'Distinct RTP packets that came back from the echo', s.packetsBack),
    c('rtp_lost_total', 'Packets sent up that did not come back (so far, for live calls)', s.lost),
    c('rtp_late_total', 'Packets back later than the deadline', s.late),
    c('rtp_foreign_total', 'Datagrams from unexpected addresses (dropped)', s.foreign),
    c('rtp_malformed_total', 'Datagrams that are not RTP v2 (dropped)', s.malformed),
    c('rtp_late_by_total', lateByHelp, s.lateBy.asterisk, {leg: 'asterisk'}),
    c('rtp_late_by_total', lateByHelp, s.lateBy.relay, {leg: 'relay'}),
    c('rtp_late_by_total', lateByHelp, s.lateBy.mediaServer, {leg: 'media_server'}),
    g('rtp_max_consecutive_late', 'Longest run of consecutive deadline misses on any call', s.maxConsecutiveLate),
    g('process_resident_memory_bytes', 'Resident set size of serve', s.rssBytes),
    ...(s.eventLoopDelayMs ? [g('event_loop_delay_p99_seconds', 'serve event-loop delay, 99th percentile since start', s.eventLoopDelayMs.p99 / 1000)] : []),
  ];
}

/** The Prometheus histograms: lateness, rtt and the two other legs (docs/measurement.md). */
export function metricHistograms(s: ServeMetricsSnapshot): HistogramSample[] {
  return [
    {name: 'rtpsla_lateness_seconds', help: 'Lateness of echoed packets relative to their playout deadline (early counts as 0)', histogram: s.lateness},
    {name: 'rtpsla_rtt_seconds', help: 'Round trip relay → echo → relay per packet (the media-server leg)', histogram: s.rtt},
    {name: 'rtpsla_up_lateness_seconds', help: 'Arrival of up packets from Asterisk against the playout schedule (Asterisk pacing plus the path; early counts as 0)', histogram: s.upLateness},
    {name: 'rtpsla_relay_hold_seconds', help: "The relay's own hold per packet, receive to forward, both directions", histogram: s.relayHold},
  ];
}

/** The same figures as JSON (`Accept: application/json`); `format`: the externalMedia format serve uses. */
export function metricsJson(s: ServeMetricsSnapshot): Record<string, unknown> {
  const {lateness, rtt, upLateness, relayHold, ...counts} = s;
  return {
    ...counts,
    latenessMs: lateness.percentilesMs(),
    rttMs: rtt.percentilesMs(),
    upLatenessMs: upLateness.percentilesMs(),
    relayHoldMs: relayHold.percentilesMs(),
    histograms: {latenessUs: lateness.toBase64(), rttUs: rtt.toBase64(), upLatenessUs: upLateness.toBase64(), relayHoldUs: relayHold.toBase64()},
  };
}
