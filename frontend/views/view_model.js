// The model map view: the run's layer graph (record model/graph) as blocks,
// Netron-like and read-only. Layers are ranked by their longest path from an
// input (a linear chain is a sequence); ranks run down a column and columns
// wrap to fill the width. A block with data opens that layer (activations
// first); a nested model is one block that opens its own map.

import { activate, el } from "../shared/dom.js";
import { kindEmpty } from "../shared/empty.js";
import { layersWithAnyData, openView, paramsText, shapeText } from "../shared/tree.js";
import { viewTitle } from "../shared/columns.js";

const BW = 144; // block width, px
const BH = 46; // block height
const LANE = BW + 14; // horizontal pitch of blocks in one rank
const PITCH = BH + 18; // vertical pitch of ranks
const COL_GAP = 44; // between columns (room for skip edges)
const BAND_GAP = 36; // between bands of columns
const SVG_NS = "http://www.w3.org/2000/svg";

const CATEGORIES = [
  ["input", /^InputLayer$/],
  ["conv", /Conv|Dense|Embedding|LSTM|GRU|RNN|Attention/],
  ["norm", /Normalization|Dropout/],
  ["act", /Activation|ReLU|Softmax|ELU|PReLU/],
  ["pool", /Pool|Flatten|Reshape|Padding|Cropping|Resizing|Rescaling|Permute/],
  ["merge", /^(Add|Concatenate|Multiply|Subtract|Average|Maximum|Minimum|Dot)$/],
];

/** A block's colour group from its Keras class. */
export function category(cls, container) {
  if (container) return "nested";
  const found = CATEGORIES.find(([, re]) => re.test(cls || ""));
  return found ? found[0] : "other";
}

/**
 * Places the layers of one scope (a nested model's path, or "" for the top).
 * @param {Array<Object>} layers the scope's layers in graph order ({path, inbound}).
 * @param {{ranksPerColumn:number, width:number}} opts column height in ranks, and the
 *     width to fill before a new band of columns starts.
 * @returns {{nodes:Array<{layer, x, y, rank, col}>, edges:Array<[number, number]>,
 *     width:number, height:number}} nodes in the order given; edges as node indices.
 */
export function layoutMap(layers, opts) {
  const at = new Map(layers.map((l, i) => [l.path, i]));
  const rank = new Int32Array(layers.length);
  const edges = [];
  layers.forEach((layer, i) => {
    let r = 0;
    for (const src of layer.inbound || []) {
      const j = at.get(src);
      if (j === undefined || j === i) continue;
      edges.push([j, i]);
      if (j < i) r = Math.max(r, rank[j] + 1); // graph order is topological
    }
    rank[i] = r;
  });
  const perRank = [];
  const lane = new Int32Array(layers.length);
  layers.forEach((_, i) => {
    const r = rank[i];
    perRank[r] = (perRank[r] || 0) + 1;
    lane[i] = perRank[r] - 1;
  });
  const R = Math.max(2, opts.ranksPerColumn | 0);
  const columns = Math.ceil(perRank.length / R) || 1;
  // Column widths, then columns placed left to right, wrapping into bands.
  const colX = [];
  const colY = [];
  let x = 0;
  let band = 0;
  let width = 0;
  const bandHeight = R * PITCH - (PITCH - BH) + BAND_GAP;
  for (let c = 0; c < columns; c++) {
    let lanes = 1;
    for (let r = c * R; r < Math.min(perRank.length, (c + 1) * R); r++) lanes = Math.max(lanes, perRank[r] || 0);
    const w = lanes * LANE - (LANE - BW);
    if (x > 0 && x + w > opts.width) {
      x = 0;
      band++;
    }
    colX.push(x);
    colY.push(band * bandHeight);
    x += w + COL_GAP;
    width = Math.max(width, x - COL_GAP);
  }
  const nodes = layers.map((layer, i) => {
    const col = Math.floor(rank[i] / R);
    return { layer, rank: rank[i], col, x: colX[col] + lane[i] * LANE, y: colY[col] + (rank[i] % R) * PITCH };
  });
  const lastRanks = perRank.length - (columns - 1) * R;
  const height = colY[columns - 1] + Math.min(R, lastRanks) * PITCH - (PITCH - BH);
  return { nodes, edges, width: Math.max(BW, width), height: Math.max(BH, height) };
}

/** SVG path data of the edges: adjacent ranks straight down, skips around the right. */
function edgePaths(placed) {
  const near = [];
  const skip = [];
  for (const [j, i] of placed.edges) {
    const a = placed.nodes[j];
    const b = placed.nodes[i];
    if (a.col === b.col && b.rank - a.rank <= 1 && b.y > a.y) {
      const x1 = a.x + BW / 2;
      const x2 = b.x + BW / 2;
      const y1 = a.y + BH;
      const y2 = b.y;
      const m = (y1 + y2) / 2;
      near.push(`M${x1} ${y1}C${x1} ${m} ${x2} ${m} ${x2} ${y2}`);
    } else if (a.col === b.col && b.y > a.y) {
      const x1 = a.x + BW;
      const x2 = b.x + BW;
      const y1 = a.y + BH / 2;
      const y2 = b.y + BH / 2;
      const bulge = Math.max(x1, x2) + 14 + Math.min(16, (b.rank - a.rank) * 2);
      skip.push(`M${x1} ${y1}C${bulge} ${y1} ${bulge} ${y2} ${x2} ${y2}`);
    } else {
      // Into a later column (or band): from the bottom of a to the top of b.
      const x1 = a.x + BW / 2;
      const y1 = a.y + BH;
      const x2 = b.x + BW / 2;
      const y2 = b.y;
      skip.push(`M${x1} ${y1}C${x1} ${y1 + 24} ${x2} ${y2 - 24} ${x2} ${y2}`);
    }
  }
  return { near: near.join(""), skip: skip.join("") };
}

function svgPath(d, cls) {
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", d);
  path.setAttribute("class", cls);
  return path;
}

function block(node, ctx, info) {
  const { layer, x, y } = node;
  const { index, data, chosen } = info;
  const container = index.children.has(layer.path);
  const has = data.has(layer.path);
  const name = layer.path.split("/").pop();
  const shape = shapeText(layer.output_shape);
  const inner = container ? ` · ${index.children.get(layer.path).length} layers inside` : "";
  const status = has ? "click to open its pictures" : container ? "click to open its map" : "no pictures logged for this layer";
  let open = null;
  if (has) open = () => ctx.update({ view: openView(ctx.state, layer.path) || "activations", layer: layer.path, selected: null });
  else if (container) open = () => ctx.update({ mapScope: layer.path });
  return el("div", {
    class: `nv-block nv-cat-${category(layer.class, container)}${has ? " nv-has-data" : ""}` +
      `${layer.path === chosen ? " nv-chosen" : ""}${container ? " nv-container" : ""}`,
    style: { left: `${x}px`, top: `${y}px` },
    title: `${layer.path}\n${layer.class} · output ${shape} · ${paramsText(layer.params)} parameters${inner}\n${status}`,
    dataset: { path: layer.path },
    tabindex: open ? "0" : null,
    role: open ? "button" : null,
    on: open ? activate(open) : {},
  }, [
    el("div", { class: "nv-block-class", text: `${container ? "▸ " : ""}${layer.class}` }),
    el("div", { class: "nv-block-name", text: name }),
    el("div", { class: "nv-block-shape", text: has ? `● ${shape}` : shape }),
  ]);
}

/** The path bar of nested models: top › backbone › ... (each a link back). */
function scopeBar(ctx, map, scope) {
  const parts = [el("button", { type: "button", class: "nv-link", text: map.info.name || "model", on: { click: () => ctx.update({ mapScope: "" }) } })];
  let path = "";
  for (const piece of scope ? scope.split("/") : []) {
    path = path ? `${path}/${piece}` : piece;
    const target = path;
    parts.push(el("span", { text: " › " }));
    parts.push(el("button", { type: "button", class: "nv-link", text: piece, on: { click: () => ctx.update({ mapScope: target }) } }));
  }
  return el("div", { class: "nv-map-scope" }, parts);
}

/**
 * Draws one scope of a model map into a positioned box.
 * @returns {HTMLElement} the map element (blocks are DOM, edges one SVG).
 */
export function drawMap(ctx, map, scope, data, opts) {
  const layers = map.index.children.get(scope) || [];
  const placed = layoutMap(layers, opts);
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", "nv-map-edges");
  svg.setAttribute("width", String(placed.width + 40));
  svg.setAttribute("height", String(placed.height));
  const paths = edgePaths(placed);
  svg.appendChild(svgPath(paths.near, "nv-edge"));
  svg.appendChild(svgPath(paths.skip, "nv-edge nv-edge-skip"));
  const info = { index: map.index, data, chosen: ctx.state.layer };
  const blocks = placed.nodes.map((node) => block(node, ctx, info));
  return el("div", {
    class: "nv-map", role: "group", "aria-label": `model map of ${scope || map.info.name || "the model"}`,
    style: { width: `${placed.width + 40}px`, height: `${placed.height}px` },
    dataset: { blocks: String(blocks.length) },
  }, [svg, ...blocks]);
}

/** Renders the map view; resolves to its content. */
export async function renderModel(ctx) {
  const { state } = ctx;
  const map = ctx.modelMap;
  if (!map) return kindEmpty("model", null, state.selectedRuns);
  const started = performance.now();
  let scope = typeof state.mapScope === "string" && map.index.children.has(state.mapScope) ? state.mapScope : "";
  if (!map.index.children.has(scope)) scope = "";
  const data = layersWithAnyData(state);
  const main = document.querySelector(".nv-main");
  const width = Math.max(BW, (main ? main.clientWidth : 900) - 64);
  const ranksPerColumn = Math.max(6, Math.floor((window.innerHeight - 180) / PITCH));
  const drawn = drawMap(ctx, map, scope, data, { width, ranksPerColumn });
  const layers = map.index.layers;
  const marked = layers.filter((l) => data.has(l.path)).length;
  const runNote = ctx.state.selectedRuns.length > 1 ? ` · the map of run ${map.run}` : "";
  const head = viewTitle(`Model · ${map.info.name || "model"}`,
    `${map.info.layer_count ?? layers.length} layers · ${paramsText(map.info.params)} parameters · ` +
    `${marked} with pictures (●, click to open)${runNote}`, []);
  const legend = el("div", { class: "nv-note nv-map-legend" }, [
    "Each block: class, name, output shape; lines follow the inputs of each layer (skips go round the right). ",
    "Nested models are one block (▸): click to open their own map.",
  ]);
  const view = el("div", { class: "nv-view", dataset: { view: "model", scope } }, [
    head, scope ? scopeBar(ctx, map, scope) : null, legend, el("div", { class: "nv-map-scroll" }, [drawn]),
  ]);
  view.dataset.buildMs = (performance.now() - started).toFixed(1);
  return view;
}
