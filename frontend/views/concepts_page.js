// A concept's page in the Concepts view: per run (side by side), its heatmap
// over each probe input at the shown step (an overlay on the input with an
// opacity control and a colormap), then its history followed by its stable
// id: a filmstrip of its feature visualization and top crops at each step
// where the id exists (at
// whatever row it sits there) and its share and importance over the steps.

import { COLORMAPS, colorbar } from "../shared/colormaps.js";
import { cardGrid, runLabel } from "../shared/columns.js";
import { el, fmt } from "../shared/dom.js";
import { MAX_FILM, evenly } from "../shared/filmstrip.js";
import { chartLegend, lineChart } from "../shared/linechart.js";
import { unionSteps } from "../shared/state.js";
import {
  className, conceptCrops, conceptFv, conceptHeatCanvas, conceptImage, heatmapOf, paintConceptHeat, probeCount, topClasses,
} from "./concepts_pictures.js";

const PALETTE = ["#1976d2", "#f57c00", "#388e3c", "#d32f2f", "#7b1fa2"];

function toolbar(ctx, id, painters) {
  const { state } = ctx;
  const percent = Math.round(state.conceptOpacity * 100);
  const value = el("span", { class: "nv-attr-value", text: `${percent}%` });
  const slider = el("input", {
    type: "range", min: "0", max: "100", step: "5", value: String(percent), class: "nv-slider",
    name: "concept opacity", "aria-label": "heatmap opacity",
  });
  slider.addEventListener("input", () => {
    value.textContent = `${slider.value}%`;
    for (const paint of painters) paint(Number(slider.value) / 100);
  });
  slider.addEventListener("change", () => ctx.update({ conceptOpacity: Number(slider.value) / 100 }));
  const cmap = el("select", {
    class: "nv-select", name: "concept colormap", "aria-label": "colormap of the heatmaps",
    on: { change: (e) => ctx.update({ conceptCmap: e.target.value }) },
  }, Object.entries(COLORMAPS).filter(([, c]) => !c.diverging).map(([key, c]) => el("option", { value: key, text: c.label })));
  cmap.value = state.conceptCmap;
  return el("div", { class: "nv-cpt-toolbar" }, [
    el("button", {
      type: "button", class: "nv-button nv-cpt-back", text: "← all concepts", title: "back to the layer's concepts",
      on: { click: () => ctx.update({ conceptId: null }) },
    }),
    el("label", { class: "nv-attr-field" }, [el("span", { class: "nv-attr-label", text: "Opacity" }), slider, value]),
    el("label", { class: "nv-attr-field" }, [el("span", { class: "nv-attr-label", text: "Colormap" }), cmap]),
    el("div", { class: "nv-cbar-row" }, [el("span", { text: "low" }), colorbar(state.conceptCmap, 80, 8), el("span", { text: "high" })]),
  ]);
}

/** The concept's heatmaps over every probe input at the run's shown step. */
async function heatmaps(col, id, ctx, painters) {
  const entry = col.at && col.at.entry;
  const info = entry && entry.info;
  const row = info && Array.isArray(info.ids) ? info.ids.indexOf(id) : -1;
  if (row < 0) return el("div", { class: "nv-note", text: `concept ${id} does not exist at step ${entry ? entry.step : "n/a"}` });
  const img = await conceptImage(col, entry, "heatmaps");
  if (!img || !probeCount(info)) return el("div", { class: "nv-note", text: "no heatmaps at this step (no probe, or a vector layer)" });
  const { conceptCmap: cmap, conceptOpacity: opacity } = ctx.state;
  const figures = Array.from({ length: probeCount(info) }, (_, n) => {
    const heat = heatmapOf(img, info, n, row);
    const canvas = conceptHeatCanvas(heat, cmap, opacity);
    const zoom = Math.max(1, Math.floor(96 / Math.max(heat.w, heat.h)));
    canvas.style.width = `${heat.w * zoom}px`;
    canvas.style.height = `${heat.h * zoom}px`;
    canvas.classList.add("nv-pixelated");
    if (heat.q) painters.push((a) => paintConceptHeat(canvas, heat, cmap, a));
    const range = heat.range ? `${fmt(heat.range[0])} … ${fmt(heat.range[1])}` : "n/a";
    return el("figure", { class: `nv-cpt-heat${heat.blank ? " nv-cpt-blank" : ""}`, dataset: { input: String(n) }, title: `coefficients ${range}` }, [
      canvas, el("figcaption", { text: heat.blank ? `input #${n} · blank` : `input #${n}` }),
    ]);
  });
  return el("div", { class: "nv-cpt-heats" }, figures);
}

/** The filmstrip of the concept's FV and crops at every step of `axis` where its id exists. */
async function filmstrip(col, id, axis, current) {
  const byStep = new Map(col.steps.filter((s) => s.info).map((s) => [s.step, s]));
  const cells = await Promise.all(axis.map(async (step) => {
    const s = byStep.get(step);
    const row = s && Array.isArray(s.info.ids) ? s.info.ids.indexOf(id) : -1;
    if (row < 0) return el("div", { class: "nv-frame nv-blank", dataset: { step: String(step) }, title: `concept ${id} is absent at step ${step}` });
    try {
      const [grid, fvRow] = await Promise.all([conceptImage(col, s, "crops"), conceptImage(col, s, "fv")]);
      const crops = conceptCrops(grid, s.info, row, 3);
      for (const c of crops) c.classList.add("nv-pixelated");
      const fv = conceptFv(fvRow, s.info, row, 32);
      return el("figure", {
        class: `nv-frame nv-cpt-frame${step === current ? " nv-selected" : ""}`, dataset: { step: String(step), row: String(row) },
        title: `step ${step} · row ${row} · share ${fmt(s.info.share[row])} · cosine with the previous ${fmt((s.info.cosines || [])[row])}`,
      }, [el("div", { class: "nv-cpt-frame-crops" }, [fv, ...crops]), el("figcaption", { text: String(step) })]);
    } catch (error) {
      return el("figure", { class: "nv-frame nv-error", dataset: { step: String(step) }, text: `step ${step}: ${error.message}` });
    }
  }));
  return el("div", { class: "nv-film-row" }, [el("div", { class: "nv-film" }, cells)]);
}

/** Share and importance (the classes most important at the newest step) over steps. */
function historyChart(col, id, width) {
  const steps = col.steps.filter((s) => s.info && Array.isArray(s.info.ids) && s.info.ids.includes(id));
  if (!steps.length) return null;
  const last = steps[steps.length - 1].info;
  const classes = topClasses(last, last.ids.indexOf(id), 4).map((x) => x.cls);
  const at = (s) => s.info.ids.indexOf(id);
  const series = [{ label: "share", color: "#9e9e9e", dash: "4 3", points: steps.map((s) => [s.step, s.info.share[at(s)]]) }];
  classes.forEach((cls, i) => series.push({
    label: className(last, cls), color: PALETTE[i % PALETTE.length],
    points: steps.map((s) => [s.step, ((s.info.importance || [])[at(s)] || [])[cls] ?? null]),
  }));
  return el("div", { class: "nv-cpt-history" }, [
    lineChart(series, { width, height: 130, xLabel: "step", title: `concept ${id}: share and importance per class over steps` }),
    chartLegend(series, el),
  ]);
}

async function runCard(col, id, ctx, axis, painters) {
  const [maps, film] = await Promise.all([heatmaps(col, id, ctx, painters), filmstrip(col, id, axis, col.at && col.at.entry.step)]);
  const info = col.at && col.at.entry.info;
  const row = info && Array.isArray(info.ids) ? info.ids.indexOf(id) : -1;
  const facts = row >= 0 ? `step ${col.at.entry.step} · row ${row} · share ${fmt(info.share[row] * 100)}%` : "";
  return el("div", { class: "nv-col nv-cpt-page", dataset: { run: col.run }, style: { borderTopColor: col.color } }, [
    el("div", { class: "nv-col-head" }, [el("div", { class: "nv-col-title" }, [runLabel(col), el("div", { class: "nv-col-step", text: facts })])]),
    el("h4", { class: "nv-cpt-sub", text: "Heatmaps over the probe" }),
    maps,
    el("h4", { class: "nv-cpt-sub", text: "History, followed by id" }),
    film,
    historyChart(col, id, Math.min(420, Math.max(220, ctx.fitWidth - 10))),
  ]);
}

/** The page of concept `id`: the toolbar and one card per run. */
export async function conceptPage(ctx, id) {
  const painters = [];
  const cols = ctx.columns.filter((c) => !c.error);
  const axis = evenly(unionSteps(cols.map((c) => c.steps.filter((s) => s.info && (s.info.ids || []).includes(id)))), MAX_FILM);
  const cards = await Promise.all(cols.map((c) => runCard(c, id, ctx, axis, painters).catch((error) =>
    el("div", { class: "nv-col", dataset: { run: c.run } }, [runLabel(c), el("div", { class: "nv-error", text: error.message })]))));
  return [
    el("header", { class: "nv-view-head" }, [el("h2", { text: `Concept ${id} · ${ctx.layer}` }),
      el("div", { class: "nv-sub", text: "where the concept is on each probe input, and how it changed over the steps where its id exists" })]),
    toolbar(ctx, id, painters),
    cardGrid(ctx, cards),
  ];
}
