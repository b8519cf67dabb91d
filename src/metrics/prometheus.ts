import type {LatencyHistogram} from './histogram.js';

/** Histogram bucket bounds (ms) for Prometheus: around the 20 ms deadline and the 22 ms SLA limit. */
export const PROMETHEUS_BUCKETS_MS = [0.25, 0.5, 1, 2, 5, 10, 15, 20, 22, 30, 40, 60, 100, 250, 1000] as const;

export interface MetricSample {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  value: number;
  labels?: Record<string, string>;
}

export interface HistogramSample {
  name: string;
  help: string;
  histogram: LatencyHistogram;
}

/**
 * Prometheus text exposition format 0.0.4. Histograms are exported in seconds (Prometheus'
 * base unit) with cumulative `le` buckets, `_sum` (the running sum kept while recording: no walk of the buckets per scrape) and `_count`.
 */
export function renderPrometheus(samples: readonly MetricSample[], histograms: readonly HistogramSample[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const s of samples) {
    if (!seen.has(s.name)) {
      seen.add(s.name);
      lines.push(`# HELP ${s.name} ${escapeHelp(s.help)}`, `# TYPE ${s.name} ${s.type}`);
    }
    lines.push(`${s.name}${labels(s.labels)} ${formatNumber(s.value)}`);
  }
  for (const h of histograms) {
    lines.push(`# HELP ${h.name} ${escapeHelp(h.help)}`, `# TYPE ${h.name} histogram`);
    const boundsUs = PROMETHEUS_BUCKETS_MS.map((ms) => ms * 1000);
    const cum = h.histogram.cumulativeCountsUs(boundsUs);
    PROMETHEUS_BUCKETS_MS.forEach((ms, i) => lines.push(`${h.name}_bucket{le="${ms / 1000}"} ${cum[i]}`));
    const count = h.histogram.count;
    lines.push(`${h.name}_bucket{le="+Inf"} ${count}`);
    lines.push(`${h.name}_sum ${formatNumber(h.histogram.sumUs / 1e6)}`);
    lines.push(`${h.name}_count ${count}`);
  }
  return lines.join('\n') + '\n';
}

function labels(l?: Record<string, string>): string {
  if (!l) return '';
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1e6) / 1e6);
}
