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
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).concat((opts.hlines || []).map((h) => h.y))
    .filter((v) => Number.isFinite(v));
  let [x0, x1] = opts.xLabels ? [0, Math.max(1, opts.xLabels.length - 1)] : [Math.min(...xs), Math.max(...xs)];
  if (!Number.isFinite(x0)) [x0, x1] = [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  let [y0, y1] = opts.yRange || [Math.min(0, ...ys), Math.max(0, ...ys)];
  if (!(y1 > y0)) y1 = y0 + 1;
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
  const xTicks = opts.xLabels
    ? opts.xLabels.map((label, i) => [i, label])
    : [...new Set([x0, x1, ...(xs.length <= 6 ? xs : [])])].map((v) => [v, tickText(v)]);
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
