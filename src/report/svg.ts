/**
 * vega-lite → SVG, once, when the report is made (docs/design.md "The HTML report"): the page
 * carries the drawn SVG, no script and no data to draw it from, so it opens anywhere without a
 * network or a server. Element ids vega writes (clip paths) are prefixed per chart, so several
 * charts in one page never share one.
 */
import * as vega from 'vega';
import {compile, type TopLevelSpec} from 'vega-lite';

let charts = 0;

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), {renderer: 'none'});
  try {
    const svg = await view.toSVG();
    const prefix = `c${++charts}-`;
    return svg.replace(/\bid="([^"]+)"/g, `id="${prefix}$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}$1)`);
  } finally {
    view.finalize();
  }
}
