// Activations view: each chosen run's colormapped grid side by side at one
// step; hover reads a value, click shows that channel large with its range.

import { colorbar } from "./colormaps.js";
import { column, loadColumn, sized, viewTitle } from "./columns.js";
import { decodeActivations, rangeOfTiles, tileStat } from "./decode.js";
import { el, fmt } from "./dom.js";
import { kindEmpty } from "./empty.js";
import { NORMALIZATIONS, effectiveMode, isDense, renderGrid, renderTile, tileAt, tileRange, zoomedSize } from "./grid.js";

function sharedRangeOf(loaded) {
  const ranges = loaded.filter((l) => l.decoded).map((l) => rangeOfTiles(l.decoded.tiles)).filter(Boolean);
  if (!ranges.length) return null;
  return [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))];
}

function gridNotes(info, tiles) {
  const shown = (info.channels || []).length;
  const total = info.channels_total || shown;
  const layout = info.layout;
  const notes = [`${shown} of ${total} ${isDense(layout) ? "units" : "channels"} shown` +
    (info.channels_omitted ? ` (${info.channels_omitted} left out by max_channels)` : "")];
  if (info.downsample > 1) notes.push(`tiles shrunk ${info.downsample}× (max_tile_size)`);
  if (layout.rows === 1 && layout.tile_width === 1 && layout.tile_height > 1) {
    notes.push("time runs down, one column per channel");
  }
  if (tiles.some((t) => !t.finite)) notes.push("magenta: no finite values");
  return el("div", { class: "nv-note", text: notes.join(" · ") });
}

function gridBody(l, ctx, sharedRange) {
  const { state } = ctx;
  const drawn = renderGrid(l.decoded, { cmap: state.cmap, mode: state.norm, sharedRange });
  const { canvas, layout } = drawn;
  const size = zoomedSize(canvas.width, canvas.height, state.zoom, ctx.fitWidth);
  sized(canvas, size);
  canvas.classList.add("nv-grid");
  const readout = el("div", { class: "nv-readout", text: "hover a tile; click for a large view" });
  const tiles = l.decoded.tiles;
  const hit = (e) => tileAt(e, canvas, layout, canvas.width, canvas.height, tiles.length);
  canvas.addEventListener("mousemove", (e) => {
    const h = hit(e);
    if (!h) return;
    const t = tiles[h.k];
    const v = t.values[h.y * t.w + h.x];
    canvas.title = `channel ${t.channel}`;
    readout.textContent = `channel ${t.channel} · (${h.y}, ${h.x}) = ${fmt(v)} · range ${fmt(t.lo)} … ${fmt(t.hi)}`;
  });
  canvas.addEventListener("click", (e) => {
    const h = hit(e);
    if (h) ctx.update({ selected: { kind: ctx.kind, layer: ctx.layer, channel: tiles[h.k].channel } });
  });
  const wrap = el("div", { class: "nv-canvas-wrap" }, [canvas]);
  const sel = state.selected;
  const k = sel ? tiles.findIndex((t) => t.channel === sel.channel) : -1;
  if (k >= 0) {
    const pad = layout.pad | 0;
    const z = size.zoom;
    wrap.appendChild(el("div", { class: "nv-tile-mark", style: {
      left: `${(k % layout.cols) * (layout.tile_width + pad) * z}px`,
      top: `${Math.floor(k / layout.cols) * (layout.tile_height + pad) * z}px`,
      width: `${layout.tile_width * z}px`, height: `${layout.tile_height * z}px`,
    } }));
  }
  return el("div", {}, [wrap, readout, gridNotes(l.entry.info, tiles)]);
}

function detailCard(l, ctx, channel, sharedRange) {
  const { state } = ctx;
  const head = el("div", { class: "nv-run-label", text: l.col.run, title: l.col.run });
  if (!l.decoded) return el("div", { class: "nv-card" }, [head, el("div", { class: "nv-note", text: l.error || "" })]);
  const k = l.decoded.tiles.findIndex((t) => t.channel === channel);
  if (k < 0) return el("div", { class: "nv-card" }, [head, el("div", { class: "nv-note", text: "channel not logged in this run" })]);
  const tile = l.decoded.tiles[k];
  const mode = effectiveMode(state.norm, l.decoded.layout);
  const range = tileRange(tile, mode, rangeOfTiles(l.decoded.tiles), sharedRange, state.cmap);
  const big = renderTile(tile, range, state.cmap);
  const unit = tile.w * tile.h === 1; // a Dense unit: one value, a swatch is enough
  const scale = unit ? 48 : Math.max(1, Math.floor(240 / Math.max(tile.w, tile.h)));
  const info = l.entry.info;
  const rows = [
    unit ? ["value", fmt(tile.values[0])]
      : ["value range", !tile.finite ? "not finite"
        : tile.lo === tile.hi ? `constant ${fmt(tile.lo)}` : `${fmt(tile.lo)} … ${fmt(tile.hi)}`],
    ["mean", fmt(tileStat(info, "mean", l.sample, k))],
    ["fraction > 0", fmt(tileStat(info, "frac_positive", l.sample, k))],
    ["colour scale", range ? `${fmt(range[0])} … ${fmt(range[1])}` : "n/a"],
    ["size", `${tile.h} × ${tile.w}`],
  ];
  return el("div", { class: "nv-card" }, [
    head,
    // A time series tile is 1 pixel wide: stretch it so it can be seen.
    sized(big, { width: tile.w === 1 && tile.h > 1 ? 32 : tile.w * scale, height: tile.h * scale }),
    el("div", { class: "nv-cbar-row" }, [
      el("span", { text: range ? fmt(range[0]) : "" }), colorbar(state.cmap, 120, 8),
      el("span", { text: range ? fmt(range[1]) : "" }),
    ]),
    el("table", { class: "nv-stats" }, rows.map(([name, value]) =>
      el("tr", {}, [el("th", { text: name }), el("td", { text: value })]))),
  ]);
}

/** Renders the activations view; resolves to its content, or null if stale. */
export async function renderActivations(ctx) {
  const { state, columns } = ctx;
  if (!columns.length) return kindEmpty("activations", ctx.layer, state.selectedRuns);
  const loaded = await Promise.all(columns.map((c) => loadColumn(c, state.sample)));
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
  const first = loaded.find((l) => l.entry && l.entry.info);
  const shape = first && first.entry.info.output_shape ? ` · output ${JSON.stringify(first.entry.info.output_shape)}` : "";
  const title = viewTitle(`Activations · ${ctx.layer}`,
    `probe input #${state.sample} · ${NORMALIZATIONS[state.norm]} · ${state.cmap}${shape}`, ctx.missing);
  const cols = el("div", { class: "nv-columns" },
    loaded.map((l) => column(l, l.decoded ? gridBody(l, ctx, sharedRange) : el("div"))));
  const parts = [title, cols];
  const sel = state.selected;
  if (sel && sel.kind === ctx.kind && sel.layer === ctx.layer) {
    parts.push(el("section", { class: "nv-detail" }, [
      el("div", { class: "nv-detail-head" }, [
        el("h3", { text: `${first && isDense(first.entry.info.layout) ? "Unit" : "Channel"} ${sel.channel}` }),
        el("button", { type: "button", class: "nv-link", text: "close", on: { click: () => ctx.update({ selected: null }) } }),
      ]),
      el("div", { class: "nv-cards" }, loaded.map((l) => detailCard(l, ctx, sel.channel, sharedRange))),
    ]));
  }
  return el("div", { class: "nv-view", dataset: { view: "activations" } }, parts);
}
