import {LatencyHistogram} from '../../src/metrics/histogram.js';
import {renderPrometheus} from '../../src/metrics/prometheus.js';
import {metricHistograms, metricSamples, metricsJson, type ServeMetricsSnapshot} from '../../src/serve/metrics.js';

function snapshot(): ServeMetricsSnapshot {
  const h = (values: number[]) => {
    const x = new LatencyHistogram();
    for (const v of values) x.recordUs(v);
    return x;
  };
  return {
    engine: 'node',
    engineRestarts: 0,
    ariConnected: true,
    callsActive: 0,
    callsStarted: 2,
    callsFinished: 2,
    callsFailed: 0,
    portsHeld: 0,
    portsFree: 10,
    portBindFailures: 0,
    portExhaustions: 0,
    addChannelRetries422: 0,
    zombiesRemoved: 0,
    packetsUp: 4,
    packetsBack: 4,
    lost: 0,
    late: 3,
    foreign: 0,
    malformed: 0,
    maxConsecutiveLate: 2,
    lateBy: {asterisk: 2, relay: 0, mediaServer: 1},
    lateness: h([1_000, 25_000, 30_000, 24_000]),
    rtt: h([900, 900, 900, 23_000]),
    upLateness: h([0, 24_000, 29_000, 100]),
    relayHold: h([10, 12, 15, 40_000, 8, 9, 7, 6]),
    eventLoopDelayMs: null,
    rssBytes: 1,
  };
}

describe('serve /metrics exposes the legs', () => {
  test('Prometheus text: up-lateness and relay-hold histograms beside lateness and rtt, late packets by leg', () => {
    const s = snapshot();
    const text = renderPrometheus(metricSamples(s), metricHistograms(s));
    expect(text).toContain('rtpsla_rtp_late_by_total{leg="asterisk"} 2\n');
    expect(text).toContain('rtpsla_rtp_late_by_total{leg="relay"} 0\n');
    expect(text).toContain('rtpsla_rtp_late_by_total{leg="media_server"} 1\n');
    expect(text.match(/# TYPE rtpsla_rtp_late_by_total counter/g)).toHaveLength(1);
    expect(text).toContain('rtpsla_up_lateness_seconds_count 4\n');
    expect(text).toContain('rtpsla_up_lateness_seconds_bucket{le="0.02"} 2\n');
    expect(text).toContain('rtpsla_relay_hold_seconds_count 8\n');
    expect(text).toContain('rtpsla_relay_hold_seconds_bucket{le="0.00025"} 7\n');
    expect(text).toContain('rtpsla_lateness_seconds_count 4\n');
    expect(text).toContain('rtpsla_rtt_seconds_count 4\n');
  });

  test('JSON: the same legs as percentiles and histograms', () => {
    type P = {max: number};
    const j = metricsJson(snapshot()) as {
      lateBy: unknown;
      upLatenessMs: P;
      relayHoldMs: P;
      histograms: {relayHoldUs: string; upLatenessUs: string};
    };
    expect(j.lateBy).toEqual({asterisk: 2, relay: 0, mediaServer: 1});
    expect(j.upLatenessMs.max).toBe(29);
    expect(j.relayHoldMs.max).toBe(40);
    expect(LatencyHistogram.fromBase64(j.histograms.relayHoldUs).count).toBe(8);
    expect(LatencyHistogram.fromBase64(j.histograms.upLatenessUs).count).toBe(4);
    expect(j).not.toHaveProperty('upLateness');
  });
});
