// A small SVG line chart (units' dead fraction and activation over steps, the
// sanity checks' similarity curves). Labels go in as text nodes; colours are
// CSS variables or run colours, so it follows the dark theme.

const NS = "http://www.w3.org/2000/svg";

/** Creates an SVG element with attributes (values as strings, never markup). */
export function svg(tag, attrs = {}, children = []) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) if (child) node.appendChild(child);
  return node;
}

function tickText(v) {
  if (!Number.isFinite(v)) return "";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-2)) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

/** An x tick: steps are integers and print in full (`12000`, not `1e+4`). */
function xTickText(v) {
  return Number.isInteger(v) && Math.abs(v) < 1e15 ? String(v) : tickText(v);
}

/**
 * The x axis of a chart: its domain and ticks. A lone x (one step logged, or
 * one label) sits in the middle with its own tick, never at an edge or beside
 * ticks at steps that were not logged.
 * @param {number[]} xs the points' x values (indices into `labels` if given).
 * @param {?string[]} labels categorical labels, or null for a numeric axis.
 * @returns {{x0:number, x1:number, ticks:Array<[number, string]>}} `x0 < x1`,
 *     both finite; ticks `[x, text]` in increasing x.
 */
export function xAxis(xs, labels = null) {
  if (labels) {
    const ticks = labels.map((label, i) => [i, String(label)]);
    return labels.length > 1 ? { x0: 0, x1: labels.length - 1, ticks } : { x0: -1, x1: 1, ticks };
  }
  const values = [...new Set(xs.filter(Number.isFinite))].sort((a, b) => a - b);
  if (!values.length) return { x0: 0, x1: 1, ticks: [] };
  const x0 = values[0];
  const x1 = values[values.length - 1];
  if (x0 === x1) return { x0: x0 - 1, x1: x0 + 1, ticks: [[x0, xTickText(x0)]] };
  const shown = values.length <= 6 ? values : [x0, x1];
  return { x0, x1, ticks: shown.map((v) => [v, xTickText(v)]) };
}

/**
 * The y domain: `yRange`, else the data's with 0 included; never empty or
 * non-finite (a flat or empty series gets `[y0, y0 + 1]`).
 * @returns {[number, number]}
 */
export function yDomain(ys, yRange = null) {
  const finite = ys.filter(Number.isFinite);
  let [y0, y1] = yRange || [Math.min(0, ...finite), Math.max(0, ...finite)];
  if (!Number.isFinite(y0)) y0 = 0;
  if (!(y1 > y0) || !Number.isFinite(y1)) y1 = y0 + 1;
  return [y0, y1];
}

/**
 * Draws lines over a numeric or categorical x axis.
 * @param {Array<{label:string, color:string, points:Array<[number, ?number]>,
 *     width?:number, dash?:string, dots?:boolean}>} series points `[x, y]`;
 *     a null y breaks the line.
 * @param {Object} [opts] `width`, `height` (px), `yRange` `[lo, hi]` (default
 *     the data's, 0 included), `xLabels` (categorical: x is an index into
 *     them), `marker` (an x drawn as a vertical line), `hlines`
 *     (`[{y, label, dash}]`), `yLabel`, `xLabel`, `title` (tooltip).
 * @returns {SVGSVGElement}
 */
export function lineChart(series, opts = {}) {
  const width = opts.width || 280;
  const height = opts.height || 120;
  const m = { left: 38, right: 10, top: 8, bottom: opts.xLabel ? 30 : 20 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).concat((opts.hlines || []).map((h) => h.y));
  const { x0, x1, ticks: xTicks } = xAxis(xs, opts.xLabels || null);
  const [y0, y1] = yDomain(ys, opts.yRange || null);
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const X = (x) => m.left + ((x - x0) / (x1 - x0)) * w;
  const Y = (y) => m.top + (1 - (y - y0) / (y1 - y0)) * h;
  const root = svg("svg", {
    class: "nv-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": opts.title || series.map((s) => s.label).join(", "),
  });
  if (opts.title) root.appendChild(svg("title", { text: opts.title }));
  const axis = svg("g", { class: "nv-chart-axis" });
  axis.appendChild(svg("line", { x1: m.left, y1: m.top + h, x2: m.left + w, y2: m.top + h }));
  axis.appendChild(svg("line", { x1: m.left, y1: m.top, x2: m.left, y2: m.top + h }));
  for (const v of [y0, (y0 + y1) / 2, y1]) {
    axis.appendChild(svg("line", { class: "nv-chart-grid", x1: m.left, y1: Y(v), x2: m.left + w, y2: Y(v) }));
    axis.appendChild(svg("text", { x: m.left - 4, y: Y(v) + 3, "text-anchor": "end", text: tickText(v) }));
  }
  const every = Math.max(1, Math.ceil(xTicks.length / Math.max(1, Math.floor(w / 40))));
  xTicks.forEach(([v, label], i) => {
    if (i % every && i !== xTicks.length - 1) return;
    axis.appendChild(svg("text", { x: X(v), y: m.top + h + 12, "text-anchor": "middle", text: label }));
  });
  if (opts.xLabel) axis.appendChild(svg("text", { x: m.left + w / 2, y: height - 3, "text-anchor": "middle", text: opts.xLabel }));
  if (opts.yLabel) axis.appendChild(svg("text", { x: 2, y: m.top - 1 + 8, "text-anchor": "start", class: "nv-chart-ylabel", text: opts.yLabel }));
  root.appendChild(axis);
  for (const line of opts.hlines || []) {
    if (!Number.isFinite(line.y)) continue;
    root.appendChild(svg("line", {
      class: "nv-chart-hline", x1: m.left, x2: m.left + w, y1: Y(line.y), y2: Y(line.y),
      "stroke-dasharray": line.dash || "4 3",
    }, [line.label ? svg("title", { text: line.label }) : null]));
  }
  if (Number.isFinite(opts.marker)) {
    root.appendChild(svg("line", { class: "nv-chart-marker", x1: X(opts.marker), x2: X(opts.marker), y1: m.top, y2: m.top + h }));
  }
  for (const s of series) {
    let d = "";
    let pen = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${X(x).toFixed(1)},${Y(y).toFixed(1)}`;
      pen = true;
    }
    const g = svg("g", { class: "nv-chart-series", "data-label": s.label });
    g.appendChild(svg("path", {
      d, fill: "none", stroke: s.color, "stroke-width": s.width || 1.5, "stroke-dasharray": s.dash || null,
    }, [svg("title", { text: s.label })]));
    if (s.dots || s.points.length <= 12) {
      for (const [x, y] of s.points) {
        if (!Number.isFinite(y)) continue;
        g.appendChild(svg("circle", { cx: X(x), cy: Y(y), r: 2.2, fill: s.color }, [
          svg("title", { text: `${s.label} · ${opts.xLabels ? opts.xLabels[x] : x}: ${tickText(y)}` }),
        ]));
      }
    }
    root.appendChild(g);
  }
  return root;
}

/** A legend: one swatch and label per series (text nodes only). */
export function chartLegend(series, el) {
  return el("div", { class: "nv-chart-legend" }, series.map((s) => el("span", { class: "nv-chart-key" }, [
    el("span", { class: "nv-swatch", style: { background: s.color }, "aria-hidden": "true" }), s.label,
  ])));
}
