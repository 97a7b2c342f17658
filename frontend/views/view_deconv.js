// Deconvnet / guided-backprop view: for one probe input, the input beside the
// reconstruction of each channel, runs side by side; optionally each
// reconstruction's magnitude overlaid on the input. Feature accentuations
// (kind `accentuation`) are rows of the same shape, drawn in the input range:
// their overlay is what changed from the input.

import { colorbar, lut } from "../shared/colormaps.js";
import { cardGrid, column, loadColumn, runLabel, sized, viewTitle } from "../shared/columns.js";
import { compareSection } from "../shared/compare.js";
import { cropTile, pixelsOf, tileRect } from "../shared/decode.js";
import { activate, el, fmt } from "../shared/dom.js";
import { kindEmpty } from "../shared/empty.js";
import { ascentMarks, denseLayer } from "../shared/flags.js";
import { zoomedSize } from "../shared/grid.js";
import { largeView, unitWord } from "../shared/large.js";
import { loadSanity, sanityBadges, sanityCurve } from "../shared/sanity.js";
import { METHOD_CITATIONS } from "../shared/state.js";

const NOTE = "Read these pictures with care: Adebayo et al. 2018 (\"Sanity Checks for Saliency " +
  "Maps\") showed that guided backprop looks almost the same with random weights, so it shows " +
  "edges of the input more than what the network learned. Deconvnet shares much of this.";
const ACCENT = "accentuation";
const ACCENT_NOTE = "Feature accentuation (Hamblin et al. 2024): each probe input changed just enough to " +
  "raise the channel while an earlier layer's activations stay close to the input's, drawn in the input " +
  "range like the input: what changed is what the channel responds to in this input.";
const MEASURED = "The badges on each card measure it for this model: each method's maps as the " +
  "weights are re-initialized block by block from the top (click a badge for the curve).";

/**
 * Input tile in grey with tile k's magnitude (max over colour) as heat on top:
 * |v − 128| for a reconstruction, |v − input| (what changed) for an accentuation.
 */
function overlayTile(img, layout, k, fromInput) {
  const pixels = pixelsOf(img);
  const src = tileRect(0, layout);
  const rec = tileRect(k, layout);
  const canvas = document.createElement("canvas");
  canvas.width = src.w;
  canvas.height = src.h;
  const ctx = canvas.getContext("2d");
  const out = ctx.createImageData(src.w, src.h);
  const mags = new Float32Array(src.w * src.h);
  let peak = 0;
  for (let y = 0; y < src.h; y++) {
    for (let x = 0; x < src.w; x++) {
      const o = ((rec.y + y) * pixels.width + rec.x + x) * 4;
      const s = ((src.y + y) * pixels.width + src.x + x) * 4;
      const m = Math.max(...[0, 1, 2].map((c) => Math.abs(pixels.data[o + c] - (fromInput ? pixels.data[s + c] : 128))));
      mags[y * src.w + x] = m;
      peak = Math.max(peak, m);
    }
  }
  const heat = lut("inferno");
  for (let y = 0; y < src.h; y++) {
    for (let x = 0; x < src.w; x++) {
      const i = (src.y + y) * pixels.width + src.x + x;
      const d = pixels.data;
      const gray = 0.6 * (0.299 * d[i * 4] + 0.587 * d[i * 4 + 1] + 0.114 * d[i * 4 + 2]);
      const a = peak > 0 ? mags[y * src.w + x] / peak : 0;
      const h = Math.round(a * 255) * 3;
      const o = (y * src.w + x) * 4;
      for (let c = 0; c < 3; c++) out.data[o + c] = (1 - a) * gray + a * heat[h + c];
      out.data[o + 3] = 255;
    }
  }
  ctx.putImageData(out, 0, 0);
  return canvas;
}

function tileCount(info, sample) {
  return 1 + ((info.channels || [])[sample] || []).length;
}

function markBadges(marks) {
  return marks.map((m) => el("span", { class: `nv-mark nv-mark-${m.id}`, text: ` ${m.symbol}`, title: m.text }));
}

/** What tile i of a row says: its minor caption, title parts and marks. */
function tileFacts(info, sample, i, kind) {
  if (kind !== ACCENT) {
    const max = ((info.activation_max || [])[sample] || [])[i];
    return { minor: `max ${fmt(max)}`, title: [`activation max ${fmt(max)}`], marks: [] };
  }
  const at = (key) => ((info[key] || [])[sample] || [])[i];
  const row = {};
  for (const [key, list] of Object.entries(info.flags || {})) row[key] = Array.isArray(list) ? list[sample] || [] : [];
  const marks = ascentMarks({ flags: row }, i);
  const reg = (info.settings || {}).reg_layer;
  return {
    minor: `${fmt(at("objective_start"))} → ${fmt(at("objective_end"))}`,
    title: [`mean ${fmt(at("objective_start"))} → ${fmt(at("objective_end"))}`,
      `distance ${fmt(at("distance"))} at ${reg || "?"}`, ...marks.map((m) => m.text)],
    marks,
  };
}

function stripZoom(l, ctx) {
  const layout = l.entry.info.layout;
  const n = tileCount(l.entry.info, l.sample);
  return zoomedSize(Math.min(n, 5) * (layout.tile_width + 8), layout.tile_height, ctx.state.zoom, ctx.fitWidth).zoom;
}

function strip(l, ctx, z) {
  const info = l.entry.info;
  const layout = info.layout;
  const word = unitWord(denseLayer(info));
  const size = { width: layout.tile_width * z, height: layout.tile_height * z };
  const chans = (info.channels || [])[l.sample] || [];
  const accent = ctx.kind === ACCENT;
  const sel = ctx.state.selected;
  const figures = [el("figure", { class: "nv-fig nv-input" }, [
    sized(cropTile(l.img, layout, 0), size), el("figcaption", { text: `input #${l.sample}` }),
  ])];
  chans.forEach((channel, i) => {
    const k = i + 1;
    const pic = ctx.state.overlay ? overlayTile(l.img, layout, k, accent) : cropTile(l.img, layout, k);
    pic.classList.add("nv-tile-pic");
    const facts = tileFacts(info, l.sample, i, ctx.kind);
    figures.push(el("figure", {
      class: `nv-fig${sel && sel.channel === channel ? " nv-selected" : ""}` +
        facts.marks.map((m) => ` nv-${m.id}`).join("") + (facts.marks.length ? " nv-marked" : ""),
      title: [`${word} ${channel}`, ...facts.title].join(" · "),
      dataset: { channel: String(channel), marks: facts.marks.map((m) => m.id).join(" ") },
      tabindex: "0",
      role: "button",
      on: activate(() => ctx.update({ selected: { kind: ctx.kind, layer: ctx.layer, channel } })),
    }, [sized(pic, size), el("figcaption", {}, [
      el("div", { text: `${word} ${channel}` }, markBadges(facts.marks)),
      el("div", { class: "nv-minor", text: facts.minor }),
    ])]));
  });
  return el("div", {}, [
    el("div", { class: "nv-scroll" }, [el("div", { class: "nv-gallery" }, figures)]),
    el("div", { class: "nv-note", text: stripNote(info, l.sample, ctx) }),
  ]);
}

function stripNote(info, sample, ctx) {
  const accent = ctx.kind === ACCENT;
  if (ctx.state.overlay) {
    return `overlay: |${accent ? "accentuated − input" : "reconstruction"}| (max over colour), each tile scaled to its own peak`;
  }
  if (!accent) return `mid-grey = 0; symmetric scale ±${fmt((info.scale || [])[sample])}`;
  const [lo, hi] = info.input_range || [];
  const s = info.settings || {};
  return `input range ${fmt(lo)} … ${fmt(hi)}; mean activation input → accentuated; ` +
    `kept close at ${s.reg_layer || "?"} (weight ${fmt(s.reg_weight)}, ${s.steps ?? "?"} steps)`;
}

function detail(loaded, ctx, channel) {
  const sources = [];
  const cards = loaded.map((l) => {
    const head = runLabel(l.col);
    const chans = l.img ? (l.entry.info.channels || [])[l.sample] || [] : [];
    const i = chans.indexOf(channel);
    if (i < 0) return el("div", { class: "nv-card" }, [head, el("div", { class: "nv-note", text: "not among this run's reconstructions for this input" })]);
    const layout = l.entry.info.layout;
    const z = Math.max(1, Math.floor(144 / Math.max(layout.tile_width, layout.tile_height)));
    const size = { width: layout.tile_width * z, height: layout.tile_height * z };
    const fig = (canvas, text) => el("figure", { class: "nv-fig" }, [sized(canvas, size), el("figcaption", { text })]);
    const rec = cropTile(l.img, layout, i + 1);
    const accent = ctx.kind === ACCENT;
    const unit = accent ? "luminance, input range" : "luminance, mid-grey = 0";
    sources.push({ label: l.col.name, color: l.col.color, canvas: rec, w: rec.width, h: rec.height, values: null, unit });
    return el("div", { class: "nv-card", style: { borderTopColor: l.col.color } }, [
      head,
      el("div", { class: "nv-gallery" }, [
        fig(cropTile(l.img, layout, 0), "input"),
        fig(cropTile(l.img, layout, i + 1), accent ? "accentuated" : "reconstruction"),
        fig(overlayTile(l.img, layout, i + 1, accent), accent ? "change on input" : "magnitude on input"),
      ]),
      el("div", { class: "nv-cbar-row" }, [el("span", { text: "0" }), colorbar("inferno", 120, 8), el("span", { text: accent ? "peak |Δ|" : "peak |r|" })]),
    ]);
  });
  const first = loaded.find((l) => l.entry && l.entry.info);
  const word = unitWord(Boolean(first && denseLayer(first.entry.info)), true);
  return largeView(`${word} ${channel} · ${ctx.layer}`, [el("div", { class: "nv-cards" }, cards), compareSection(sources)],
    () => ctx.update({ selected: null }));
}

/** A run card's sanity badges and, when opened, the randomization curve. */
async function sanityHead(rec, run, ctx) {
  if (!rec) return [];
  const open = ctx.state.sanityOpen && ctx.state.sanityOpen.run === run ? ctx.state.sanityOpen.method : null;
  const toggle = (method) => ctx.update({ sanityOpen: method ? { run, method } : null });
  const parts = [sanityBadges(rec, ctx.kind, open, toggle)];
  if (open && rec.info.methods[open]) parts.push(await sanityCurve(rec, open, Math.min(420, Math.max(240, ctx.fitWidth - 20))));
  return parts;
}

/** Renders the deconvolution view; resolves to its content, or null if stale. */
export async function renderDeconv(ctx) {
  const { state, columns } = ctx;
  if (!columns.length) return kindEmpty(ctx.kind, ctx.layer, state.selectedRuns);
  const [loaded, checks] = await Promise.all([
    Promise.all(columns.map((c) => loadColumn(c, state.sample))),
    // The weight-randomization check measures the reconstructions, not accentuations.
    Promise.all(columns.map((c) => ctx.kind === ACCENT ? null : loadSanity(state, c.run, ctx.layer, ctx.chosen).catch(() => null))),
  ]);
  if (ctx.stale()) return null;
  const heads = await Promise.all(loaded.map((l, i) => sanityHead(checks[i], l.col.run, ctx)));
  if (ctx.stale()) return null;
  // One zoom for the layer in every run (the smallest fit), so tiles compare.
  const fits = loaded.filter((l) => l.img).map((l) => stripZoom(l, ctx));
  const z = fits.length ? Math.min(...fits) : 1;
  const method = { guided_backprop: "Guided backprop", gradient: "Gradient", [ACCENT]: "Feature accentuation" }[ctx.kind] || "Deconvnet";
  const what = ctx.kind === ACCENT ? "the input changed to raise each of its strongest channels" : "which input pixels drive the strongest channels";
  const caveat = ctx.kind === ACCENT ? ACCENT_NOTE : checks.some(Boolean) ? `${NOTE} ${MEASURED}` : NOTE;
  const parts = [
    viewTitle(`${method} · ${ctx.layer}`,
      `${METHOD_CITATIONS[ctx.kind] || ""} · probe input #${state.sample}: ${what}; click one for a large view`, ctx.missing),
    el("p", { class: `nv-caveat${ctx.kind === "guided_backprop" ? " nv-strong" : ""}`, text: caveat }),
    cardGrid(ctx, loaded.map((l, i) => column(l, l.img ? strip(l, ctx, z) : el("div"), heads[i]))),
  ];
  const sel = state.selected;
  if (sel && sel.kind === ctx.kind && sel.layer === ctx.layer) parts.push(detail(loaded, ctx, sel.channel));
  return el("div", { class: "nv-view", dataset: { view: "deconv" } }, parts);
}
