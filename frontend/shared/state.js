// Panel state and the pure logic on it: which kinds and layers exist for the
// chosen runs, the union of their steps, and each run's step at a chosen step.

import { attributionDefaults } from "./attribution_state.js";
import { conceptsDefaults } from "./concepts_state.js";
import { sortRuns } from "./runs.js";

/** Runs chosen by default: all of them, up to this many. */
export const DEFAULT_RUNS = 8;

/** The panel's views and the summary kinds each one shows. */
export const VIEWS = {
  activations: { label: "Activations", kinds: ["activations"] },
  ascent: { label: "Feature visualization", kinds: ["ascent"] },
  deconv: { label: "Deconvnet / guided backprop", kinds: ["deconvnet", "guided_backprop", "gradient", "accentuation"] },
  units: { label: "Units", kinds: ["units"] },
  attribution: { label: "Attribution", kinds: ["attribution"] },
  concepts: { label: "Concepts", kinds: ["concepts"] },
  model: { label: "Model", kinds: ["model"] },
};

export const METHOD_LABELS = {
  deconvnet: "deconvnet",
  guided_backprop: "guided backprop",
  gradient: "gradient",
  accentuation: "feature accentuation",
  // Attribution methods (their sanity badges in the Attribution view)
  gradcam: "Grad-CAM",
  "gradcam++": "Grad-CAM++",
  layercam: "LayerCAM",
  scorecam: "Score-CAM",
  smoothgrad: "SmoothGrad",
  vargrad: "VarGrad",
  rise: "RISE",
};

export const METHOD_CITATIONS = {
  deconvnet: "Zeiler & Fergus 2014",
  guided_backprop: "Springenberg et al. 2014",
  gradient: "plain gradient (Simonyan et al. 2014), the contrast",
  accentuation: "Hamblin et al. 2024",
};

/** A fresh state; `step: null` means "follow the newest step". */
export function createState() {
  return {
    runs: {}, // the listing: run -> kind -> layer -> {tag, max_step, samples, ...}
    order: [], // run ids in natural order of their display names
    selectedRuns: [],
    filter: "", // regular expression on run names
    view: "activations",
    method: "deconvnet",
    layer: null, // the layer last chosen: kept by every view that has it
    layers: {}, // kind -> layer shown
    sample: 0,
    step: null,
    cmap: "viridis",
    norm: "channel",
    zoom: "auto",
    overlay: false,
    selected: null, // {kind, layer, channel} of the large view
    unitStat: "max", // Units view: the statistic of the heatmap
    unitSource: "auto", // Units view: "auto", "examples" or "probe"
    sanityOpen: null, // deconvolution view: {run, method} whose randomization curve is open
    ...attributionDefaults(), // Attribution view: attrMethods, attrOpacity, attrCmap, attrScale
    ...conceptsDefaults(), // Concepts view: conceptId, conceptOpacity, conceptCmap
  };
}

/** The summary kind the current view reads. */
export function currentKind(state) {
  return state.view === "deconv" ? state.method : state.view;
}

/** Runs of the listing, in natural order of their display names. */
export function runNames(state) {
  return state.order;
}

/** Stores a new listing and its run order. */
export function setListing(state, runs) {
  state.runs = runs;
  state.order = sortRuns(Object.keys(runs));
}

/** The runs chosen when nothing else is: all of them, up to DEFAULT_RUNS. */
export function defaultRuns(state) {
  return runNames(state).slice(0, DEFAULT_RUNS);
}

/** Whether any run has any layer of a kind. */
export function hasKind(state, kind) {
  return runNames(state).some((run) => state.runs[run][kind] && Object.keys(state.runs[run][kind]).length);
}

function layerSet(state, runs, kind) {
  const layers = new Set();
  for (const run of runs) {
    for (const layer of Object.keys((state.runs[run] || {})[kind] || {})) layers.add(layer);
  }
  return [...layers].sort();
}

/**
 * Sorted union of the layers of `kind` over the chosen runs; over all runs
 * when the chosen ones have none (a run without this kind is no dead end).
 */
export function layersOf(state, kind) {
  const chosen = layerSet(state, state.selectedRuns, kind);
  return chosen.length ? chosen : layerSet(state, runNames(state), kind);
}

/** The listing entry {tag, samples, ...} of a run/kind/layer, or null. */
export function entryOf(state, run, kind, layer) {
  const kinds = state.runs[run] || {};
  return (kinds[kind] || {})[layer] || null;
}

/**
 * Makes the state consistent with the listing: drops vanished runs, picks a
 * default view, method and layer where the current one has no data (and, with
 * pickRun, the first run when none is chosen).
 */
export function reconcile(state, pickRun = false) {
  const names = runNames(state);
  state.selectedRuns = names.filter((r) => state.selectedRuns.includes(r));
  if (pickRun && !state.selectedRuns.length && names.length) state.selectedRuns = defaultRuns(state);
  if (!VIEWS[state.view].kinds.some((k) => hasKind(state, k))) {
    const view = Object.keys(VIEWS).find((v) => VIEWS[v].kinds.some((k) => hasKind(state, k)));
    if (view) state.view = view;
  }
  if (state.view === "deconv" && !hasKind(state, state.method)) {
    state.method = VIEWS.deconv.kinds.find((k) => hasKind(state, k)) || state.method;
  }
  // One layer choice shared by the views: keep the chosen layer where this
  // kind has it, else this kind's last layer, else its first.
  const kind = currentKind(state);
  const layers = layersOf(state, kind);
  if (layers.includes(state.layer)) state.layers[kind] = state.layer;
  else if (!layers.includes(state.layers[kind])) state.layers[kind] = commonestLayer(state, kind, layers);
  return state;
}

/** The layer most chosen runs have (first in order on a tie), or null. */
function commonestLayer(state, kind, layers) {
  let best = null;
  let bestCount = -1;
  for (const layer of layers) {
    const count = state.selectedRuns.filter((run) => entryOf(state, run, kind, layer)).length;
    if (count > bestCount) {
      best = layer;
      bestCount = count;
    }
  }
  return best;
}

/** Sorted, de-duplicated union of the step numbers of several step lists. */
export function unionSteps(stepLists) {
  const all = new Set();
  for (const steps of stepLists) for (const s of steps) all.add(s.step);
  return [...all].sort((a, b) => a - b);
}

/**
 * A run's entry at a chosen step: the nearest step ≤ chosen, else its first.
 * @returns {{entry:Object, note:string}|null} note says when it is not exact.
 */
export function stepAt(steps, chosen) {
  if (!steps.length) return null;
  let best = null;
  for (const s of steps) if (s.step <= chosen) best = s;
  if (best === null) {
    return { entry: steps[0], note: `no step ≤ ${chosen}; showing its first, ${steps[0].step}` };
  }
  const note = best.step === chosen ? "" : `nearest step ≤ ${chosen}`;
  return { entry: best, note };
}

/** Whether a step's JSON flags non-finite values (bool, or one bool per tile). */
export function isNonfinite(info) {
  if (!info) return false;
  const flagValue = info.nonfinite;
  return Array.isArray(flagValue) ? flagValue.some(Boolean) : Boolean(flagValue);
}

/**
 * The steps to mark on the slider, over the runs' step lists.
 * @returns {{flagged: number[], deferred: number[]}} steps with NaN/Inf, and
 *     steps a kind was due but deferred by the overhead budget; sorted.
 */
export function stepMarks(lists) {
  const flagged = new Set();
  const deferred = new Set();
  for (const list of lists) {
    for (const s of list) {
      if (isNonfinite(s.info)) flagged.add(s.step);
      const late = s.info && Array.isArray(s.info.deferred_steps) ? s.info.deferred_steps : [];
      for (const d of late) deferred.add(d);
    }
  }
  const sorted = (set) => [...set].sort((a, b) => a - b);
  return { flagged: sorted(flagged), deferred: sorted(deferred) };
}
