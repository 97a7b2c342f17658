// The Attribution view's large view: one map (probe input, method, target)
// in every run, large beside the input and alone with its colour bar and
// figures, two runs compared, and a filmstrip of the map over logged steps.

import { imageUrl, loadImage } from "../shared/api.js";
import { colorbar } from "../shared/colormaps.js";
import { runLabel } from "../shared/columns.js";
import { compareSection } from "../shared/compare.js";
import { el, fmt } from "../shared/dom.js";
import { downloadCanvas, filmstripCanvas } from "../shared/export.js";
import { MAX_FILM, evenly } from "../shared/filmstrip.js";
import { largeView } from "../shared/large.js";
import { unionSteps } from "../shared/state.js";
import { METRICS, figures, gap, mapFlags, methodName, methodTitle, notBetterThanRandom, reference, targetFacts } from "./attribution_facts.js";
import { SIGNED_CMAP, colourRange, decodeMap, displaySize, heatCanvas, inputPixels, shown, targetCount } from "./attribution_maps.js";

const CAMS = ["gradcam", "gradcam++", "layercam", "scorecam"];

/**
 * The map the large view shows: {method, target} from the selection; a link
 * carries only the tile index (`channel`), read in the first run's step.
 * @returns {?{method:string, target:number}}
 */
export function selectedMap(state, ctx, loaded) {
  const sel = state.selected;
  if (!sel || sel.kind !== ctx.kind || sel.layer !== ctx.layer) return null;
  if (typeof sel.method === "string") return { method: sel.method, target: sel.target | 0 };
  const first = loaded.find((l) => l.rows);
  if (!first || !Number.isInteger(sel.channel) || sel.channel < 1) return null;
  const info = first.entry.info;
  const m = Math.floor((sel.channel - 1) / targetCount(info));
  const method = (info.methods || [])[m];
  return method ? { method, target: (sel.channel - 1) % targetCount(info) } : null;
}

function drawMap(img, info, n, sel, state, withInput) {
  const { tile_width: w, tile_height: h } = info.layout;
  const map = decodeMap(img, info, n, sel.method, sel.target);
  const flags = mapFlags(info, sel.method, n, sel.target);
  const blank = flags.some((f) => f.id === "blank");
  const range = colourRange(info, sel.method, n, sel.target, state.attrScale);
  const input = withInput ? inputPixels(img, info) : null;
  const canvas = heatCanvas(input, blank ? null : map, range, state.attrCmap, state.attrOpacity, w, h);
  return { canvas, map, range, flags };
}

function factRows(info, n, sel, l) {
  const target = targetFacts(info, n, sel.target);
  const f = figures(info, sel.method, n, sel.target);
  const ref = reference(info);
  const rf = ref ? figures(info, ref, n, sel.target) : {};
  const rows = [
    ["target", target.name === `class ${target.cls}` ? target.name : `${target.name} (class ${target.cls})`, ""],
    ["probability", fmt(target.probability), "the model's output for the target"],
    ["target source", target.source, ""],
  ];
  for (const [m, d] of Object.entries(METRICS)) {
    if (m in f) rows.push([`${d.label} ${d.arrow}`, fmt(f[m]), `random map ${fmt(rf[m])}`, d.title]);
  }
  if (gap(f) !== null) rows.push(["ins − del ↑", fmt(gap(f)), `random map ${fmt(gap(rf))}`]);
  const completeness = ((info.completeness || [])[n] || [])[sel.target];
  if (sel.method === "integrated_gradients" && Number.isFinite(completeness)) {
    rows.push(["completeness error", `${fmt(completeness * 100)}%`, "|sum − (f(x) − f(baseline))|, relative"]);
  }
  if (CAMS.includes(sel.method) && info.cam_layer) rows.push(["CAM layer", info.cam_layer, ""]);
  const seconds = (info.seconds_per_method || {})[sel.method];
  if (Number.isFinite(seconds)) rows.push(["time", `${fmt(seconds)} s`, "for the whole probe"]);
  rows.push(["step", String(l.entry.step), l.col.at && l.col.at.note ? l.col.at.note : ""]);
  return el("table", { class: "nv-stats" }, rows.map(([name, value, note, title]) => el("tr", { title: title || "" }, [
    el("th", { text: name }), el("td", { text: value }), el("td", { class: "nv-minor", text: note }),
  ])));
}

function detailCard(l, ctx, sel, sources) {
  const head = runLabel(l.col);
  if (!l.rows) return el("div", { class: "nv-card" }, [head, el("div", { class: "nv-note", text: l.error || "no data" })]);
  const info = l.entry.info;
  if (!(info.methods || []).includes(sel.method) || sel.target >= targetCount(info)) {
    return el("div", { class: "nv-card" }, [head, el("div", { class: "nv-note", text: `no ${methodName(sel.method)} map for target ${sel.target + 1} in this run` })]);
  }
  const n = Math.min(ctx.state.sample, l.rows.length - 1);
  const img = l.rows[n];
  const { tile_width: w, tile_height: h } = info.layout;
  const size = displaySize(w, h, 168);
  const over = drawMap(img, info, n, sel, ctx.state, true);
  const alone = drawMap(img, info, n, sel, ctx.state, false);
  sources.push({ label: l.col.name, color: l.col.color, canvas: over.canvas, w, h, values: over.map ? over.map.values : null, unit: `${methodName(sel.method)} value` });
  const signed = Boolean(over.map && over.map.signed);
  const fig = (canvas, text) => el("figure", { class: "nv-fig nv-attr-big" }, [shown(canvas, size), el("figcaption", { text })]);
  return el("div", { class: "nv-card nv-attr-detail-card", style: { borderTopColor: l.col.color }, dataset: { run: l.col.run } }, [
    head,
    ...over.flags.map((f) => el("div", { class: "nv-dead-note nv-attr-flag", title: f.title, text: f.text })),
    notBetterThanRandom(info, sel.method) ? el("div", { class: "nv-attr-chance", text: "not better than a random map (insertion − deletion, mean over the probe)" }) : null,
    el("div", { class: "nv-gallery" }, [
      fig(heatCanvas(inputPixels(img, info), null, null, "gray", 0, w, h), "input"),
      fig(over.canvas, "over the input"),
      fig(alone.canvas, "map"),
    ]),
    el("div", { class: "nv-cbar-row" }, [
      el("span", { text: over.range ? fmt(over.range[0]) : "" }), colorbar(signed ? SIGNED_CMAP : ctx.state.attrCmap, 120, 8),
      el("span", { text: over.range ? fmt(over.range[1]) : "" }),
      el("span", { text: ctx.state.attrScale === "shared" ? "one scale for the method" : "this map's own range" }),
    ]),
    factRows(info, n, sel, l),
  ]);
}

/** One run's frames of the map over the steps of `axis` (pushed onto `frames` for the export). */
async function filmRow(l, ctx, sel, n, axis, frames) {
  const byStep = new Map(l.col.steps.filter((s) => s.info && s.samples > n).map((s) => [s.step, s]));
  const current = l.entry ? l.entry.step : null;
  const currentCls = l.rows ? targetFacts(l.entry.info, n, sel.target).cls : null;
  const last = axis[axis.length - 1];
  const cells = await Promise.all(axis.map(async (step) => {
    const s = byStep.get(step);
    if (!s || !(s.info.methods || []).includes(sel.method) || sel.target >= targetCount(s.info)) {
      frames.push({ canvas: null, step });
      return el("div", { class: "nv-frame nv-blank", title: `no map at step ${step}` });
    }
    try {
      const img = await loadImage(imageUrl(l.col.run, l.col.tag, s.step, n));
      const info = s.info;
      const drawn = drawMap(img, info, n, sel, ctx.state, true);
      frames.push({ canvas: drawn.canvas, step });
      const target = targetFacts(info, n, sel.target);
      const f = figures(info, sel.method, n, sel.target);
      const said = Object.entries(METRICS).filter(([m]) => m in f).map(([m, d]) => `${d.label} ${fmt(f[m])}`);
      return el("figure", {
        class: `nv-frame nv-attr-frame${s.step === current ? " nv-selected" : ""}${drawn.flags.length ? " nv-attr-flagged" : ""}`,
        dataset: { step: String(s.step) }, tabindex: "0", role: "button",
        title: [`step ${s.step} · ${target.name} p ${fmt(target.probability)}`, ...said, ...drawn.flags.map((x) => x.text), "click to show this step"].join("\n"),
        on: { click: () => ctx.update({ step: s.step === last ? null : s.step }) },
      }, [
        shown(drawn.canvas, displaySize(info.layout.tile_width, info.layout.tile_height, 64)),
        el("figcaption", { text: String(s.step) }),
        target.cls !== currentCls ? el("div", { class: "nv-minor nv-attr-moved", title: "the target class differs from the shown step's", text: target.name }) : null,
      ]);
    } catch (error) {
      frames.push({ canvas: null, step });
      return el("figure", { class: "nv-frame nv-error", text: `step ${s.step}: ${error.message}` });
    }
  }));
  return el("div", { class: "nv-film-row" }, [runLabel(l.col), el("div", { class: "nv-film" }, cells)]);
}

/** The large view of the selected map in every run. */
export async function attributionDetail(loaded, ctx, sel) {
  const n = ctx.state.sample;
  const sources = [];
  const cards = loaded.map((l) => detailCard(l, ctx, sel, sources));
  const axis = evenly(unionSteps(loaded.map((l) => l.col.steps)), MAX_FILM);
  const frameLists = loaded.map(() => []);
  const rows = await Promise.all(loaded.map((l, i) => filmRow(l, ctx, sel, n, axis, frameLists[i])));
  const save = el("button", {
    type: "button", class: "nv-button nv-export-film", text: "Download filmstrip PNG",
    on: {
      click: () => {
        const style = getComputedStyle(document.body);
        const strip = filmstripCanvas(loaded.map((l, i) => ({ label: l.col.name, color: l.col.color, frames: frameLists[i] })), 2,
          { bg: style.backgroundColor, fg: style.color });
        downloadCanvas(strip, `netviz_attribution_${sel.method}_input${n}_target${sel.target + 1}.png`);
      },
    },
  });
  const first = loaded.find((l) => l.rows && l.rows.length > n);
  const target = first ? targetFacts(first.entry.info, n, sel.target).name : `target ${sel.target + 1}`;
  return largeView(`${methodName(sel.method)} · input #${n} · ${target}`, [
    el("div", { class: "nv-note", text: methodTitle(sel.method) }),
    el("div", { class: "nv-cards" }, cards),
    compareSection(sources),
    el("div", { class: "nv-row nv-film-head" }, [el("h4", { text: "Across logged steps (click a frame to show its step)" }), save]),
    el("div", { class: "nv-films" }, rows),
  ], () => ctx.update({ selected: null }));
}
