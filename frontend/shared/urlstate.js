// The panel's state as URL parameters (`p.netviz.<key>` in TensorBoard's
// hash): only what differs from the defaults is written, and reading checks
// every value, so a hand-edited or stale link can never break the panel.

import { applyAttributionParams, attributionParams } from "./attribution_state.js";
import { applyConceptsParams, conceptsParams } from "./concepts_state.js";
import { COLORMAPS } from "./colormaps.js";
import { NORMALIZATIONS } from "./grid.js";
import { VIEWS, createState, defaultRuns } from "./state.js";

const ZOOM_VALUES = new Set(["auto", "1", "2", "3", "4", "6", "8", "12", "16"]);
const METHODS = new Set(["deconvnet", "guided_backprop", "gradient", "accentuation"]);

function intOrNull(text) {
  if (text === undefined || text === null || !/^-?\d+$/.test(String(text))) return null;
  return Number(text);
}

/**
 * The URL parameters of a state.
 * @param {Object} state the panel state.
 * @param {boolean} defaultRuns whether the chosen runs are the default choice.
 * @returns {Object<string,string>}
 */
export function toParams(state, defaultRuns) {
  const p = {};
  if (state.view !== "activations") p.view = state.view;
  if (state.view === "deconv" && state.method !== "deconvnet") p.method = state.method;
  if (!defaultRuns) p.runs = JSON.stringify(state.selectedRuns);
  if (state.filter) p.filter = state.filter;
  if (state.layer) p.layer = state.layer;
  if (state.sample) p.probe = String(state.sample);
  if (state.step !== null) p.step = String(state.step);
  if (state.cmap !== "viridis") p.cmap = state.cmap;
  if (state.norm !== "channel") p.norm = state.norm;
  if (String(state.zoom) !== "auto") p.zoom = String(state.zoom);
  if (state.selected) p.channel = String(state.selected.channel);
  if (state.unitStat && state.unitStat !== "max") p.ustat = state.unitStat;
  if (state.unitSource && state.unitSource !== "auto") p.usource = state.unitSource;
  Object.assign(p, attributionParams(state));
  Object.assign(p, conceptsParams(state));
  return p;
}

/**
 * Applies URL parameters to a fresh state; unknown or malformed values are ignored.
 * @returns {{channel:?number}} what can only be applied once data is listed.
 */
export function applyParams(state, params) {
  if (!params) return { channel: null, runs: null };
  if (params.view in VIEWS) state.view = params.view;
  if (METHODS.has(params.method)) state.method = params.method;
  if (typeof params.filter === "string") state.filter = params.filter;
  if (typeof params.layer === "string" && params.layer) state.layer = params.layer;
  const sample = intOrNull(params.probe);
  if (sample !== null && sample >= 0) state.sample = sample;
  const step = intOrNull(params.step);
  if (step !== null) state.step = step;
  if (params.cmap in COLORMAPS) state.cmap = params.cmap;
  if (params.norm in NORMALIZATIONS) state.norm = params.norm;
  if (ZOOM_VALUES.has(params.zoom)) state.zoom = params.zoom;
  if (["max", "mean", "frac_positive"].includes(params.ustat)) state.unitStat = params.ustat;
  if (["auto", "examples", "probe"].includes(params.usource)) state.unitSource = params.usource;
  applyAttributionParams(state, params);
  applyConceptsParams(state, params);
  let runs = null;
  if (typeof params.runs === "string") {
    try {
      const list = JSON.parse(params.runs);
      if (Array.isArray(list)) runs = list.filter((r) => typeof r === "string");
    } catch {
      runs = null;
    }
  }
  return { channel: intOrNull(params.channel), runs };
}

/** The URL parameters of a state whose listing is loaded (`toParams`). */
export function urlParams(state) {
  const defaults = defaultRuns(state);
  const runs = state.selectedRuns;
  return toParams(state, defaults.length === runs.length && defaults.every((r, i) => r === runs[i]));
}

/** Whether two parameter objects hold the same keys and values. */
export function sameParams(a, b) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => String(a[k]) === String(b[k]));
}

/**
 * Applies a link to a state that is already listed (a pasted link, no
 * reload): what the link does not say returns to its default, as when the
 * link opens a new tab; the listing is kept.
 * @returns {{channel:?number, runs:?Array<string>}} as `applyParams`, to
 *     apply against the listing.
 */
export function resetToParams(state, params) {
  const fresh = createState();
  fresh.runs = state.runs;
  fresh.order = state.order;
  Object.assign(state, fresh);
  return applyParams(state, params);
}
