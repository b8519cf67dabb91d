/**
 * The inline script that draws a chart page's canvases with Chart.js (src/report/page.ts inlines
 * it after the libraries, allowed by its hash). Each `<canvas data-config=ID>` is drawn from the
 * JSON of the script element ID. The configs are plain JSON made in Node (src/report/charts.ts,
 * src/bench/output.ts); what JSON cannot say is added here, by these conventions:
 * - a data point's `label` is its tooltip line (the tooltip's title is left out then);
 * - a matrix dataset without backgroundColor colours each cell with its point's `c`, spans
 *   `x0`..`x1` on the x scale and one unit of the y scale (a heatmap row);
 * - a dataset with `hideInLegend: true` is not in the legend;
 * - a scale's `ticksAt: [numbers]` puts its ticks at exactly those values (labelled as numbers);
 *   its `tickLabels: [names]` puts a tick at each of 0 … names.length − 1, tick i named names[i]
 *   (the rows of a heatmap on a linear scale; Chart.js skips labels that would overlap).
 * Animation is off, so a chart is drawn once, when the page loads (what the browser test reads).
 */
export const DRAW_SCRIPT = `(function () {
  'use strict';
  var C = window.Chart;
  C.defaults.animation = false;
  C.defaults.maintainAspectRatio = false;
  C.defaults.font.family = 'system-ui, sans-serif';
  var tip = C.defaults.plugins.tooltip.callbacks;
  var baseTitle = tip.title;
  var baseLabel = tip.label;
  var labelled = function (item) { return item.raw !== null && typeof item.raw === 'object' && typeof item.raw.label === 'string'; };
  tip.title = function (items) { return items.length > 0 && items.every(labelled) ? '' : baseTitle.call(this, items); };
  tip.label = function (item) { return labelled(item) ? item.raw.label : baseLabel.call(this, item); };
  C.defaults.plugins.legend.labels.filter = function (item, data) {
    var ds = data.datasets[item.datasetIndex];
    return !(ds && ds.hideInLegend);
  };
  var span = function (scale, a, b) { return Math.abs(scale.getPixelForValue(b) - scale.getPixelForValue(a)); };
  function scales(options) {
    var all = options.scales || {};
    Object.keys(all).forEach(function (key) {
      var s = all[key];
      s.ticks = s.ticks || {};
      if (Array.isArray(s.ticksAt)) {
        var at = s.ticksAt;
        delete s.ticksAt;
        s.afterBuildTicks = function (scale) { scale.ticks = at.map(function (value) { return {value: value}; }); };
        s.ticks.callback = function (value) { return String(value); };
      }
      if (Array.isArray(s.tickLabels)) {
        var names = s.tickLabels;
        delete s.tickLabels;
        s.afterBuildTicks = function (scale) { scale.ticks = names.map(function (_, value) { return {value: value}; }); };
        s.ticks.callback = function (value) { return names[value]; };
      }
    });
  }
  function hydrate(config) {
    config.options = config.options || {};
    config.data.datasets.forEach(function (ds) {
      if ((ds.type || config.type) !== 'matrix' || ds.backgroundColor !== undefined) return;
      ds.backgroundColor = function (c) { return c.raw ? c.raw.c : 'rgba(0,0,0,0)'; };
      ds.width = function (c) { return c.raw ? span(c.chart.scales.x, c.raw.x0, c.raw.x1) : 0; };
      ds.height = function (c) { return span(c.chart.scales.y, 0, 1); };
    });
    scales(config.options);
    return config;
  }
  document.querySelectorAll('canvas[data-config]').forEach(function (canvas) {
    var source = document.getElementById(canvas.getAttribute('data-config'));
    new C(canvas, hydrate(JSON.parse(source.textContent)));
  });
})();
`;
