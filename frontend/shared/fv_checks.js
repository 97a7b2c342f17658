// The "Checks" block of a feature visualization's large view: each check of
// channel k with what it shows and what it does not establish.
//
// Step JSON (tb_netviz/pictures/ascent.py, pictures/sanity.py fv_checks_info):
// `checks: {objective, exemplar_objective, objective_ratio, beats_exemplar,
// seed_ssim, processing_similarity, exemplar_processing_similarity,
// path_layers, spectrum_distance, spectral_slope}` (one entry per tile, null
// where undefined; older records lack some) and `data_reference:
// {spectrum_spread, spectral_slope, source, count}`.

import { el, fmt } from "./dom.js";
import { ascentMarks, times } from "./flags.js";

const num = (v) => typeof v === "number" && Number.isFinite(v);

/** The objective line: never "beats real data" alone on a flagged picture. */
function objectiveNote(c, k, marks) {
  const at = (key) => (Array.isArray(c[key]) ? c[key][k] : null);
  const ratio = at("objective_ratio");
  const values = `${fmt(at("objective"))} vs ${fmt(at("exemplar_objective"))}`;
  if (at("beats_exemplar") === false) return `${values}; weaker than real data: a weak visualization`;
  const said = `objective ${num(ratio) ? times(ratio) : "above"} the best real example`;
  if (marks.length) {
    return `${values}; ${said}, but the picture is flagged ${marks.map((m) => m.id).join(", ")}: ` +
      "a high objective does not make it readable";
  }
  return `${values}; beats real data: the channel responds more to it than to any example, ` +
    "which does not show that a person can read it";
}

function naturalnessNote(info, k) {
  const c = info.checks;
  const ref = info.data_reference || {};
  const slope = Array.isArray(c.spectral_slope) ? c.spectral_slope[k] : null;
  const parts = ["RMS distance of the log power spectra"];
  if (num(ref.spectrum_spread)) parts.push(`the data's own examples: within ${fmt(ref.spectrum_spread)} (90%)`);
  if (num(slope)) {
    parts.push(`slope ${fmt(slope)}${num(ref.spectral_slope) ? ` vs the data's ${fmt(ref.spectral_slope)}` : ""} ` +
      "(natural images ≈ −2, van der Schaaf & van Hateren 1996)");
  }
  parts.push("near says image-like, not that it shows a feature");
  return parts.join("; ");
}

/**
 * The checks of tile k of an ascent step, or null when the record has none.
 * @param {Object} info the step JSON.
 * @param {number} k the tile.
 * @returns {?HTMLElement}
 */
export function fvChecks(info, k) {
  const c = info && info.checks;
  if (!c || typeof c !== "object") return null;
  const at = (key) => (Array.isArray(c[key]) ? c[key][k] : null);
  const marks = ascentMarks(info, k);
  const rows = [];
  const row = (name, value, note, weak = false) => rows.push(el("tr", { class: weak ? "nv-fv-weak" : "" }, [
    el("th", { text: name }), el("td", { text: value }), el("td", { class: "nv-minor", text: note }),
  ]));
  if (num(at("exemplar_objective"))) {
    const ratio = at("objective_ratio");
    row("vs best real example", num(ratio) ? `${fmt(ratio)}×` : "n/a", objectiveNote(c, k, marks),
      at("beats_exemplar") === false || marks.length > 0);
  } else {
    row("vs best real example", "n/a", "no exemplars logged for this channel");
  }
  row("seed stability (SSIM)", num(at("seed_ssim")) ? fmt(at("seed_ssim")) : "n/a",
    num(at("seed_ssim"))
      ? "two seeds' pictures; low is common, compare across channels; high shows the picture is repeatable, not that it is a feature"
      : "one seed (ascent_seeds=2 measures it)");
  const proc = at("processing_similarity");
  row("processed like its exemplars", num(proc) ? fmt(proc) : "n/a",
    num(proc)
      ? `Spearman over ${(c.path_layers || []).length} layers; exemplars among themselves ${fmt(at("exemplar_processing_similarity"))}; ` +
        "close says the network takes it the way it takes real data, not that it looks like them"
      : "needs exemplars");
  if ("spectrum_distance" in c) {
    const d = at("spectrum_distance");
    const spread = (info.data_reference || {}).spectrum_spread;
    row("spectrum vs the data's", num(d) ? `${fmt(d)} decades` : "n/a",
      num(d) ? naturalnessNote(info, k) : "a uniform picture has no spectrum", num(d) && num(spread) && d > spread);
  }
  return el("div", { class: "nv-fv-checks", title: (c.path_layers || []).length ? `path: ${c.path_layers.join(" → ")}` : "" }, [
    el("h4", { text: "Checks" }),
    el("table", { class: "nv-stats" }, rows),
  ]);
}
