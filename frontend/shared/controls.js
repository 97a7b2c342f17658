// The sidebar: view, runs, layer, probe input, step, and display settings.
// Built once; sync() updates it in place so focus and slider drags survive.

import { COLORMAPS, colorbar } from "./colormaps.js";
import { el, replaceChildren } from "./dom.js";
import { NORMALIZATIONS } from "./grid.js";
import { buildRunList } from "./run_list.js";
import { METHOD_LABELS, VIEWS } from "./state.js";
import { buildLayerTree, layersWithAnyData, openView, outputsNote } from "./tree.js";

const ZOOMS = { auto: "fit", 1: "1×", 2: "2×", 3: "3×", 4: "4×", 6: "6×", 8: "8×", 12: "12×", 16: "16×" };

function section(title, ...children) {
  return el("section", { class: "nv-section" }, [el("h3", { text: title }), ...children]);
}

function select(name, onChange) {
  return el("select", { name, class: "nv-select", "aria-label": name, on: { change: (e) => onChange(e.target.value) } });
}

/** Sets a <select>'s options (value -> label) if they changed, then its value. */
function setOptions(node, options, value) {
  const key = JSON.stringify(options);
  if (node.dataset.options !== key) {
    replaceChildren(node, options.map(([v, label]) => el("option", { value: v, text: label })));
    node.dataset.options = key;
  }
  node.value = String(value);
}

/**
 * Builds the sidebar.
 * @param {function(Object)} update called with a partial state to apply.
 * @param {function()} refresh called by the reload button.
 * @returns {{element:HTMLElement, sync:function(Object)}}
 */
export function buildControls(update, refresh) {
  const viewButtons = {};
  const viewBar = el("div", { class: "nv-segmented", role: "tablist" });
  for (const [id, view] of Object.entries(VIEWS)) {
    viewButtons[id] = el("button", {
      type: "button", role: "tab", class: "nv-seg", text: view.label, dataset: { view: id },
      on: { click: () => update({ view: id, selected: null }) },
    });
    viewBar.appendChild(viewButtons[id]);
  }
  const method = select("method", (v) => update({ method: v, selected: null }));
  const methodRow = el("label", { class: "nv-row" }, ["Method", method]);

  const runList = buildRunList(update);

  const layer = select("layer", (v) => update({ layer: v, selected: null }));
  const layerRow = el("label", { class: "nv-row" }, ["Layer", layer]);
  let viewNow = null;
  let stateNow = null;
  // A pick in the map view opens the layer where it has data (activations first).
  const tree = buildLayerTree((path) => {
    if (viewNow === "model") update({ view: openView(stateNow, path) || "activations", layer: path, selected: null });
    else update({ layer: path, selected: null });
  });
  const sample = select("probe input", (v) => update({ sample: Number(v) }));
  const sampleRow = el("label", { class: "nv-row" }, ["Probe input", sample]);

  const slider = el("input", { type: "range", class: "nv-slider", min: "0", max: "0", step: "1", "aria-label": "step" });
  const stepLabel = el("div", { class: "nv-step-label", "aria-live": "polite" });
  const flagged = el("div", { class: "nv-flagged" });
  const deferred = el("div", { class: "nv-note nv-deferred" });
  const keys = el("div", { class: "nv-note", text: "← / → move the step" });
  let stepList = [];
  slider.addEventListener("input", () => {
    const i = Number(slider.value);
    update({ step: i >= stepList.length - 1 ? null : stepList[i] });
  });

  const cmap = select("colormap", (v) => update({ cmap: v }));
  const cbar = el("div", { class: "nv-cbar" });
  const norm = select("normalization", (v) => update({ norm: v }));
  const normNote = el("div", { class: "nv-note" });
  const zoom = select("zoom", (v) => update({ zoom: v }));
  const overlay = el("input", { type: "checkbox", on: { change: (e) => update({ overlay: e.target.checked }) } });
  const colorRows = el("div", {}, [
    el("label", { class: "nv-row" }, ["Colormap", cmap]), cbar,
    el("label", { class: "nv-row" }, ["Normalize", norm]), normNote,
  ]);
  const overlayRow = el("label", { class: "nv-row nv-check" }, [overlay, "Overlay magnitude on input"]);

  const element = el("aside", { class: "nv-sidebar" }, [
    section("View", viewBar, methodRow),
    section("Runs", runList.element),
    section("Layer", layerRow, tree.element, sampleRow),
    section("Step", stepLabel, slider, flagged, deferred, keys),
    section("Display", colorRows, el("label", { class: "nv-row" }, ["Zoom", zoom]), overlayRow),
    el("button", { type: "button", class: "nv-button", text: "Reload data", on: { click: refresh } }),
  ]);

  function sync(model) {
    const { state } = model;
    for (const [id, button] of Object.entries(viewButtons)) {
      button.disabled = !model.viewAvailable[id];
      button.setAttribute("aria-selected", String(id === state.view));
      button.classList.toggle("nv-active", id === state.view);
    }
    methodRow.hidden = state.view !== "deconv";
    setOptions(method, model.methods.map((m) => [m, METHOD_LABELS[m] || m]), state.method);
    runList.sync(model);
    setOptions(layer, model.layers.map((l) => {
      const note = outputsNote(model.modelMap, l);
      return [l, note ? `${l} (${note})` : l];
    }), model.layer || "");
    layer.disabled = !model.layers.length;
    viewNow = state.view;
    stateNow = state;
    const inMap = state.view === "model";
    layerRow.hidden = inMap;
    tree.sync({
      map: model.modelMap || null,
      data: inMap ? layersWithAnyData(state) : new Set(model.layers),
      layer: inMap ? state.layer : model.layer,
    });
    sampleRow.hidden = state.view === "ascent" || model.samples < 1;
    setOptions(sample, Array.from({ length: Math.max(1, model.samples) }, (_, i) => [i, `#${i}`]), state.sample);

    stepList = model.steps;
    slider.max = String(Math.max(0, stepList.length - 1));
    slider.value = String(model.stepIndex);
    slider.disabled = stepList.length < 2;
    const chosen = stepList[model.stepIndex];
    stepLabel.textContent = stepList.length
      ? `step ${chosen}${state.step === null ? " (newest)" : ""} · ${stepList.length} logged`
      : "no steps";
    replaceChildren(flagged, model.flaggedSteps.length
      ? [el("span", { class: "nv-flag", text: `⚠ non-finite values at step ${model.flaggedSteps.join(", ")}` })]
      : []);
    deferred.textContent = model.deferredSteps.length
      ? `deferred at step ${model.deferredSteps.join(", ")} by the overhead budget (not logged)`
      : "";

    colorRows.hidden = state.view !== "activations";
    setOptions(cmap, Object.entries(COLORMAPS).map(([id, c]) => [id, c.label]), state.cmap);
    replaceChildren(cbar, [colorbar(state.cmap, 200, 10)]);
    setOptions(norm, Object.entries(NORMALIZATIONS), state.norm);
    normNote.textContent = model.normNote || "";
    setOptions(zoom, Object.entries(ZOOMS), state.zoom);
    overlayRow.hidden = state.view !== "deconv";
    overlay.checked = state.overlay;
  }

  return { element, sync };
}
