/**
 * The page machinery (src/report/page.ts): a chart's config goes into the page as JSON nothing in
 * it can break out of, the page's CSP allows exactly its inline scripts by hash, and log axes get
 * 1-2-5 ticks covering their data.
 */
import {createHash} from 'node:crypto';
import {chartPage, logTicks, PageCharts, pageScripts, scriptHash, singleChartPage, type ChartConfig} from '../../src/report/page.js';

const config = (label: string): ChartConfig => ({type: 'bar', data: {datasets: [{label, data: [{x: 1, y: 2, label}]}]}, options: {}});

describe('the chart page', () => {
  test('a chart is a canvas naming its config, whose JSON cannot close its script element', () => {
    const charts = new PageCharts();
    const evil = '</script><script>alert(1)</script> & "quotes"';
    const a = charts.chart(config(evil), {heightPx: 120.4, label: 'a <chart>'});
    const b = charts.chart(config('b'), {heightPx: 80, label: 'b'});
    expect(a).toMatch(/^<div class="chart" style="height:120px"><canvas id="chart-1" data-config="chart-1-config" role="img" aria-label="a &lt;chart&gt;">a &lt;chart&gt;<\/canvas><\/div><script type="application\/json" id="chart-1-config">/);
    expect(b).toContain('id="chart-2"');
    const json = a.split('id="chart-1-config">')[1];
    // the only "</script" is the element's own end
    expect(json.match(/<\/script/g)).toHaveLength(1);
    expect(JSON.parse(json.replace(/<\/script>$/, ''))).toEqual(config(evil));
  });

  test('the page carries Chart.js, the matrix chart type and the drawing script, each allowed by its sha256, and nothing may be fetched', () => {
    const html = chartPage({title: 'T & t', style: 'p{}', body: '<p>body</p>'});
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(scripts).toEqual(pageScripts());
    const hashes = scripts.map((s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`);
    expect(scripts.map(scriptHash)).toEqual(hashes);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src ${hashes.join(' ')}; style-src 'unsafe-inline'; img-src data:">`);
    expect(html).toContain('<title>T &amp; t</title>');
    // the body comes before the scripts that draw it
    expect(html.indexOf('<p>body</p>')).toBeLessThan(html.indexOf('<script>'));
    expect(scripts[2]).toContain("document.querySelectorAll('canvas[data-config]')");
    expect(singleChartPage('one', config('x'), {heightPx: 300, notes: ['a note']})).toMatch(/<canvas id="chart-1"[\s\S]*<p class="muted">a note<\/p>/);
  });

  test('log ticks: 1, 2 and 5 times powers of ten, from at or below the least value to at or above the largest', () => {
    expect(logTicks(0.05, 298.075)).toEqual([0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500]);
    expect(logTicks(0.3, 0.4)).toEqual([0.2, 0.5]);
    expect(logTicks(1, 1)).toEqual([1]);
    expect(logTicks(0, 5)).toEqual([]);
  });
});
