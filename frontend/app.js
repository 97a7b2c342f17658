// The panel: loads the listing, keeps the state, fetches the chosen runs'
// steps, syncs the sidebar and hands the main area to the current view.

import { fetchRuns, fetchSteps, forgetCaches } from "./api.js";
import { buildControls } from "./controls.js";
import { el, replaceChildren } from "./dom.js";
import { emptyState, errorBox } from "./empty.js";
import { effectiveMode, isDense } from "./grid.js";
import {
  VIEWS, createState, currentKind, entryOf, hasKind, isNonfinite, layersOf, reconcile,
  runNames, stepAt, unionSteps,
} from "./state.js";
import { renderActivations } from "./view_activations.js";
import { renderAscent } from "./view_ascent.js";
import { renderDeconv } from "./view_deconv.js";

const POLL_MS = 30000;
const RENDERERS = { activations: renderActivations, ascent: renderAscent, deconv: renderDeconv };

export class App {
  /** @param {HTMLElement} root the element the panel fills. */
  constructor(root) {
    this.state = createState();
    this.generation = 0;
    this.pending = false;
    this.controls = buildControls((patch) => this.update(patch), () => this.refresh());
    this.main = el("main", { class: "nv-main", "aria-live": "polite" });
    this.root = root;
    replaceChildren(root, [this.controls.element, this.main]);
    this.listing = null;
    // TensorBoard's reload button does not reach plugin iframes: poll the
    // listing while visible, and re-render only when it changed.
    setInterval(() => {
      if (document.visibilityState === "visible") this.refresh(true);
    }, POLL_MS);
    // "fit" zoom depends on the width: re-render after the window is resized.
    let resizeTimer = 0;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => this.state.zoom === "auto" && this.schedule(), 200);
    });
  }

  /**
   * Reloads the listing and forgets cached step lists.
   * @param {boolean} quiet do nothing (and show no error) if it did not change.
   */
  async refresh(quiet = false) {
    let runs;
    try {
      runs = await fetchRuns();
    } catch (error) {
      if (quiet) return;
      replaceChildren(this.main, [errorBox("Could not load the NetViz run listing.", error)]);
      this.root.dataset.state = "error";
      return;
    }
    const listing = JSON.stringify(runs);
    if (quiet && listing === this.listing) return;
    this.listing = listing;
    forgetCaches();
    this.state.runs = runs;
    const empty = runNames(this.state).length === 0;
    this.root.classList.toggle("nv-empty", empty);
    if (empty) {
      replaceChildren(this.main, [emptyState()]);
      this.root.dataset.state = "empty";
      return;
    }
    reconcile(this.state, true);
    this.schedule();
  }

  /** Applies a partial state from the sidebar or a view, then re-renders. */
  update(patch) {
    const state = this.state;
    if ("layer" in patch) state.layers[currentKind(state)] = patch.layer;
    if (patch.selectedRuns === "all") patch.selectedRuns = runNames(state);
    for (const [key, value] of Object.entries(patch)) if (key !== "layer") state[key] = value;
    if ("selectedRuns" in patch) state.selectedRuns = runNames(state).filter((r) => state.selectedRuns.includes(r));
    if ("view" in patch || "method" in patch || "selectedRuns" in patch) reconcile(state);
    this.schedule();
  }

  schedule() {
    this.root.dataset.state = "loading"; // until the scheduled render lands
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  async render() {
    const generation = ++this.generation;
    const stale = () => generation !== this.generation;
    const state = this.state;
    const kind = currentKind(state);
    const layer = state.layers[kind];
    const withTag = state.selectedRuns.filter((run) => entryOf(state, run, kind, layer));
    this.root.dataset.state = "loading";
    const lists = await Promise.all(withTag.map((run) =>
      fetchSteps(run, entryOf(state, run, kind, layer).tag).catch((error) => ({ error }))));
    if (stale()) return;

    const good = lists.filter(Array.isArray);
    const steps = unionSteps(good);
    let chosen = steps.length ? steps[steps.length - 1] : 0;
    if (state.step !== null && steps.length) chosen = steps.filter((s) => s <= state.step).pop() ?? steps[0];
    const columns = withTag.map((run, i) => ({
      run,
      tag: entryOf(state, run, kind, layer).tag,
      steps: Array.isArray(lists[i]) ? lists[i] : [],
      error: Array.isArray(lists[i]) ? null : lists[i].error,
      at: Array.isArray(lists[i]) ? stepAt(lists[i], chosen) : null,
    }));
    const samples = Math.max(0, ...withTag.map((r) => entryOf(state, r, kind, layer).samples || 0));
    if (state.sample >= samples) state.sample = Math.max(0, samples - 1);
    const flagged = new Set();
    for (const list of good) for (const s of list) if (isNonfinite(s.info)) flagged.add(s.step);

    const firstInfo = columns.map((c) => c.at && c.at.entry.info).find(Boolean);
    const normNote = kind === "activations" && firstInfo && isDense(firstInfo.layout) &&
      effectiveMode(state.norm, firstInfo.layout) !== state.norm
      ? "Dense units are 1×1 tiles: per-channel scaling is meaningless there, so per layer is used."
      : "";
    const viewAvailable = {};
    for (const [id, view] of Object.entries(VIEWS)) viewAvailable[id] = view.kinds.some((k) => hasKind(state, k));
    const runHasTag = {};
    for (const run of runNames(state)) runHasTag[run] = Boolean(entryOf(state, run, kind, layer));
    this.controls.sync({
      state, layer, runHasTag, viewAvailable, normNote,
      runNames: runNames(state),
      methods: VIEWS.deconv.kinds.filter((k) => hasKind(state, k)),
      layers: layersOf(state, kind),
      samples,
      steps,
      stepIndex: Math.max(0, steps.indexOf(chosen)),
      flaggedSteps: [...flagged].sort((a, b) => a - b),
    });

    const fitWidth = Math.max(120, (this.main.clientWidth - 48) / Math.max(1, columns.length) - 24);
    const ctx = {
      state, kind, layer, columns, chosen, fitWidth, stale,
      update: (patch) => this.update(patch),
      missing: state.selectedRuns.filter((run) => !withTag.includes(run)),
    };
    let content;
    try {
      content = await RENDERERS[state.view](ctx);
    } catch (error) {
      content = errorBox("This view failed to render.", error);
    }
    if (stale() || !content) return;
    replaceChildren(this.main, [content]);
    this.root.dataset.state = "ready";
    this.root.dataset.renders = String(Number(this.root.dataset.renders || 0) + 1);
  }
}
