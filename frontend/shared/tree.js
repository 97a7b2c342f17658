// The layer tree: the run's model map (record model/graph) as a searchable
// tree in the sidebar. Type to filter (name, class, shape), output shapes
// shown, layers with data for the current view marked and selectable, nested
// models folded until clicked. Logs without a model map keep the plain list.

import { fetchSteps } from "./api.js";
import { activate, el, replaceChildren } from "./dom.js";
import { VIEWS, entryOf, layersOf } from "./state.js";

const MAX_MATCHES = 300; // rows shown for a filter; the rest are counted
const MAP_KIND = "model";
const MAP_LAYER = "graph";

/** Adds a stylesheet of the frontend folder once (served like style.css). */
export function useStyle(file) {
  const href = `static/${file}`;
  if ([...document.querySelectorAll("link[rel=stylesheet]")].some((l) => l.getAttribute("href") === href)) return;
  document.head.appendChild(el("link", { rel: "stylesheet", href }));
}
useStyle("model.css");

const indexes = new WeakMap(); // step info -> index

/**
 * The model map of the first of `runs` that has one.
 * @returns {Promise<?{run:string, info:Object, index:Object}>} null without one.
 */
export async function loadModelMap(state, runs) {
  const withMap = (list) => list.filter((run) => entryOf(state, run, MAP_KIND, MAP_LAYER));
  const run = withMap(runs)[0]; // the chosen runs' model only: another run's would mislead
  if (!run) return null;
  let steps;
  try {
    steps = await fetchSteps(run, entryOf(state, run, MAP_KIND, MAP_LAYER).tag);
  } catch {
    return null;
  }
  const last = steps.filter((s) => s.info && Array.isArray(s.info.layers)).pop();
  if (!last) return null;
  if (!indexes.has(last.info)) indexes.set(last.info, indexMap(last.info.layers));
  return { run, info: last.info, index: indexes.get(last.info) };
}

/**
 * What a layer that is the model's outputs is ("7 channels = the model's
 * outputs": an all-convolutional net's class scores, not features), from the
 * model map's `outputs`; "" for any other layer or without a map.
 */
export function outputsNote(modelMap, path) {
  const layer = modelMap ? modelMap.index.byPath.get(path) : null;
  return layer && typeof layer.outputs === "string" ? layer.outputs : "";
}

/**
 * Lookups over a layer list (graph order): by path, children per parent
 * ("" for the top), which paths are nested models.
 */
export function indexMap(layers) {
  const byPath = new Map();
  const children = new Map();
  for (const layer of layers) {
    if (!layer || typeof layer.path !== "string") continue;
    byPath.set(layer.path, layer);
    const parent = typeof layer.parent === "string" ? layer.parent : "";
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(layer);
  }
  return { byPath, children, layers: [...byPath.values()] };
}

/** "32×32×64" for [null, 32, 32, 64]; "?" when unknown. */
export function shapeText(shape) {
  if (!Array.isArray(shape)) return "?";
  const dims = shape.slice(1).map((d) => (d === null ? "?" : String(d)));
  return dims.length ? dims.join("×") : "scalar";
}

/** "23.6 M" style parameter counts. */
export function paramsText(n) {
  if (!Number.isFinite(n)) return "?";
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** The views that have data for a layer (in the panel's view order). */
export function viewsWithData(state, path) {
  return Object.entries(VIEWS)
    .filter(([id, view]) => id !== "model" && view.kinds.some((k) => layersOf(state, k).includes(path)))
    .map(([id]) => id);
}

/** The view a layer opens in from the map: activations when it has them. */
export function openView(state, path) {
  const views = viewsWithData(state, path);
  return views.includes("activations") ? "activations" : views[0] || null;
}

/** Layers with data in any data view (what the map marks). */
export function layersWithAnyData(state) {
  const found = new Set();
  for (const [id, view] of Object.entries(VIEWS)) {
    if (id === "model") continue;
    for (const kind of view.kinds) for (const layer of layersOf(state, kind)) found.add(layer);
  }
  return found;
}

/** Does a layer match every whitespace-separated term of a filter? */
export function matches(layer, terms) {
  const text = `${layer.path} ${layer.class} ${shapeText(layer.output_shape)}`.toLowerCase();
  return terms.every((t) => text.includes(t));
}

/**
 * The rows the tree shows: folded nesting without a filter; with one, every
 * match in graph order (full paths), at most MAX_MATCHES.
 * @returns {{rows:Array<{layer:Object, depth:number, container:boolean}>, more:number}}
 */
export function visibleRows(index, filter, expanded) {
  const terms = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const rows = [];
  if (terms.length) {
    let count = 0;
    for (const layer of index.layers) {
      if (!matches(layer, terms)) continue;
      if (count++ < MAX_MATCHES) rows.push({ layer, depth: 0, container: index.children.has(layer.path), flat: true });
    }
    return { rows, more: Math.max(0, count - MAX_MATCHES) };
  }
  const walk = (parent, depth) => {
    for (const layer of index.children.get(parent) || []) {
      const container = index.children.has(layer.path);
      rows.push({ layer, depth, container });
      if (container && expanded.has(layer.path)) walk(layer.path, depth + 1);
    }
  };
  walk("", 0);
  return { rows, more: 0 };
}

/** The nested models a path sits in, outermost first. */
export function ancestors(index, path) {
  const out = [];
  let layer = index.byPath.get(path);
  while (layer && typeof layer.parent === "string") {
    out.unshift(layer.parent);
    layer = index.byPath.get(layer.parent);
  }
  return out;
}

/**
 * Builds the tree (hidden until a model map is given to sync).
 * @param {function(string)} pick called with a layer path that has data.
 * @returns {{element:HTMLElement, sync:function(Object)}}
 */
export function buildLayerTree(pick) {
  const expanded = new Set();
  let opened = null; // the layer whose nesting was last unfolded for it
  let last = null;
  let current = null;
  const summary = el("div", { class: "nv-note nv-tree-summary" });
  const input = el("input", {
    type: "search", class: "nv-tree-filter", placeholder: "find a layer (name, class, shape)",
    "aria-label": "find a layer", spellcheck: "false",
  });
  const list = el("div", { class: "nv-tree", role: "tree", "aria-label": "model layers" });
  const more = el("div", { class: "nv-note nv-tree-more" });
  const element = el("div", { class: "nv-tree-box", hidden: true }, [summary, input, list, more]);
  input.addEventListener("input", () => draw(true));

  function row(r) {
    const { layer, depth, container } = r;
    const has = current.data.has(layer.path);
    const chosen = layer.path === current.layer;
    const name = r.flat ? layer.path : layer.path.split("/").pop();
    const open = expanded.has(layer.path);
    const toggle = container
      ? el("button", {
        type: "button", class: "nv-tree-toggle", text: open ? "▾" : "▸", tabindex: "-1",
        "aria-label": open ? "fold" : "unfold",
        on: { click: (e) => { e.stopPropagation(); flip(layer.path); } },
      })
      : el("span", { class: "nv-tree-toggle", "aria-hidden": "true" });
    const outputs = typeof layer.outputs === "string" ? `\n${layer.outputs} (class scores, not features)` : "";
    const what = `${layer.class} · output ${shapeText(layer.output_shape)} · ${paramsText(layer.params)} parameters${outputs}`;
    const status = has ? "click to show it" : container ? "a nested model: click to unfold" : "no data for this view";
    const node = el("div", {
      class: `nv-tree-row${has ? " nv-has-data" : ""}${chosen ? " nv-chosen" : ""}`,
      role: "treeitem", tabindex: "0", "aria-level": String(depth + 1),
      "aria-selected": String(chosen), "aria-disabled": String(!has && !container),
      title: `${layer.path}\n${what}\n${status}`,
      dataset: { path: layer.path },
      style: { paddingLeft: `${depth * 12}px` },
      on: activate(() => {
        if (has) pick(layer.path);
        else if (container) flip(layer.path);
      }),
    }, [
      toggle,
      el("span", { class: "nv-tree-dot", text: has ? "●" : "", "aria-hidden": "true" }),
      el("span", { class: "nv-tree-name", text: name }),
      el("span", { class: "nv-tree-meta", text: `${shapeText(layer.output_shape)}${outputs ? " = outputs" : ""}` }),
    ]);
    if (container) node.setAttribute("aria-expanded", String(open));
    return node;
  }

  function flip(path) {
    if (expanded.has(path)) expanded.delete(path);
    else expanded.add(path);
    draw(true);
  }

  function draw(force) {
    if (!current) return;
    const key = [current.index, input.value, [...expanded].join("\n"), current.dataKey, current.layer];
    if (!force && last && key.every((v, i) => v === last[i])) return;
    last = key;
    const { rows, more: extra } = visibleRows(current.index, input.value, expanded);
    replaceChildren(list, rows.length ? rows.map(row) : [el("div", { class: "nv-note", text: "no layer matches" })]);
    more.textContent = extra ? `${extra} more match; refine the filter` : "";
  }

  /**
   * @param {{map:?{info,index}, data:Set<string>, layer:?string}} model
   *     the model map, the layers with data for the current view, the layer shown.
   */
  function sync(model) {
    element.hidden = !model.map;
    if (!model.map) {
      current = null;
      return;
    }
    const { info, index } = model.map;
    const data = model.data;
    // Unfold the nesting of the layer shown, once per layer.
    if (model.layer && model.layer !== opened && index.byPath.has(model.layer)) {
      for (const a of ancestors(index, model.layer)) expanded.add(a);
      opened = model.layer;
    }
    current = { index, data, dataKey: [...data].join("\n"), layer: model.layer };
    const marked = index.layers.filter((l) => data.has(l.path)).length;
    summary.textContent = `${info.name || "model"} · ${info.layer_count ?? index.layers.length} layers · ` +
      `${paramsText(info.params)} parameters · ${marked} with data here (●)`;
    draw(false);
  }

  return { element, sync };
}
