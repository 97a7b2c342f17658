// The Concepts view's part of the panel state and of the URL
// (`p.netviz.concept`, `copacity`, `ccmap`): the concept whose page is open
// (its stable id, followed across steps), the heatmaps' opacity and colormap.

import { COLORMAPS } from "./colormaps.js";

const DEFAULTS = { conceptId: null, conceptOpacity: 0.6, conceptCmap: "inferno" };

/** The view's keys of a fresh state; `conceptId: null` shows the cards. */
export function conceptsDefaults() {
  return { ...DEFAULTS };
}

/** The URL parameters of the view's state (only what differs from the defaults). */
export function conceptsParams(state) {
  const p = {};
  if (state.view === "concepts" && Number.isInteger(state.conceptId)) p.concept = String(state.conceptId);
  if (state.conceptOpacity !== DEFAULTS.conceptOpacity) p.copacity = String(Math.round(state.conceptOpacity * 100));
  if (state.conceptCmap !== DEFAULTS.conceptCmap) p.ccmap = state.conceptCmap;
  return p;
}

/** Applies the view's URL parameters; a missing or malformed one gives its default. */
export function applyConceptsParams(state, params) {
  Object.assign(state, DEFAULTS);
  if (/^\d{1,9}$/.test(String(params.concept ?? ""))) state.conceptId = Number(params.concept);
  if (/^\d{1,3}$/.test(String(params.copacity ?? ""))) state.conceptOpacity = Math.min(100, Number(params.copacity)) / 100;
  if (params.ccmap in COLORMAPS && !COLORMAPS[params.ccmap].diverging) state.conceptCmap = params.ccmap;
}
