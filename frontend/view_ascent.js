// Feature-visualization (gradient ascent) view: each run's channel images side
// by side; click one for it large, its objective, and a filmstrip over steps.

import { imageUrl, loadImage } from "./api.js";
import { column, loadColumn, sized, viewTitle } from "./columns.js";
import { cropTile } from "./decode.js";
import { activate, el, flag, fmt } from "./dom.js";
import { kindEmpty } from "./empty.js";
import { zoomedSize } from "./grid.js";
import { unionSteps } from "./state.js";

const MAX_FILM = 24; // frames per filmstrip row; longer runs are subsampled evenly

function tileFlag(info, k) {
  return Array.isArray(info.nonfinite) && info.nonfinite[k];
}

function gallery(l, ctx) {
  const info = l.entry.info;
  const layout = info.layout;
  const channels = info.channels || [];
  const perRow = Math.max(1, Math.min(layout.cols || channels.length, channels.length));
  const fit = zoomedSize(perRow * (layout.tile_width + 6), layout.tile_height, ctx.state.zoom, ctx.fitWidth);
  const z = fit.zoom;
  const sel = ctx.state.selected;
  const figures = channels.map((channel, k) => {
    const canvas = sized(cropTile(l.img, layout, k), { width: layout.tile_width * z, height: layout.tile_height * z });
    const objective = (info.objective || [])[k];
    const label = el("figcaption", { text: `ch ${channel}` });
    if (tileFlag(info, k)) label.appendChild(flag("", "non-finite values during optimization"));
    return el("figure", {
      class: `nv-fig${sel && sel.channel === channel ? " nv-selected" : ""}`,
      title: `channel ${channel} · objective ${fmt(objective)}`,
      tabindex: "0",
      role: "button",
      on: activate(() => ctx.update({ selected: { kind: ctx.kind, layer: ctx.layer, channel } })),
    }, [canvas, label]);
  });
  const notes = [`${info.preset || "custom"} preset · ${info.steps_done ?? "?"} steps · seed ${info.seed ?? "?"}`];
  if (Array.isArray(info.input_range)) notes.push(`input range ${fmt(info.input_range[0])} … ${fmt(info.input_range[1])}`);
  // Wrap after the stored grid's column count, so runs sit side by side.
  const gallery = el("div", { class: "nv-gallery", style: { maxWidth: `${perRow * (layout.tile_width * z + 16)}px` } }, figures);
  return el("div", {}, [
    gallery,
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

async function filmRow(col, channel, currentStep, axis) {
  const byStep = new Map(col.steps.filter((s) => s.info && s.samples > 0).map((s) => [s.step, s]));
  const cells = await Promise.all(axis.map(async (step) => {
    const s = byStep.get(step);
    const k = s ? (s.info.channels || []).indexOf(channel) : -1;
    if (k < 0) return el("div", { class: "nv-frame nv-blank", title: `no image at step ${step}` });
    try {
      const img = await loadImage(imageUrl(col.run, col.tag, s.step, 0));
      const layout = s.info.layout;
      const scale = Math.max(1, Math.floor(64 / Math.max(layout.tile_width, layout.tile_height)));
      const canvas = sized(cropTile(img, layout, k), { width: layout.tile_width * scale, height: layout.tile_height * scale });
      return el("figure", {
        class: `nv-frame${s.step === currentStep ? " nv-selected" : ""}`,
        title: `step ${s.step} · objective ${fmt((s.info.objective || [])[k])}`,
      }, [canvas, el("figcaption", { text: String(s.step) })]);
    } catch (error) {
      return el("figure", { class: "nv-frame nv-error", text: `step ${s.step}: ${error.message}` });
    }
  }));
  return el("div", { class: "nv-film-row" }, [
    el("div", { class: "nv-run-label", text: col.run, title: col.run }),
    el("div", { class: "nv-film" }, cells),
  ]);
}

async function detail(loaded, ctx, channel) {
  const cards = loaded.map((l) => {
    const head = el("div", { class: "nv-run-label", text: l.col.run, title: l.col.run });
    const k = l.entry && l.entry.info ? (l.entry.info.channels || []).indexOf(channel) : -1;
    if (!l.img || k < 0) return el("div", { class: "nv-card" }, [head, el("div", { class: "nv-note", text: "channel not visualized in this run" })]);
    const layout = l.entry.info.layout;
    const scale = Math.max(1, Math.floor(192 / Math.max(layout.tile_width, layout.tile_height)));
    return el("div", { class: "nv-card" }, [
      head,
      sized(cropTile(l.img, layout, k), { width: layout.tile_width * scale, height: layout.tile_height * scale }),
      el("table", { class: "nv-stats" }, [
        el("tr", {}, [el("th", { text: "objective" }), el("td", { text: fmt((l.entry.info.objective || [])[k]) })]),
        el("tr", {}, [el("th", { text: "step" }), el("td", { text: String(l.entry.step) })]),
      ]),
      tileFlag(l.entry.info, k) ? flag("non-finite values", "NaN or Inf during optimization") : null,
    ]);
  });
  // One shared step axis, so frames of runs logged at different steps line up.
  const axis = evenly(unionSteps(loaded.map((l) => l.col.steps)), MAX_FILM);
  const rows = await Promise.all(loaded.map((l) => filmRow(l.col, channel, l.entry && l.entry.step, axis)));
  return el("section", { class: "nv-detail" }, [
    el("div", { class: "nv-detail-head" }, [
      el("h3", { text: `Channel ${channel}` }),
      el("button", { type: "button", class: "nv-link", text: "close", on: { click: () => ctx.update({ selected: null }) } }),
    ]),
    el("div", { class: "nv-cards" }, cards),
    el("h4", { text: "Across logged steps" }),
    el("div", { class: "nv-films" }, rows),
  ]);
}

/** Renders the ascent view; resolves to its content, or null if stale. */
export async function renderAscent(ctx) {
  const { state, columns } = ctx;
  if (!columns.length) return kindEmpty("ascent", ctx.layer, state.selectedRuns);
  const loaded = await Promise.all(columns.map((c) => loadColumn(c, 0)));
  if (ctx.stale()) return null;
  const parts = [
    viewTitle(`Feature visualization · ${ctx.layer}`,
      "the input each channel responds to most, found by gradient ascent; click one to follow it over steps", ctx.missing),
    el("div", { class: "nv-columns" }, loaded.map((l) => column(l, l.img ? gallery(l, ctx) : el("div")))),
  ];
  const sel = state.selected;
  if (sel && sel.kind === ctx.kind && sel.layer === ctx.layer) {
    parts.push(await detail(loaded, ctx, sel.channel));
    if (ctx.stale()) return null;
  }
  return el("div", { class: "nv-view", dataset: { view: "ascent" } }, parts);
}
