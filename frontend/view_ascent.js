// Feature-visualization (gradient ascent) view: each run's channel images side
// by side; click one for it large, its objective, and a filmstrip over steps.

import { imageUrl, loadImage } from "./api.js";
import { cardGrid, column, loadColumn, runLabel, sized, viewTitle } from "./columns.js";
import { compareSection } from "./compare.js";
import { cropTile } from "./decode.js";
import { activate, el, flag, fmt } from "./dom.js";
import { kindEmpty } from "./empty.js";
import { downloadCanvas, filmstripCanvas } from "./export.js";
import { deadAscent, denseLayer } from "./flags.js";
import { zoomedSize } from "./grid.js";
import { largeView, unitWord } from "./large.js";
import { unionSteps } from "./state.js";

const MAX_FILM = 24; // frames per filmstrip row; longer runs are subsampled evenly

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
    const canvas = sized(cropTile(l.img, layout, k), { width: layout.tile_width * z, height: layout.tile_height * z });
    canvas.classList.add("nv-tile-pic");
    const objective = (info.objective || [])[k];
    const dead = deadAscent(info, k);
    const label = el("figcaption", { text: `${word} ${channel}` });
    if (dead) label.appendChild(el("span", { class: "nv-dead-badge", text: " ⊘", title: "dead: the objective did not rise above 0" }));
    if (tileFlag(info, k)) label.appendChild(flag("", "non-finite values during optimization"));
    return el("figure", {
      class: `nv-fig${sel && sel.channel === channel ? " nv-selected" : ""}${dead ? " nv-dead" : ""}`,
      title: `${word} ${channel} · objective ${fmt(objective)}${dead ? " · dead: the objective did not rise above 0" : ""}`,
      tabindex: "0",
      role: "button",
      dataset: { channel: String(channel) },
      on: activate(() => ctx.update({ selected: { kind: ctx.kind, layer: ctx.layer, channel } })),
    }, [canvas, label]);
  });
  const notes = [`${info.preset || "custom"} preset · ${info.steps_done ?? "?"} steps · seed ${info.seed ?? "?"}`];
  if (Array.isArray(info.input_range)) notes.push(`input range ${fmt(info.input_range[0])} … ${fmt(info.input_range[1])}`);
  const dead = channels.filter((_, k) => deadAscent(info, k)).length;
  if (dead) notes.push(`${dead} dead (objective ≤ 0, marked ⊘)`);
  return el("div", {}, [
    el("div", { class: "nv-scroll" }, [el("div", { class: "nv-gallery" }, figures)]),
    info.budget_exhausted ? flag("time budget ran out: images are partial", "ascent_budget_s was reached") : null,
    el("div", { class: "nv-note", text: notes.join(" · ") }),
  ]);
}

function evenly(list, n) {
  if (list.length <= n) return list;
  const out = [];
  for (let i = 0; i < n; i++) out.push(list[Math.round((i * (list.length - 1)) / (n - 1))]);
  return out;
}

async function filmRow(col, channel, currentStep, axis, frames) {
  const byStep = new Map(col.steps.filter((s) => s.info && s.samples > 0).map((s) => [s.step, s]));
  const cells = await Promise.all(axis.map(async (step) => {
    const s = byStep.get(step);
    const k = s ? (s.info.channels || []).indexOf(channel) : -1;
    if (k < 0) {
      frames.push({ canvas: null, step });
      return el("div", { class: "nv-frame nv-blank", title: `no image at step ${step}` });
    }
    try {
      const img = await loadImage(imageUrl(col.run, col.tag, s.step, 0));
      const layout = s.info.layout;
      const scale = Math.max(1, Math.floor(64 / Math.max(layout.tile_width, layout.tile_height)));
      const tile = cropTile(img, layout, k);
      frames.push({ canvas: tile, step });
      const canvas = sized(cropTile(img, layout, k), { width: layout.tile_width * scale, height: layout.tile_height * scale });
      return el("figure", {
        class: `nv-frame${s.step === currentStep ? " nv-selected" : ""}`,
        title: `step ${s.step} · objective ${fmt((s.info.objective || [])[k])}`,
      }, [canvas, el("figcaption", { text: String(s.step) })]);
    } catch (error) {
      return el("figure", { class: "nv-frame nv-error", text: `step ${s.step}: ${error.message}` });
    }
  }));
  frames.sort((a, b) => a.step - b.step);
  return el("div", { class: "nv-film-row" }, [
    runLabel(col),
    el("div", { class: "nv-film" }, cells),
  ]);
}

async function detail(loaded, ctx, channel) {
  const sources = [];
  const first = loaded.find((l) => l.entry && l.entry.info);
  const word = unitWord(Boolean(first && denseLayer(first.entry.info)));
  const cards = loaded.map((l) => {
    const head = runLabel(l.col);
    const k = l.entry && l.entry.info ? (l.entry.info.channels || []).indexOf(channel) : -1;
    if (!l.img || k < 0) return el("div", { class: "nv-card" }, [head, el("div", { class: "nv-note", text: "not visualized in this run" })]);
    const info = l.entry.info;
    const layout = info.layout;
    const scale = Math.max(1, Math.floor(192 / Math.max(layout.tile_width, layout.tile_height)));
    const tile = cropTile(l.img, layout, k);
    sources.push({ label: l.col.name, color: l.col.color, canvas: tile, w: tile.width, h: tile.height, values: null, unit: "luminance" });
    const dead = deadAscent(info, k);
    return el("div", { class: "nv-card", style: { borderTopColor: l.col.color } }, [
      head,
      dead ? el("div", { class: "nv-dead-note", text: "⊘ dead: the objective did not rise above 0" }) : null,
      sized(cropTile(l.img, layout, k), { width: layout.tile_width * scale, height: layout.tile_height * scale }),
      el("table", { class: "nv-stats" }, [
        el("tr", {}, [el("th", { text: "objective" }), el("td", { text: fmt((info.objective || [])[k]) })]),
        el("tr", {}, [el("th", { text: "step" }), el("td", { text: String(l.entry.step) })]),
      ]),
      tileFlag(info, k) ? flag("non-finite values", "NaN or Inf during optimization") : null,
    ]);
  });
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
  const loaded = await Promise.all(columns.map((c) => loadColumn(c, 0)));
  if (ctx.stale()) return null;
  // One zoom for the layer in every run (the smallest fit), so tiles compare.
  const fits = loaded.filter((l) => l.img).map((l) => galleryFit(l.entry.info, ctx).zoom);
  const z = fits.length ? Math.min(...fits) : 1;
  const parts = [
    viewTitle(`Feature visualization · ${ctx.layer}`,
      "the input each channel responds to most, found by gradient ascent; click one to follow it over steps", ctx.missing),
    cardGrid(ctx, loaded.map((l) => column(l, l.img ? gallery(l, ctx, z) : el("div")))),
  ];
  const sel = state.selected;
  if (sel && sel.kind === ctx.kind && sel.layer === ctx.layer) {
    parts.push(await detail(loaded, ctx, sel.channel));
    if (ctx.stale()) return null;
  }
  return el("div", { class: "nv-view", dataset: { view: "ascent" } }, parts);
}
