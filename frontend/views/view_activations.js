// Activations view: each chosen run's colormapped grid in a card, at one
// tile size for the layer in every run, the probe input beside it; hover reads
// a value, a tile (click, or Tab then Enter) opens that channel large.

import { colorbar } from "../shared/colormaps.js";
import { cardGrid, column, loadColumn, runLabel, sized, viewTitle } from "../shared/columns.js";
import { compareSection } from "../shared/compare.js";
import { decodeActivations, rangeOfTiles, tileStat } from "../shared/decode.js";
import { activate, el, fmt } from "../shared/dom.js";
import { kindEmpty } from "../shared/empty.js";
import { deadActivation } from "../shared/flags.js";
import { NORMALIZATIONS, effectiveMode, isDense, renderGrid, renderTile, tileAt, tileRange, zoomedSize } from "../shared/grid.js";
import { largeView, unitWord } from "../shared/large.js";
import { loadProbe, probeFigure } from "./probe.js";

const PROBE_BOX = 96;

function sharedRangeOf(loaded) {
  const ranges = loaded.filter((l) => l.decoded).map((l) => rangeOfTiles(l.decoded.tiles)).filter(Boolean);
  if (!ranges.length) return null;
  return [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))];
}

function gridNotes(info, tiles, dead) {
  const shown = (info.channels || []).length;
  const total = info.channels_total || shown;
  const layout = info.layout;
  const notes = [`${shown} of ${total} ${isDense(layout) ? "units" : "channels"} shown` +
    (info.channels_omitted ? ` (${info.channels_omitted} left out by max_channels)` : "")];
  if (dead) notes.push(`${dead} dead (zero on every probe input, marked ⊘)`);
  if (info.downsample > 1) notes.push(`tiles shrunk ${info.downsample}× (max_tile_size)`);
  if (layout.rows === 1 && layout.tile_width === 1 && layout.tile_height > 1) notes.push("time runs down, one column per channel");
  if (tiles.some((t) => !t.finite)) notes.push("magenta: no finite values");
  return el("div", { class: "nv-note", text: notes.join(" · ") });
}

/** The colour scale actually used, as labels that say so. */
function scaleLegend(drawn, cmap, sharedRange) {
  if (drawn.mode === "channel") {
    return el("div", { class: "nv-cbar-row" }, [colorbar(cmap, 96, 8), el("span", { text: "each channel scaled to its own range (hover for values)" })]);
  }
  const range = drawn.mode === "shared" ? sharedRange || drawn.layerRange : drawn.layerRange;
  const label = drawn.mode === "shared" ? "one scale for all runs" : "one scale for the layer";
  return el("div", { class: "nv-cbar-row" }, [
    el("span", { text: range ? fmt(range[0]) : "" }), colorbar(cmap, 96, 8), el("span", { text: range ? fmt(range[1]) : "" }),
    el("span", { text: ` ${label}` }),
  ]);
}

function tileButtons(l, ctx, drawn, z) {
  const { layout } = drawn;
  const pad = layout.pad | 0;
  const info = l.entry.info;
  const word = unitWord(isDense(info.layout));
  const sel = ctx.state.selected;
  return el("div", { class: "nv-tiles" }, l.decoded.tiles.map((t) => {
    const dead = deadActivation(info, t.k);
    const open = () => ctx.update({ selected: { kind: ctx.kind, layer: ctx.layer, channel: t.channel } });
    return el("div", {
      class: `nv-tile${dead ? " nv-dead" : ""}${sel && sel.channel === t.channel ? " nv-selected" : ""}`,
      tabindex: "0", role: "button", dataset: { channel: String(t.channel) },
      title: `${word} ${t.channel}${dead ? " · dead: zero on every probe input" : ""}`,
      "aria-label": `${word} ${t.channel}${dead ? ", dead" : ""}`,
      style: {
        left: `${(t.k % layout.cols) * (layout.tile_width + pad) * z}px`,
        top: `${Math.floor(t.k / layout.cols) * (layout.tile_height + pad) * z}px`,
        width: `${layout.tile_width * z}px`, height: `${layout.tile_height * z}px`,
      },
      on: activate(open),
    }, [el("span", { class: "nv-tile-num", text: String(t.channel) })]);
  }));
}

function gridBody(l, ctx, drawn, z, sharedRange) {
  const { canvas, layout } = drawn;
  sized(canvas, { width: canvas.width * z, height: canvas.height * z });
  canvas.classList.add("nv-grid");
  const tiles = l.decoded.tiles;
  const word = unitWord(isDense(l.entry.info.layout));
  const readout = el("div", { class: "nv-readout", text: `hover a tile; click or Enter for a large view` });
  const wrap = el("div", { class: `nv-canvas-wrap${z >= 12 ? " nv-show-nums" : ""}` }, [canvas, tileButtons(l, ctx, drawn, z)]);
  wrap.addEventListener("mousemove", (e) => {
    const h = tileAt(e, canvas, layout, canvas.width, canvas.height, tiles.length);
    if (!h) return;
    const t = tiles[h.k];
    const v = t.values[h.y * t.w + h.x];
    readout.textContent = `${word} ${t.channel} · (${h.y}, ${h.x}) = ${fmt(v)} · range ${fmt(t.lo)} … ${fmt(t.hi)}`;
  });
  const dead = tiles.filter((t) => deadActivation(l.entry.info, t.k)).length;
  return el("div", { class: "nv-card-main" }, [
    el("div", { class: "nv-scroll" }, [wrap]), readout, scaleLegend(drawn, ctx.state.cmap, sharedRange),
    gridNotes(l.entry.info, tiles, dead),
  ]);
}

function detailCard(l, ctx, channel, sharedRange, sources) {
  const { state } = ctx;
  const head = runLabel(l.col);
  if (!l.decoded) return el("div", { class: "nv-card" }, [head, el("div", { class: "nv-note", text: l.error || "" })]);
  const k = l.decoded.tiles.findIndex((t) => t.channel === channel);
  if (k < 0) return el("div", { class: "nv-card" }, [head, el("div", { class: "nv-note", text: "not logged in this run" })]);
  const tile = l.decoded.tiles[k];
  const mode = effectiveMode(state.norm, l.decoded.layout);
  const range = tileRange(tile, mode, rangeOfTiles(l.decoded.tiles), sharedRange, state.cmap);
  const big = renderTile(tile, range, state.cmap);
  sources.push({ label: l.col.name, color: l.col.color, canvas: renderTile(tile, range, state.cmap), w: tile.w, h: tile.h, values: tile.values, unit: "activation" });
  const unit = tile.w * tile.h === 1;
  const scale = unit ? 48 : Math.max(1, Math.floor(240 / Math.max(tile.w, tile.h)));
  const info = l.entry.info;
  const dead = deadActivation(info, k);
  const rows = [
    unit ? ["value", fmt(tile.values[0])]
      : ["value range", !tile.finite ? "not finite" : tile.lo === tile.hi ? `constant ${fmt(tile.lo)}` : `${fmt(tile.lo)} … ${fmt(tile.hi)}`],
    ["mean", fmt(tileStat(info, "mean", l.sample, k))],
    ["fraction > 0", fmt(tileStat(info, "frac_positive", l.sample, k))],
    ["colour scale", range ? `${fmt(range[0])} … ${fmt(range[1])} (${NORMALIZATIONS[mode]})` : "n/a"],
    ["size", `${tile.h} × ${tile.w}`],
    ["step", String(l.entry.step)],
  ];
  return el("div", { class: "nv-card", style: { borderTopColor: l.col.color } }, [
    head,
    dead ? el("div", { class: "nv-dead-note", text: "⊘ dead: zero on every probe input" }) : null,
    sized(big, { width: tile.w === 1 && tile.h > 1 ? 32 : tile.w * scale, height: tile.h * scale }),
    el("div", { class: "nv-cbar-row" }, [
      el("span", { text: range ? fmt(range[0]) : "" }), colorbar(state.cmap, 120, 8), el("span", { text: range ? fmt(range[1]) : "" }),
    ]),
    el("table", { class: "nv-stats" }, rows.map(([name, value]) => el("tr", {}, [el("th", { text: name }), el("td", { text: value })]))),
  ]);
}

/** Renders the activations view; resolves to its content, or null if stale. */
export async function renderActivations(ctx) {
  const { state, columns } = ctx;
  if (!columns.length) return kindEmpty("activations", ctx.layer, state.selectedRuns);
  const [loaded, probes] = await Promise.all([
    Promise.all(columns.map((c) => loadColumn(c, state.sample))),
    Promise.all(columns.map((c) => loadProbe(state, c.run, c.at ? c.at.entry.step : ctx.chosen, state.sample))),
  ]);
  if (ctx.stale()) return null;
  for (const l of loaded) {
    if (!l.img) continue;
    try {
      l.decoded = decodeActivations(l.img, l.entry.info, l.sample);
    } catch (error) {
      l.error = `could not decode the grid: ${error.message}`;
    }
  }
  const sharedRange = state.norm === "shared" ? sharedRangeOf(loaded) : null;
  const drawn = loaded.map((l) => (l.decoded ? renderGrid(l.decoded, { cmap: state.cmap, mode: state.norm, sharedRange }) : null));
  // One zoom for the layer in every run, so tiles compare at the same size.
  // A narrow card puts the probe above the grid (the row wraps) rather than
  // shrinking the tiles to make room beside them.
  const probeBeside = probes.some(Boolean) && ctx.fitWidth >= 460;
  const fit = ctx.fitWidth - (probeBeside ? PROBE_BOX + 12 : 0);
  const zooms = drawn.filter(Boolean).map((d) => zoomedSize(d.canvas.width, d.canvas.height, state.zoom, fit).zoom);
  const z = zooms.length ? Math.min(...zooms) : 1;
  const first = loaded.find((l) => l.entry && l.entry.info);
  const dense = Boolean(first && isDense(first.entry.info.layout));
  const shape = first && first.entry.info.output_shape ? ` · output ${JSON.stringify(first.entry.info.output_shape)}` : "";
  const modeUsed = first && first.entry.info.layout ? effectiveMode(state.norm, first.entry.info.layout) : state.norm;
  const title = viewTitle(`Activations · ${ctx.layer}`,
    `probe input #${state.sample} · ${NORMALIZATIONS[modeUsed]} · ${state.cmap}${shape}`, ctx.missing);
  const cards = loaded.map((l, i) => {
    const body = l.decoded
      ? el("div", { class: "nv-card-row" }, [probes[i] ? probeFigure(probes[i], PROBE_BOX) : null, gridBody(l, ctx, drawn[i], z, sharedRange)])
      : el("div");
    return column(l, body);
  });
  const parts = [title, cardGrid(ctx, cards)];
  const sel = state.selected;
  if (sel && sel.kind === ctx.kind && sel.layer === ctx.layer) {
    const sources = [];
    const detailCards = loaded.map((l) => detailCard(l, ctx, sel.channel, sharedRange, sources));
    parts.push(largeView(`${unitWord(dense, true)} ${sel.channel} · ${ctx.layer}`, [
      el("div", { class: "nv-cards" }, detailCards),
      compareSection(sources),
    ], () => ctx.update({ selected: null })));
  }
  return el("div", { class: "nv-view", dataset: { view: "activations" } }, parts);
}
