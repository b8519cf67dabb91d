/**
 * The bench's chart from a committed bench result (docs/measurements/data): a line per path with
 * a round trip and percentile, p50/p99/p99.9 at each N, log-log with a tick at each N; its page is
 * the one chart page (Chart.js inlined).
 */
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {chartConfig, chartHtml} from '../../src/bench/output.js';
import {PATH_NAMES, type BenchResult} from '../../src/bench/types.js';
import {ROOT} from '../helpers/cli.js';

const result = JSON.parse(readFileSync(path.join(ROOT, 'docs/measurements/data/2026-12-07-bench-150-600-repeat3-root.json'), 'utf8')) as BenchResult;

test('a line per path and percentile, the sim\'s round trip at each N, log-log axes ticked at each N', () => {
  const c = chartConfig(result);
  expect(c.type).toBe('line');
  const charted = PATH_NAMES.filter((p) => result.results.some((n) => (n[p]?.roundTripMs?.count ?? 0) > 0));
  expect(charted.length).toBeGreaterThan(1);
  expect(c.data.datasets.map((d) => d.label)).toEqual(charted.flatMap((p) => [`${p} p50`, `${p} p99`, `${p} p99.9`]));
  for (const d of c.data.datasets) {
    const key = ({p50: 'p50', p99: 'p99', 'p99.9': 'p999'} as const)[d.percentile as 'p50' | 'p99' | 'p99.9'];
    const want = result.results.filter((n) => (n[d.path as 'direct']?.roundTripMs?.count ?? 0) > 0).map((n) => ({x: n.calls, y: n[d.path as 'direct']!.roundTripMs![key]}));
    expect(d.data.map((p) => ({x: (p as {x: number}).x, y: (p as {y: number}).y}))).toEqual(want);
  }
  const scales = c.options.scales as {x: {type: string; ticksAt: number[]}; y: {type: string; ticksAt: number[]; min: number; max: number}};
  expect(scales.x).toMatchObject({type: 'logarithmic', ticksAt: [150, 600]});
  expect(scales.y.type).toBe('logarithmic');
  const ys = c.data.datasets.flatMap((d) => d.data.map((p) => (p as {y: number}).y));
  expect(scales.y.min).toBeLessThanOrEqual(Math.min(...ys));
  expect(scales.y.max).toBeGreaterThanOrEqual(Math.max(...ys));
});

test('its page: one canvas with the chart\'s config, Chart.js inlined', () => {
  const html = chartHtml(result);
  expect(html.match(/<canvas /g)).toHaveLength(1);
  const json = html.split('<script type="application/json" id="chart-1-config">')[1].split('</script>')[0];
  expect(JSON.parse(json)).toEqual(chartConfig(result));
  expect(html).toMatch(/<script>\/\*!\n \* Chart\.js v4\./);
});
