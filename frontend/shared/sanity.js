// Sanity checks (kind `sanity`): does a deconvolution depend on what the
// network learned? A badge per method in the deconvolution view, and on click
// the cascading-randomization curve (Adebayo et al. 2018): SSIM and Spearman
// against the trained model's maps after each randomized block, with the
// baseline (mean SSIM between different probe inputs, Arun et al. 2021).
//
// Step JSON (tb_netviz/pictures/sanity.py): `check`, `blocks` (top first:
// blocks[b] randomized at step b + 1), `channels`, `inputs`, `methods:
// {method: {ssim, spearman, baseline, first_below, depends_on_weights,
// verdict}}` and, from the distributions (methods/sanity/verdict.py), `caption`,
// `band` and `baseline_band` ({lo, median, hi} per block: 10-50-90% over
// inputs and channels), `inputs`, `inputs_needed`; `tiles`, `layout`; images: one strip per method, in the order
// of `methods` (tile 0 the trained map of probe input 0, tile b after step b).

import { fetchSteps, imageUrl, loadImage } from "./api.js";
import { sized } from "./columns.js";
import { cropTile } from "./decode.js";
import { el, fmt } from "./dom.js";
import { lineChart } from "./linechart.js";
import { METHOD_LABELS, entryOf, stepAt } from "./state.js";

const COLORS = { ssim: "#1976d2", spearman: "#f57c00" };

/**
 * A run's sanity record for a layer at a step (nearest logged ≤ step).
 * @returns {Promise<?{info:Object, step:number, note:string, samples:number, run:string, tag:string}>}
 */
export async function loadSanity(state, run, layer, step) {
  const entry = entryOf(state, run, "sanity", layer);
  if (!entry) return null;
  const steps = (await fetchSteps(run, entry.tag)).filter((s) => s.info && s.info.methods);
  const at = stepAt(steps, step);
  if (!at) return null;
  return { info: at.entry.info, step: at.entry.step, note: at.note, samples: at.entry.samples, run, tag: entry.tag };
}

function label(method) {
  return METHOD_LABELS[method] || method.replace(/_/g, " ");
}

/** "depends", "same" or "undetermined" for a method's result. */
export function verdictClass(result) {
  if (result.depends_on_weights === true) return "depends";
  if (result.depends_on_weights === false) return "same";
  return "undetermined";
}

/**
 * The badges of one run: one per method of its check, the shown method first.
 * @param {Object} rec from loadSanity().
 * @param {string} shown the method the view shows.
 * @param {?string} open the method whose curve is open.
 * @param {function(?string)} toggle called with a method (or null) on click.
 */
export function sanityBadges(rec, shown, open, toggle) {
  const methods = Object.keys(rec.info.methods || {});
  methods.sort((a, b) => (b === shown) - (a === shown));
  return el("div", { class: "nv-sanity", dataset: { step: String(rec.step) } }, [
    el("span", { class: "nv-minor", text: `weight randomization, step ${rec.step}${rec.note ? ` (${rec.note})` : ""}:` }),
    ...methods.map((method) => {
      const result = rec.info.methods[method];
      const kind = verdictClass(result);
      const mark = kind === "depends" ? "✓" : kind === "same" ? "⚠" : "?";
      return el("button", {
        type: "button",
        class: `nv-badge nv-badge-${kind}${method === shown ? " nv-current" : ""}${method === open ? " nv-open" : ""}`,
        title: `${label(method)}: ${result.verdict}. Click for the curve.`,
        "aria-expanded": String(method === open),
        dataset: { method, verdict: kind },
        on: { click: () => toggle(method === open ? null : method) },
      }, [el("span", { class: "nv-badge-method", text: label(method) }), ` ${mark} ${result.verdict}`]);
    }),
  ]);
}

/**
 * The randomization curve of one method: SSIM and Spearman per randomized
 * block with the baseline, the other methods' SSIM faint, and the maps strip.
 * @returns {Promise<HTMLElement>}
 */
export async function sanityCurve(rec, method, width = 360) {
  const info = rec.info;
  const result = info.methods[method];
  const blocks = info.blocks || [];
  const xLabels = ["trained", ...blocks.map((b, i) => `${i + 1}`)];
  const withTrained = (ys) => [[0, 1], ...ys.map((y, i) => [i + 1, Number.isFinite(y) ? y : null])];
  const others = Object.entries(info.methods).filter(([m]) => m !== method).map(([m, r], i) => ({
    label: `${label(m)} SSIM`, color: ["#9e9e9e", "#bdbdbd", "#757575"][i % 3], width: 1, dash: "2 2",
    points: withTrained(r.ssim || []),
  }));
  const band = result.band || {};
  const bandLines = ["lo", "hi"].filter((k) => Array.isArray(band[k])).map((k) => ({
    label: `SSIM ${k === "lo" ? "10" : "90"}th percentile of inputs`, color: COLORS.ssim, width: 0.8, dash: "1 2",
    points: withTrained(band[k]),
  }));
  const series = [
    ...others,
    ...bandLines,
    { label: "SSIM", color: COLORS.ssim, width: 2.2, points: withTrained(result.ssim || []) },
    { label: "Spearman |·|", color: COLORS.spearman, width: 2.2, dash: "5 3", points: withTrained(result.spearman || []) },
  ];
  const base = result.baseline_band || {};
  const baseLines = ["lo", "hi"].map((k) => (Array.isArray(base[k]) ? base[k][0] : null)).filter(Number.isFinite)
    .map((y) => ({ y, dash: "1 3", label: `baseline 10-90%: ${fmt(y)}` }));
  const lows = [...(result.spearman || []), ...(band.lo || [])].filter(Number.isFinite);
  const chart = lineChart(series, {
    width, height: 150, yRange: [Math.min(0, ...lows), 1], xLabels,
    xLabel: "blocks randomized, top down", dots: true,
    hlines: [{ y: result.baseline, label: `baseline ${fmt(result.baseline)}: SSIM between different probe inputs` }, ...baseLines],
    title: `${label(method)}: similarity to the trained model's maps as blocks are randomized`,
  });
  let strip = null;
  const index = Object.keys(info.methods).indexOf(method);
  if (info.layout && rec.samples > index) {
    try {
      const img = await loadImage(imageUrl(rec.run, rec.tag, rec.step, index));
      const layout = info.layout;
      const z = Math.max(1, Math.floor(48 / Math.max(layout.tile_width, layout.tile_height)));
      strip = el("div", { class: "nv-gallery nv-sanity-maps" }, (info.tiles || []).map((name, k) => el("figure", { class: "nv-frame" }, [
        sized(cropTile(img, layout, k), { width: layout.tile_width * z, height: layout.tile_height * z }),
        el("figcaption", { text: name }),
      ])));
    } catch {
      strip = null; // the curve is the point; the maps are context
    }
  }
  const blockList = blocks.map((b, i) => `${i + 1}: ${b.join(", ")}`).join(" · ");
  const first = result.first_below ? `falls below the baseline at step ${result.first_below}` : "never falls below the baseline";
  const said = typeof result.caption === "string" ? result.caption : `${result.verdict} (SSIM ${first})`;
  return el("div", { class: "nv-sanity-curve", dataset: { method } }, [
    el("div", { class: `nv-sanity-verdict nv-badge-${verdictClass(result)}`, text: `${label(method)}: ${said}` }),
    chart,
    el("div", { class: "nv-chart-legend" }, [
      ...[["SSIM", COLORS.ssim], ["Spearman rank correlation of |values|", COLORS.spearman]].map(([t, c]) =>
        el("span", { class: "nv-chart-key" }, [el("span", { class: "nv-swatch", style: { background: c } }), t])),
      el("span", { class: "nv-chart-key" }, [el("span", { class: "nv-chart-dash" }), `baseline ${fmt(result.baseline)}`]),
      others.length ? el("span", { class: "nv-chart-key", text: "grey: the other methods' SSIM" }) : null,
    ]),
    el("div", { class: "nv-note", text: `blocks (top first) ${blockList} · channel${(info.channels || []).length > 1 ? "s" : ""} ${(info.channels || []).join(", ")} · ${info.inputs} probe inputs` }),
    strip ? el("h4", { text: "Maps of probe input 0, trained → randomized" }) : null,
    strip,
  ]);
}
