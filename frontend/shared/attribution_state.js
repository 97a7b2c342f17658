// The Attribution view's part of the panel state and of the URL
// (`p.netviz.amethods`, `aopacity`, `acmap`, `ascale`): which methods are
// shown, the heatmap's opacity, the colormap of unsigned maps and the scale.

import { COLORMAPS } from "./colormaps.js";

/** Scale modes: each map on its own scale, or one scale per method. */
export const ATTRIBUTION_SCALES = {
  map: "per map",
  shared: "shared per method",
};

const DEFAULTS = { attrMethods: null, attrOpacity: 0.6, attrCmap: "inferno", attrScale: "map" };
const METHOD_NAME = /^[\w+.-]{1,40}$/;

/** The view's keys of a fresh state; `attrMethods: null` shows every method. */
export function attributionDefaults() {
  return { ...DEFAULTS };
}

/** Whether a method is shown under the state's selection. */
export function methodShown(state, method) {
  return !Array.isArray(state.attrMethods) || state.attrMethods.includes(method);
}

/**
 * The selection after switching one method on or off.
 * @param {Object} state the panel state.
 * @param {string[]} all every method the chosen runs have, in order.
 * @returns {?string[]} null when every method is shown.
 */
export function toggleMethod(state, all, method, on) {
  const shown = all.filter((m) => (m === method ? on : methodShown(state, m)));
  return shown.length === all.length ? null : shown;
}

/** The URL parameters of the view's state (only what differs from the defaults). */
export function attributionParams(state) {
  const p = {};
  if (Array.isArray(state.attrMethods)) p.amethods = state.attrMethods.join(",") || "-";
  if (state.attrOpacity !== DEFAULTS.attrOpacity) p.aopacity = String(Math.round(state.attrOpacity * 100));
  if (state.attrCmap !== DEFAULTS.attrCmap) p.acmap = state.attrCmap;
  if (state.attrScale !== DEFAULTS.attrScale) p.ascale = state.attrScale;
  return p;
}

/** Applies the view's URL parameters; a missing or malformed one gives its default. */
export function applyAttributionParams(state, params) {
  Object.assign(state, DEFAULTS);
  const methods = params.amethods;
  if (typeof methods === "string" && methods) {
    state.attrMethods = methods === "-" ? [] : methods.split(",").filter((m) => METHOD_NAME.test(m));
  }
  if (/^\d{1,3}$/.test(String(params.aopacity ?? ""))) state.attrOpacity = Math.min(100, Number(params.aopacity)) / 100;
  if (params.acmap in COLORMAPS && !COLORMAPS[params.acmap].diverging) state.attrCmap = params.acmap;
  if (params.ascale in ATTRIBUTION_SCALES) state.attrScale = params.ascale;
}
