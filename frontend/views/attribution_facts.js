// What the Attribution view says beside the maps: method names, the target
// and its probability, the faithfulness figures against the random map, the
// flags with their reasons, and the ranking of the methods.
//
// Step JSON (tb_netviz/pictures/attribution.py, loggers/attribution.py):
// `targets`, `probabilities` (N × T), `target_source`, `class_names`,
// `faithfulness` {metric: {method: N × T}}, `faithfulness_mean`, `ranking`,
// `reference` (the random map's name), `flags` {method: {blank, nonfinite,
// incomplete}: N × T}, `completeness` (N × T).

import { el, fmt } from "../shared/dom.js";

export const METHOD_NAMES = {
  gradcam: "Grad-CAM",
  "gradcam++": "Grad-CAM++",
  layercam: "LayerCAM",
  scorecam: "Score-CAM",
  saliency: "Saliency",
  gradient_x_input: "Gradient × Input",
  smoothgrad: "SmoothGrad",
  vargrad: "VarGrad",
  integrated_gradients: "Integrated gradients",
  occlusion: "Occlusion",
  rise: "RISE",
  random: "random map",
};

const CITATIONS = {
  gradcam: "Selvaraju et al. 2017", "gradcam++": "Chattopadhay et al. 2018", layercam: "Jiang et al. 2021",
  scorecam: "Wang et al. 2020", saliency: "|∂y/∂x|, Simonyan et al. 2014", gradient_x_input: "Shrikumar et al. 2016",
  smoothgrad: "Smilkov et al. 2017", vargrad: "Adebayo et al. 2018", integrated_gradients: "Sundararajan et al. 2017",
  occlusion: "Zeiler & Fergus 2014", rise: "Petsiuk et al. 2018",
};

/** The faithfulness metrics: short label, which way is better, what it measures. */
export const METRICS = {
  deletion: {
    label: "deletion", short: "del", arrow: "↓", lower: true,
    title: "Deletion AUC (Petsiuk et al. 2018): the class probability as the map's most important pixels are removed first (replaced by the baseline); lower is better: a faithful map points at pixels whose removal kills the prediction fast.",
  },
  insertion: {
    label: "insertion", short: "ins", arrow: "↑", lower: false,
    title: "Insertion AUC (Petsiuk et al. 2018): the class probability as the map's most important pixels are put back first onto the baseline; higher is better: a faithful map's top pixels alone restore the prediction.",
  },
  mufidelity: {
    label: "μ-fidelity", short: "μF", arrow: "↑", lower: false,
    title: "MuFidelity (Bhatt et al. 2020): correlation between the map's sum over random pixel subsets and the drop in the class score when those pixels are set to the baseline; higher is better (1: the map predicts every drop, 0: no better than chance).",
  },
};

const GAP_TITLE = "insertion − deletion: one number for both curves; a map that does not beat the random map here says little about the model.";

export function methodName(method) {
  return METHOD_NAMES[method] || method.replace(/_/g, " ");
}

export function methodTitle(method) {
  return CITATIONS[method] ? `${methodName(method)} (${CITATIONS[method]})` : methodName(method);
}

function at(nested, n, t) {
  const v = ((nested || [])[n] || [])[t];
  return typeof v === "number" ? v : null;
}

/** The random reference's name in a step (null when it has no figures). */
export function reference(info) {
  const name = info.reference || "random";
  return Object.values(info.faithfulness || {}).some((byMethod) => name in byMethod) ? name : null;
}

/** The figures of one map (or the means with n = null): {metric: value}. */
export function figures(info, method, n, t) {
  const out = {};
  for (const metric of Object.keys(METRICS)) {
    const source = n === null ? ((info.faithfulness_mean || {})[metric] || {})[method]
      : at(((info.faithfulness || {})[metric] || {})[method], n, t);
    if (typeof source === "number") out[metric] = source;
  }
  return out;
}

/** insertion − deletion of some figures, or null. */
export function gap(f) {
  return Number.isFinite(f.insertion) && Number.isFinite(f.deletion) ? f.insertion - f.deletion : null;
}

/** Whether a method's mean insertion − deletion is no better than the random map's. */
export function notBetterThanRandom(info, method) {
  const ref = reference(info);
  const mine = gap(figures(info, method, null));
  const chance = ref ? gap(figures(info, ref, null)) : null;
  return mine !== null && chance !== null && mine <= chance;
}

/** The target of map (n, t): its name and class, probability and source. */
export function targetFacts(info, n, t) {
  const cls = at(info.targets, n, t);
  const names = Array.isArray(info.class_names) ? info.class_names : null;
  const name = cls === null ? "?" : names && names[cls] !== undefined ? String(names[cls]) : `class ${cls}`;
  let source = info.target_source || "";
  if (source === "predicted" && ((info.targets || [])[0] || []).length > 1) source = `predicted #${t + 1}`;
  return { cls, name, probability: at(info.probabilities, n, t), source };
}

/** The flags of map (n, t) as [{id, text, title}] (each a one-line reason). */
export function mapFlags(info, method, n, t) {
  const f = (info.flags || {})[method] || {};
  const out = [];
  if (((f.blank || [])[n] || [])[t]) {
    out.push({ id: "blank", text: "blank: one value everywhere", title: "The map is one value everywhere: nothing to show (e.g. Grad-CAM's ReLU removed every positive contribution)." });
  }
  if (((f.nonfinite || [])[n] || [])[t]) out.push({ id: "nonfinite", text: "NaN/Inf in the map", title: "The map had non-finite values (drawn as 0)." });
  if (((f.incomplete || [])[n] || [])[t]) {
    const miss = at(info.completeness, n, t);
    out.push({
      id: "incomplete", text: `incomplete: sum off by ${miss === null ? "?" : `${fmt(miss * 100)}%`}`,
      title: "Integrated gradients' completeness: the map's sum should equal f(x) − f(baseline); it misses by more than 5%, so more steps are needed.",
    });
  }
  return out;
}

/** "del 0.12↓ · ins 0.85↑ · μF 0.4↑" (inline), each metric with its tooltip. */
export function figureLine(f) {
  return el("span", { class: "nv-attr-figline" }, Object.entries(METRICS).filter(([m]) => m in f).map(([m, d]) =>
    el("span", { class: "nv-attr-metric", title: d.title, dataset: { metric: m } }, [`${d.short} ${fmt(f[m])}`, d.arrow])));
}

/** Whether a value of a metric is better than another (null if either is missing). */
function better(metric, value, than) {
  if (!Number.isFinite(value) || !Number.isFinite(than)) return null;
  return METRICS[metric].lower ? value < than : value > than;
}

/**
 * A map's figures as a small table (metric over value), each value marked by
 * whether it beats the random map's for the same input and target.
 */
export function figureTable(f, ref) {
  const metrics = Object.keys(METRICS).filter((m) => m in f);
  if (!metrics.length) return el("div", { class: "nv-minor", text: "faithfulness not measured" });
  return el("table", { class: "nv-attr-figs" }, [
    el("tr", {}, metrics.map((m) => el("th", { title: METRICS[m].title, text: `${METRICS[m].short}${METRICS[m].arrow}` }))),
    el("tr", {}, metrics.map((m) => {
      const beats = better(m, f[m], ref[m]);
      const vs = Number.isFinite(ref[m]) ? ` (random map: ${fmt(ref[m])})` : "";
      return el("td", {
        class: beats === null ? "" : beats ? "nv-attr-beats" : "nv-attr-loses",
        dataset: { metric: m }, title: `${METRICS[m].label} ${fmt(f[m])}${vs}`, text: fmt(f[m]),
      });
    })),
  ]);
}

/**
 * The ranking table of a step: the methods best first (the step's `ranking`),
 * their mean figures and insertion − deletion, and the random map below.
 */
export function rankingTable(info, shownMethod) {
  const ranking = (Array.isArray(info.ranking) ? info.ranking : info.methods || []).filter(shownMethod);
  const ref = reference(info);
  const metrics = Object.keys(METRICS).filter((m) => m in (info.faithfulness_mean || {}));
  const head = el("tr", {}, [
    el("th", { text: "#" }), el("th", { text: "method" }),
    ...metrics.map((m) => el("th", { title: METRICS[m].title, text: `${METRICS[m].label} ${METRICS[m].arrow}` })),
    metrics.includes("insertion") && metrics.includes("deletion") ? el("th", { title: GAP_TITLE, text: "ins − del ↑" }) : null,
    el("th"),
  ]);
  const row = (method, rank) => {
    const f = figures(info, method, null);
    const weak = rank !== null && notBetterThanRandom(info, method);
    const g = gap(f);
    return el("tr", { class: `${rank === null ? "nv-attr-ref" : ""}${weak ? " nv-attr-weak" : ""}`, dataset: { method } }, [
      el("td", { class: "nv-attr-rank", text: rank === null ? "" : String(rank + 1) }),
      el("th", { scope: "row", title: methodTitle(method), text: methodName(method) }),
      ...metrics.map((m) => el("td", { text: fmt(f[m]) })),
      metrics.includes("insertion") && metrics.includes("deletion") ? el("td", { text: fmt(g) }) : null,
      el("td", { class: "nv-minor nv-attr-note" }, [rank === null
        ? el("span", { title: "a uniformly random map, measured the same way: a method should beat it", text: "reference" })
        : weak ? el("span", { class: "nv-attr-chance", title: GAP_TITLE, text: "not better than a random map" }) : ""]),
    ]);
  };
  const inputs = (info.targets || []).length;
  const caption = metrics.length
    ? `Ranking by faithfulness (mean rank over the metrics; means over ${inputs} input${inputs === 1 ? "" : "s"} × ${((info.targets || [])[0] || []).length} target${((info.targets || [])[0] || []).length === 1 ? "" : "s"})`
    : "Faithfulness not measured at this step (metrics=()): methods in logged order";
  return el("div", { class: "nv-scroll" }, [el("table", { class: "nv-stats nv-attr-ranking" }, [
    el("caption", { text: caption }),
    head,
    ...ranking.map((m, i) => row(m, i)),
    ref && metrics.length ? row(ref, null) : null,
  ])]);
}
