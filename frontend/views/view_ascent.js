// Feature-visualization (gradient ascent) view: each run's channel images side
// by side; click one for it large, its objective, and a filmstrip over steps.

import { imageUrl, loadImage } from "../shared/api.js";
import { cardGrid, column, loadColumn, runLabel, sized, viewTitle } from "../shared/columns.js";
import { compareSection } from "../shared/compare.js";
import { cropTile } from "../shared/decode.js";
import { activate, el, flag, fmt } from "../shared/dom.js";
import { kindEmpty } from "../shared/empty.js";
import { downloadCanvas, filmstripCanvas } from "../shared/export.js";
import { MAX_FILM, evenly, filmRow } from "../shared/filmstrip.js";
import { addExemplarStrips } from "../shared/exemplars.js";
import { fvChecks } from "../shared/fv_checks.js";
import { ascentMarks, atBounds, denseLayer, unreadable } from "../shared/flags.js";
import { bestExample, standInPictures } from "../shared/stand_in.js";
import { zoomedSize } from "../shared/grid.js";
import { largeView, unitWord } from "../shared/large.js";
import { unionSteps } from "../shared/state.js";
import { useStyle } from "../shared/tree.js";

useStyle("model.css"); // the marks' styles

/** Index of a named image of an ascent step (`info.images`), or -1. */
function imageIndex(info, name) {
  const images = info && info.images;
  const i = images && Number.isInteger(images[name]) ? images[name] : -1;
  return i >= 0 && i < (info.samples ?? Infinity) ? i : -1;
}

/** Loads a step's extra grid (alpha, facets) beside its pictures, or null. */
async function loadExtra(l, name) {
  const i = l.entry && l.entry.info ? imageIndex(l.entry.info, name) : -1;
  if (i < 1 || !l.img) return null;
  try {
    return await loadImage(imageUrl(l.col.run, l.col.tag, l.entry.step, i));
  } catch {
    return null;
  }
}

/**
 * The picture with MACO's transparency map as its opacity: where the channel
 * drew no gradient the picture fades out. The map is scaled so its top 5% of
 * pixels are opaque (it is peaked; linear opacity hides nearly everything).
 */
function withAlpha(picture, alphaTile) {
  const w = picture.width;
  const h = picture.height;
  const g = picture.getContext("2d");
  const px = g.getImageData(0, 0, w, h);
  const a = alphaTile.getContext("2d").getImageData(0, 0, w, h).data;
  const values = [];
  for (let i = 0; i < w * h; i++) values.push(a[i * 4]);
  values.sort((x, y) => x - y);
  const top = Math.max(1, values[Math.floor(0.95 * (values.length - 1))]);
  for (let i = 0; i < w * h; i++) px.data[i * 4 + 3] = Math.min(255, Math.round((a[i * 4] / top) * 255));
  g.putImageData(px, 0, 0);
  picture.classList.add("nv-alpha-pic");
  return picture;
}

/** Tile k's picture, faded by its transparency map when the toggle is on. */
function picture(l, k, ctx) {
  const tile = cropTile(l.img, l.entry.info.layout, k);
  return ctx.state.ascentAlpha && l.alphaImg ? withAlpha(tile, cropTile(l.alphaImg, l.entry.info.layout, k)) : tile;
}

function markBadges(marks) {
  return marks.map((m) => el("span", { class: `nv-mark nv-mark-${m.id}`, text: ` ${m.symbol}`, title: m.text }));
}

function tileFlag(info, k) {
  return Array.isArray(info.nonfinite) && info.nonfinite[k];
}

/** Tiles per row and the zoom a run's gallery would fit at. */
function galleryFit(info, ctx) {
  const layout = info.layout;
  const count = (info.channels || []).length;
  const perRow = Math.max(1, Math.min(layout.cols || count, count));
  return { perRow, zoom: zoomedSize(perRow * (layout.tile_width + 8), layout.tile_height, ctx.state.zoom, ctx.fitWidth).zoom };
}

function gallery(l, ctx, z) {
  const info = l.entry.info;
  const layout = info.layout;
  const channels = info.channels || [];
  const word = unitWord(denseLayer(info));
  const sel = ctx.state.selected;
  const figures = channels.map((channel, k) => {
    const canvas = sized(picture(l, k, ctx), { width: layout.tile_width * z, height: layout.tile_height * z });
    canvas.classList.add("nv-tile-pic");
    const objective = (info.objective || [])[k];
    const marks = ascentMarks(info, k);
    const dead = marks.some((m) => m.id === "dead");
    const label = el("figcaption", { text: `${word} ${channel}` }, markBadges(marks));
    if (tileFlag(info, k)) label.appendChild(flag("", "non-finite values during optimization"));
    // One line under a marked tile says why, wrapped to the figure's width
    // (width 0 + min-width 100%: it never widens the figure).
    const reason = marks.length
      ? el("div", { class: "nv-minor nv-mark-reason", text: marks.map((m) => m.reason).join(" · "), style: { width: "0", minWidth: "100%" } })
      : null;
    return el("figure", {
      class: `nv-fig${sel && sel.channel === channel ? " nv-selected" : ""}${dead ? " nv-dead" : ""}` +
        marks.filter((m) => m.id !== "dead").map((m) => ` nv-${m.id}`).join("") + (marks.length ? " nv-marked" : ""),
      title: [`${word} ${channel} · objective ${fmt(objective)}`, ...marks.map((m) => m.text)].join(" · "),
      dataset: { channel: String(channel), marks: marks.map((m) => m.id).join(" ") },
      tabindex: "0",
      role: "button",
      on: activate(() => ctx.update({ selected: { kind: ctx.kind, layer: ctx.layer, channel } })),
    }, [canvas, label, reason]);
  });
  const notes = [`${info.preset || "custom"} preset · ${info.steps_done ?? "?"} steps · seed ${info.seed ?? "?"}`];
  if (Array.isArray(info.input_range)) notes.push(`input range ${fmt(info.input_range[0])} … ${fmt(info.input_range[1])}`);
  const counts = { dead: 0, saturated: 0, constant: 0, flat: 0, noise: 0, fine: 0, border: 0 };
  for (let k = 0; k < channels.length; k++) for (const m of ascentMarks(info, k)) counts[m.id]++;
  const markNote = {
    dead: info.flags && !Array.isArray(info.flags) ? "dead (no rise from the start, marked ⊘)" : "dead (objective ≤ 0, marked ⊘)",
    saturated: "saturated (mostly at the input bounds, marked ◐)",
    constant: "constant (one flat colour, marked ▭)",
    flat: "flat (far less contrast than the data, marked ▢)",
    noise: "noise (far more fine detail than the data, marked ▒)",
    fine: "fine (a grating finer than the data, marked ≋)",
    border: "border (the energy is in the frame: uniform inside, marked ⬚)",
  };
  for (const id of Object.keys(counts)) if (counts[id]) notes.push(`${counts[id]} ${markNote[id]}`);
  if (l.alphaImg && ctx.state.ascentAlpha) notes.push("faded by the transparency map");
  return el("div", {}, [
    el("div", { class: "nv-scroll" }, [el("div", { class: "nv-gallery" }, figures)]),
    info.budget_exhausted ? flag("time budget ran out: images are partial", "ascent_budget_s was reached") : null,
    el("div", { class: "nv-note", text: notes.join(" · ") }),
  ]);
}

/** Channel k's facets (row k of the facets grid), when the step has them. */
function facetRow(l, k, scale) {
  const fl = l.entry.info.facets_layout;
  if (!l.facetsImg || !fl || !(fl.cols > 0)) return null;
  const size = { width: fl.tile_width * Math.max(1, Math.floor(scale / 2)), height: fl.tile_height * Math.max(1, Math.floor(scale / 2)) };
  const figures = [];
  for (let f = 0; f < fl.cols; f++) {
    figures.push(el("figure", { class: "nv-fig nv-facet" }, [sized(cropTile(l.facetsImg, fl, k * fl.cols + f), size), el("figcaption", { text: `facet ${f + 1}` })]));
  }
  return el("div", { class: "nv-facets" }, [
    el("h4", { text: `Facets: ${fl.cols} pictures for this channel, pushed apart (Gram-matrix diversity, Olah et al. 2017)` }),
    el("div", { class: "nv-gallery" }, figures),
  ]);
}

async function detail(loaded, ctx, channel) {
  const sources = [];
  const first = loaded.find((l) => l.entry && l.entry.info);
  const word = unitWord(Boolean(first && denseLayer(first.entry.info)));
  const cards = await Promise.all(loaded.map(async (l) => {
    const head = runLabel(l.col);
    const k = l.entry && l.entry.info ? (l.entry.info.channels || []).indexOf(channel) : -1;
    if (!l.img || k < 0) return el("div", { class: "nv-card" }, [head, el("div", { class: "nv-note", text: "not visualized in this run" })]);
    const info = l.entry.info;
    const layout = info.layout;
    const scale = Math.max(1, Math.floor(192 / Math.max(layout.tile_width, layout.tile_height)));
    const tile = cropTile(l.img, layout, k);
    sources.push({ label: l.col.name, color: l.col.color, canvas: tile, w: tile.width, h: tile.height, values: null, unit: "luminance" });
    const marks = ascentMarks(info, k);
    const size = { width: layout.tile_width * scale, height: layout.tile_height * scale };
    const bounds = atBounds(info, k);
    const alphaMax = info.alpha && Array.isArray(info.alpha.max) ? info.alpha.max[k] : null;
    const why = unreadable(marks);
    const best = why ? await bestExample(ctx.state, l.col.run, ctx.layer, channel, l.entry.step) : null;
    const pics = best ? standInPictures(best, picture(l, k, ctx), why, size) : [el("figure", { class: "nv-big-pic" }, [
      sized(picture(l, k, ctx), size), l.alphaImg ? el("figcaption", { text: "picture" }) : null,
    ])];
    if (l.alphaImg) {
      pics.push(el("figure", { class: "nv-big-pic nv-alpha-map", title: "MACO's transparency map: where the channel's gradient accumulated (white = most)" }, [
        sized(cropTile(l.alphaImg, layout, k), size), el("figcaption", { text: "transparency map" }),
      ]));
    }
    return el("div", { class: "nv-card", style: { borderTopColor: l.col.color } }, [
      head,
      ...marks.map((m) => el("div", { class: `nv-dead-note nv-mark-note nv-mark-${m.id}`, text: `${m.symbol} ${m.text}` })),
      el("div", { class: "nv-big-pics" }, pics),
      el("table", { class: "nv-stats" }, [
        el("tr", {}, [el("th", { text: "objective" }), el("td", { text: fmt((info.objective || [])[k]) })]),
        bounds === null ? null : el("tr", {}, [el("th", { text: "pixels at the bounds" }), el("td", { text: `${fmt(bounds * 100)}%` })]),
        alphaMax === null || alphaMax === undefined ? null
          : el("tr", {}, [el("th", { text: "transparency map peak" }), el("td", { text: fmt(alphaMax) })]),
        el("tr", {}, [el("th", { text: "step" }), el("td", { text: String(l.entry.step) })]),
      ]),
      fvChecks(info, k), // objective vs real exemplars, seeds, processing path, spectrum
      facetRow(l, k, scale),
      tileFlag(info, k) ? flag("non-finite values", "NaN or Inf during optimization") : null,
    ]);
  }));
  if (ctx.stale()) return null;
  // One shared step axis, so frames of runs logged at different steps line up.
  const axis = evenly(unionSteps(loaded.map((l) => l.col.steps)), MAX_FILM);
  const frameLists = loaded.map(() => []);
  const rows = await Promise.all(loaded.map((l, i) => filmRow(l.col, channel, l.entry && l.entry.step, axis, frameLists[i])));
  const saveFilm = el("button", {
    type: "button", class: "nv-button nv-export-film", text: "Download filmstrip PNG",
    on: {
      click: () => {
        const style = getComputedStyle(document.body);
        const strip = filmstripCanvas(loaded.map((l, i) => ({ label: l.col.name, color: l.col.color, frames: frameLists[i] })), 2,
          { bg: style.backgroundColor, fg: style.color });
        downloadCanvas(strip, `netviz_filmstrip_${ctx.layer}_${word}${channel}.png`);
      },
    },
  });
  return largeView(`${word[0].toUpperCase()}${word.slice(1)} ${channel} · ${ctx.layer}`, [
    el("div", { class: "nv-cards" }, cards),
    compareSection(sources),
    el("div", { class: "nv-row nv-film-head" }, [el("h4", { text: "Across logged steps" }), saveFilm]),
    el("div", { class: "nv-films" }, rows),
  ], () => ctx.update({ selected: null }));
}

/** Renders the ascent view; resolves to its content, or null if stale. */
export async function renderAscent(ctx) {
  const { state, columns } = ctx;
  if (!columns.length) return kindEmpty("ascent", ctx.layer, state.selectedRuns);
  const sel0 = state.selected;
  const open = Boolean(sel0 && sel0.kind === ctx.kind && sel0.layer === ctx.layer);
  const loaded = await Promise.all(columns.map(async (c) => {
    const l = await loadColumn(c, 0);
    [l.alphaImg, l.facetsImg] = await Promise.all([loadExtra(l, "alpha"), open ? loadExtra(l, "facets") : null]);
    return l;
  }));
  if (ctx.stale()) return null;
  // One zoom for the layer in every run (the smallest fit), so tiles compare.
  const fits = loaded.filter((l) => l.img).map((l) => galleryFit(l.entry.info, ctx).zoom);
  const z = fits.length ? Math.min(...fits) : 1;
  const hasAlpha = loaded.some((l) => l.alphaImg);
  const alphaToggle = hasAlpha
    ? el("label", {
      class: "nv-row nv-check nv-alpha-toggle",
      title: "The transparency map (where the channel's gradient accumulated, Fel et al. 2023) as the pictures' opacity",
    }, [
      el("input", {
        type: "checkbox", name: "transparency map", checked: Boolean(state.ascentAlpha),
        on: { change: (e) => ctx.update({ ascentAlpha: e.target.checked }) },
      }),
      "Fade by the transparency map",
    ])
    : null;
  const parts = [
    viewTitle(`Feature visualization · ${ctx.layer}`,
      "the input each channel responds to most, found by gradient ascent; click one to follow it over steps", ctx.missing),
    alphaToggle,
    cardGrid(ctx, loaded.map((l) => column(l, l.img ? gallery(l, ctx, z) : el("div")))),
  ];
  const sel = state.selected;
  if (sel && sel.kind === ctx.kind && sel.layer === ctx.layer) {
    parts.push(await detail(loaded, ctx, sel.channel));
    if (ctx.stale()) return null;
  }
  await addExemplarStrips(parts, ctx, loaded); // each channel's top real examples beside it
  if (ctx.stale()) return null;
  return el("div", { class: "nv-view", dataset: { view: "ascent" } }, parts);
}
