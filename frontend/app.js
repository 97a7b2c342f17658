// The panel: loads the listing, keeps the state (and the URL in step with it),
// fetches the chosen runs' steps, syncs the sidebar and hands the main area to
// the current view. Follows TensorBoard's theme and its reload button.

import { fetchRuns, fetchSteps, forgetCaches } from "./shared/api.js";
import { buildControls } from "./shared/controls.js";
import { el, replaceChildren } from "./shared/dom.js";
import { emptyState, errorBox } from "./shared/empty.js";
import { effectiveMode, isDense } from "./shared/grid.js";
import { HostPort, followDarkMode, loadUrlParams, onHashParams, writeHashParams } from "./shared/host.js";
import { bindKeys, replaceKeepingFocus } from "./shared/keys.js";
import { compileFilter, displayName, runColors, setLogdirName } from "./shared/runs.js";
import {
  VIEWS, currentKind, createState, defaultRuns, entryOf, hasKind, stepMarks, layersOf, reconcile,
  runNames, setListing, stepAt, unionSteps,
} from "./shared/state.js";
import { applyParams, resetToParams, sameParams, urlParams } from "./shared/urlstate.js";
import { renderActivations } from "./views/view_activations.js";
import { renderAscent } from "./views/view_ascent.js";
import { renderAttribution } from "./views/view_attribution.js";
import { renderConcepts } from "./views/view_concepts.js";
import { renderDeconv } from "./views/view_deconv.js";
import { renderUnits } from "./views/view_units.js";
import { loadModelMap } from "./shared/tree.js";
import { renderModel } from "./views/view_model.js";

const POLL_MS = 10000; // cheap: the backend answers the listing from its cache
const RENDERERS = { activations: renderActivations, ascent: renderAscent, deconv: renderDeconv, units: renderUnits, attribution: renderAttribution, concepts: renderConcepts, model: renderModel };
const MIN_CARD = 330; // px: narrower cards wrap to the next row
const GAP = 16;

export class App {
  /** @param {HTMLElement} root the element the panel fills. */
  constructor(root) {
    this.state = createState();
    this.generation = 0;
    this.pending = false;
    this.ready = false; // URL state applied; from then on the URL follows the state
    this.pendingChannel = null;
    this.pendingRuns = null;
    this.steps = [];
    this.controls = buildControls((patch) => this.update(patch), () => this.reload());
    this.main = el("main", { class: "nv-main", "aria-live": "polite" });
    this.root = root;
    replaceChildren(root, [this.controls.element, this.main]);
    this.listing = null;
    this.port = new HostPort();
    this.port.listen("experimental.DataReloaded", () => {
      this.root.dataset.reloads = String(Number(this.root.dataset.reloads || 0) + 1);
      this.reload();
    });
    followDarkMode((dark) => {
      document.documentElement.classList.toggle("nv-dark", dark);
      this.root.dataset.theme = dark ? "dark" : "light";
    });
    setInterval(() => {
      if (document.visibilityState === "visible") this.refresh(true);
    }, POLL_MS);
    let resizeTimer = 0;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => this.schedule(), 150);
    });
    bindKeys(this);
  }

  /** Applies the URL's state, then loads the listing. */
  async start() {
    const params = await loadUrlParams(this.port);
    this.urlParams = params; // as read at start (for the console and tests)
    const later = applyParams(this.state, params);
    this.pendingChannel = later.channel;
    this.pendingRuns = later.runs;
    await this.refresh();
    this.ready = true;
    this.syncUrl();
    onHashParams((next) => this.followLink(next));
  }

  /** A link pasted into the address bar (a hashchange, no reload): show it. */
  followLink(params) {
    if (sameParams(params, urlParams(this.state))) return; // our own write, or nothing new
    const later = resetToParams(this.state, params);
    this.pendingChannel = later.channel;
    this.pendingRuns = later.runs;
    if (runNames(this.state).length) this.applyPending();
  }

  /** TensorBoard's reload button or ours: fetch the listing and steps again. */
  reload() {
    forgetCaches();
    this.listing = null;
    return this.refresh(true);
  }

  /**
   * Reloads the listing and forgets cached step lists.
   * @param {boolean} quiet do nothing (and show no error) if it did not change.
   */
  async refresh(quiet = false) {
    let runs;
    let logdirName;
    try {
      ({ runs, logdirName } = await fetchRuns());
    } catch (error) {
      if (quiet) return;
      replaceChildren(this.main, [errorBox("Could not load the NetViz run listing.", error)]);
      this.root.dataset.state = "error";
      return;
    }
    const listing = JSON.stringify([logdirName, runs]);
    if (quiet && listing === this.listing) return;
    this.listing = listing;
    forgetCaches();
    setLogdirName(logdirName); // before the listing: runs sort by their names
    setListing(this.state, runs);
    this.colors = runColors(runNames(this.state));
    const empty = runNames(this.state).length === 0;
    this.root.classList.toggle("nv-empty", empty);
    if (empty) {
      replaceChildren(this.main, [emptyState()]);
      this.root.dataset.state = "empty";
      return;
    }
    this.applyPending();
  }

  /** Applies the link's runs and channel, which need the listing, then renders. */
  applyPending() {
    if (this.pendingRuns) {
      this.state.selectedRuns = this.pendingRuns;
      this.pendingRuns = null;
    }
    reconcile(this.state, true);
    if (this.pendingChannel !== null) {
      const kind = currentKind(this.state);
      this.state.selected = { kind, layer: this.state.layers[kind], channel: this.pendingChannel };
      this.pendingChannel = null;
    }
    this.schedule();
  }

  /** Applies a partial state from the sidebar or a view, then re-renders. */
  update(patch) {
    const state = this.state;
    if ("layer" in patch) {
      state.layer = patch.layer;
      state.layers[currentKind(state)] = patch.layer;
    }
    if (patch.selectedRuns === "all") patch.selectedRuns = runNames(state);
    if (patch.selectedRuns === "default") patch.selectedRuns = defaultRuns(state);
    for (const [key, value] of Object.entries(patch)) if (key !== "layer") state[key] = value;
    if ("view" in patch || "method" in patch || "selectedRuns" in patch || "filter" in patch) reconcile(state);
    this.schedule();
  }

  /** Moves the step by `delta` logged steps (keyboard ←/→). */
  stepBy(delta) {
    const steps = this.steps;
    if (steps.length < 2) return;
    const current = this.state.step === null ? steps.length - 1 : Math.max(0, steps.indexOf(this.chosen));
    const i = Math.min(steps.length - 1, Math.max(0, current + delta));
    if (i === current) return;
    this.update({ step: i === steps.length - 1 ? null : steps[i] });
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

  /** Keeps TensorBoard's hash (`p.netviz.*`) in step with the state. */
  syncUrl() {
    if (this.ready) writeHashParams(urlParams(this.state));
  }

  /** The chosen runs that pass the filter: the ones with a card. */
  shownRuns() {
    const f = compileFilter(this.state.filter);
    return this.state.selectedRuns.filter((run) => f.test(displayName(run)));
  }

  layoutWidths(count) {
    const width = Math.max(200, this.main.clientWidth - 48);
    const perRow = Math.max(1, Math.min(count, Math.floor((width + GAP) / (MIN_CARD + GAP))));
    const card = (width - GAP * (perRow - 1)) / perRow;
    return { perRow, fitWidth: Math.max(120, card - 26) };
  }

  async render() {
    const generation = ++this.generation;
    const stale = () => generation !== this.generation;
    const state = this.state;
    const kind = currentKind(state);
    const layer = state.layers[kind];
    const shown = this.shownRuns();
    const withTag = shown.filter((run) => entryOf(state, run, kind, layer));
    this.root.dataset.state = "loading";
    const [lists, modelMap] = await Promise.all([
      Promise.all(withTag.map((run) =>
        fetchSteps(run, entryOf(state, run, kind, layer).tag).catch((error) => ({ error })))),
      loadModelMap(state, shown), // the layer tree and the map view (null without one)
    ]);
    if (stale()) return;

    const good = lists.filter(Array.isArray);
    const steps = unionSteps(good);
    let chosen = steps.length ? steps[steps.length - 1] : 0;
    if (state.step !== null && steps.length) chosen = steps.filter((s) => s <= state.step).pop() ?? steps[0];
    this.steps = steps;
    this.chosen = chosen;
    const columns = withTag.map((run, i) => ({
      run,
      name: displayName(run),
      color: this.colors[run],
      tag: entryOf(state, run, kind, layer).tag,
      steps: Array.isArray(lists[i]) ? lists[i] : [],
      error: Array.isArray(lists[i]) ? null : lists[i].error,
      at: Array.isArray(lists[i]) ? stepAt(lists[i], chosen) : null,
    }));
    const samples = Math.max(0, ...withTag.map((r) => entryOf(state, r, kind, layer).samples || 0));
    if (state.sample >= samples) state.sample = Math.max(0, samples - 1);
    const marks = stepMarks(good);

    const firstInfo = columns.map((c) => c.at && c.at.entry.info).find(Boolean);
    const normNote = kind === "activations" && firstInfo && isDense(firstInfo.layout) &&
      effectiveMode(state.norm, firstInfo.layout) !== state.norm
      ? "Dense units are 1×1 tiles: per-unit scaling is meaningless there, so per layer is used."
      : "";
    const viewAvailable = {};
    for (const [id, view] of Object.entries(VIEWS)) viewAvailable[id] = view.kinds.some((k) => hasKind(state, k));
    const runHasTag = {};
    for (const run of runNames(state)) runHasTag[run] = Boolean(entryOf(state, run, kind, layer));
    this.controls.sync({
      state, layer, runHasTag, viewAvailable, normNote,
      runNames: runNames(state),
      modelMap,
      colors: this.colors,
      methods: VIEWS.deconv.kinds.filter((k) => hasKind(state, k)),
      layers: layersOf(state, kind),
      samples,
      steps,
      stepIndex: Math.max(0, steps.indexOf(chosen)),
      flaggedSteps: marks.flagged,
      deferredSteps: marks.deferred,
    });
    this.syncUrl();

    const { perRow, fitWidth } = this.layoutWidths(columns.length);
    const ctx = {
      state, kind, layer, columns, chosen, fitWidth, perRow, stale, modelMap,
      update: (patch) => this.update(patch),
      missing: shown.filter((run) => !withTag.includes(run)).map(displayName),
    };
    let content;
    try {
      content = await RENDERERS[state.view](ctx);
    } catch (error) {
      content = errorBox("This view failed to render.", error);
    }
    if (stale() || !content) return;
    this.openChannel = replaceKeepingFocus(this.main, content, this.openChannel, this.state.selected);
    this.root.dataset.state = "ready";
    this.root.dataset.renders = String(Number(this.root.dataset.renders || 0) + 1);
  }
}
