// Attribution view (kind `attribution`): where the model looks for a class.
// Per run a card: the methods ranked by faithfulness beside a random map, the
// weight-randomization badges, then one row per probe input: the input and,
// per target, each shown method's map as a heatmap over it with its figures
// and flags. A map opens large with the runs compared and a filmstrip.

import { imageUrl, loadImage } from "../shared/api.js";
import { ATTRIBUTION_SCALES, methodShown, toggleMethod } from "../shared/attribution_state.js";
import { COLORMAPS, colorbar } from "../shared/colormaps.js";
import { cardGrid, column, loadColumn, viewTitle } from "../shared/columns.js";
import { activate, el, fmt } from "../shared/dom.js";
import { kindEmpty } from "../shared/empty.js";
import { sanityBadges, sanityCurve } from "../shared/sanity.js";
import { attributionDetail, selectedMap } from "./attribution_detail.js";
import {
  figureLine, figureTable, figures, mapFlags, methodName, methodTitle, notBetterThanRandom, rankingTable,
  reference, targetFacts,
} from "./attribution_facts.js";
import {
  SIGNED_CMAP, colourRange, decodeMap, displaySize, heatCanvas, inputPixels, paintHeat, shown, targetCount, tileIndex,
} from "./attribution_maps.js";

const SOURCES = {
  predicted: "the class the model predicts for this input",
  label: "the probe's label for this input",
  given: "a class chosen when logging (targets=...)",
};
const CHANCE = "not better than a random map on insertion − deletion (mean over the probe)";

/** A column's record at its step with one image per probe input (`rows`). */
async function loadRows(col) {
  const l = await loadColumn(col, 0);
  if (!l.img) return l;
  const { entry } = l;
  try {
    const rest = Array.from({ length: entry.samples - 1 }, (_, i) => loadImage(imageUrl(col.run, col.tag, entry.step, i + 1)));
    l.rows = [l.img, ...(await Promise.all(rest))];
  } catch (error) {
    l.error = `image of step ${entry.step}: ${error.message}`;
  }
  return l;
}

/** Every method of the loaded steps, in their logged order. */
function allMethods(loaded) {
  const out = [];
  for (const l of loaded) for (const m of (l.entry && l.entry.info && l.entry.info.methods) || []) if (!out.includes(m)) out.push(m);
  return out;
}

function toolbar(ctx, methods, env) {
  const { state } = ctx;
  const chips = methods.map((m) => el("label", { class: `nv-attr-chip${methodShown(state, m) ? " nv-active" : ""}`, title: methodTitle(m) }, [
    el("input", {
      type: "checkbox", checked: methodShown(state, m), dataset: { attrControl: `method ${m}`, method: m },
      on: { change: (e) => ctx.update({ attrMethods: toggleMethod(state, methods, m, e.target.checked) }) },
    }),
    methodName(m),
  ]));
  const percent = Math.round(state.attrOpacity * 100);
  const value = el("span", { class: "nv-attr-value", text: `${percent}%` });
  const slider = el("input", {
    type: "range", min: "0", max: "100", step: "5", value: String(percent), class: "nv-slider nv-attr-opacity",
    name: "heatmap opacity", "aria-label": "heatmap opacity", dataset: { attrControl: "opacity" },
  });
  slider.addEventListener("input", () => {
    value.textContent = `${slider.value}%`;
    for (const paint of env.painters) paint(Number(slider.value) / 100);
  });
  slider.addEventListener("change", () => ctx.update({ attrOpacity: Number(slider.value) / 100 }));
  const cmap = el("select", {
    class: "nv-select", name: "attribution colormap", "aria-label": "colormap of unsigned maps", dataset: { attrControl: "cmap" },
    on: { change: (e) => ctx.update({ attrCmap: e.target.value }) },
  }, Object.entries(COLORMAPS).filter(([, c]) => !c.diverging).map(([id, c]) => el("option", { value: id, text: c.label })));
  cmap.value = state.attrCmap;
  const scales = Object.entries(ATTRIBUTION_SCALES).map(([id, label]) => el("button", {
    type: "button", class: `nv-seg-h${state.attrScale === id ? " nv-active" : ""}`, text: label,
    "aria-pressed": String(state.attrScale === id), dataset: { scale: id, attrControl: `scale ${id}` },
    title: id === "map" ? "each map coloured from its own minimum to its maximum"
      : "one colour scale per method over every input and target of the step: a weaker map looks weaker",
    on: { click: () => ctx.update({ attrScale: id }) },
  }));
  return el("div", { class: "nv-attr-toolbar" }, [
    el("div", { class: "nv-attr-chips", role: "group", "aria-label": "methods shown" }, [el("span", { class: "nv-attr-label", text: "Methods" }), ...chips]),
    el("div", { class: "nv-attr-controls" }, [
      el("label", { class: "nv-attr-field" }, [el("span", { class: "nv-attr-label", text: "Opacity" }), slider, value]),
      el("label", { class: "nv-attr-field" }, [el("span", { class: "nv-attr-label", text: "Colormap" }), cmap]),
      el("div", { class: "nv-attr-field" }, [el("span", { class: "nv-attr-label", text: "Scale" }),
        el("div", { class: "nv-seg-group", role: "group", "aria-label": "colour scale" }, scales)]),
      el("div", { class: "nv-cbar-row nv-attr-legend" }, [
        el("span", { text: "low" }), colorbar(state.attrCmap, 80, 8), el("span", { text: "high" }),
        el("span", { class: "nv-attr-sep", text: "signed" }), el("span", { text: "−" }), colorbar(SIGNED_CMAP, 80, 8), el("span", { text: "+" }),
      ]),
    ]),
  ]);
}

/** What the colours of a card mean: the scale mode and, when shared, each method's range. */
function scaleNote(info, methods, mode) {
  if (mode !== "shared") return "colours: each map from its own minimum to its maximum (hover a map for its values); signed maps 0 at the middle";
  const ranges = methods.map((m) => {
    const r = colourRange(info, m, 0, 0, "shared");
    return `${methodName(m)} ${r ? ((info.signed || {})[m] ? `±${fmt(r[1])}` : `${fmt(r[0])} … ${fmt(r[1])}`) : "n/a"}`;
  });
  return `colours: one scale per method over every input and target: ${ranges.join(" · ")}`;
}

function className(info, cls) {
  if (!Number.isInteger(cls)) return null;
  const names = Array.isArray(info.class_names) ? info.class_names : null;
  return names && names[cls] !== undefined ? String(names[cls]) : `class ${cls}`;
}

function inputFigure(l, img, n, size) {
  const info = l.entry.info;
  const { tile_width: w, tile_height: h } = info.layout;
  const label = className(info, (info.labels || [])[n]);
  const predicted = className(info, (info.predicted || [])[n]);
  const wrong = label !== null && predicted !== null && label !== predicted;
  return el("figure", { class: "nv-attr-input" }, [
    shown(heatCanvas(inputPixels(img, info), null, null, "gray", 0, w, h), size),
    el("figcaption", { text: `input #${n}` }),
    label !== null ? el("div", { class: "nv-minor", text: `label ${label}` }) : null,
    predicted !== null ? el("div", { class: `nv-minor${wrong ? " nv-warn-text" : ""}`, text: `predicted ${predicted}` }) : null,
  ]);
}

function mapFigure(l, img, input, n, t, method, ctx, env) {
  const { state } = ctx;
  const info = l.entry.info;
  const { tile_width: w, tile_height: h } = info.layout;
  const map = decodeMap(img, info, n, method, t);
  const range = colourRange(info, method, n, t, state.attrScale);
  const flags = mapFlags(info, method, n, t);
  const blank = flags.some((f) => f.id === "blank");
  const drawn = blank ? null : map;
  const canvas = shown(heatCanvas(input, drawn, range, state.attrCmap, state.attrOpacity, w, h), env.size);
  if (drawn) env.painters.push((opacity) => paintHeat(canvas, input, drawn, range, state.attrCmap, opacity));
  const target = targetFacts(info, n, t);
  const f = figures(info, method, n, t);
  const ref = reference(info);
  const weak = notBetterThanRandom(info, method);
  const sel = env.selected;
  const chosen = sel && sel.method === method && sel.target === t && state.sample === n;
  const k = tileIndex(info, info.methods.indexOf(method), t);
  const title = [
    `${methodTitle(method)} for ${target.name} (p ${fmt(target.probability)}, ${target.source})`,
    range ? `colour range ${fmt(range[0])} … ${fmt(range[1])}` : "no stored range",
    ...flags.map((x) => x.title), weak ? CHANCE : null, "click for it large and over steps",
  ].filter(Boolean).join("\n");
  if (map) {
    canvas.addEventListener("mousemove", (e) => {
      const x = Math.min(w - 1, Math.floor((e.offsetX / canvas.clientWidth) * w));
      const y = Math.min(h - 1, Math.floor((e.offsetY / canvas.clientHeight) * h));
      env.readout.textContent = `${methodName(method)} · input #${n} · ${target.name} · (${y}, ${x}) = ${fmt(map.values[y * w + x])}`;
    });
  }
  return el("figure", {
    class: `nv-fig nv-attr-map${flags.length ? " nv-attr-flagged" : ""}${chosen ? " nv-selected" : ""}`,
    dataset: { method, input: String(n), target: String(t), flags: flags.map((x) => x.id).join(" "), ...(n === state.sample ? { channel: String(k) } : {}) },
    tabindex: "0", role: "button", title, "aria-label": `${methodName(method)} map of input ${n} for ${target.name}`,
    on: activate(() => ctx.update({ sample: n, selected: { kind: ctx.kind, layer: ctx.layer, channel: k, method, target: t } })),
  }, [
    el("div", { class: "nv-attr-pic" }, [canvas, blank ? el("span", { class: "nv-attr-veil", text: "blank" }) : null]),
    el("figcaption", {}, [
      el("div", { class: "nv-attr-method", text: methodName(method) }),
      figureTable(f, ref ? figures(info, ref, n, t) : {}),
      ...flags.map((x) => el("div", { class: `nv-attr-flag nv-attr-flag-${x.id}`, title: x.title, text: x.text })),
      weak ? el("div", { class: "nv-attr-chance", title: CHANCE, text: "≈ random map" }) : null,
    ]),
  ]);
}

function targetBlock(l, img, input, n, t, methods, ctx, env) {
  const info = l.entry.info;
  const target = targetFacts(info, n, t);
  const ref = reference(info);
  const refFigures = ref ? figures(info, ref, n, t) : {};
  return el("div", { class: "nv-attr-target", dataset: { target: String(t), cls: String(target.cls) } }, [
    el("div", { class: "nv-attr-target-head" }, [
      el("span", { class: "nv-attr-class", title: `class ${target.cls}`, text: target.name }),
      el("span", { class: "nv-attr-prob", title: "the model's output for this class (softmax probability; a linear unit's raw value)", text: `p ${fmt(target.probability)}` }),
      el("span", { class: "nv-attr-source", title: SOURCES[info.target_source] || "", text: target.source }),
      Object.keys(refFigures).length
        ? el("span", { class: "nv-attr-refline", title: "the random map's figures for this input and target: what a map must beat" }, ["random map: ", figureLine(refFigures)])
        : null,
    ]),
    el("div", { class: "nv-attr-maps" }, methods.map((m) => mapFigure(l, img, input, n, t, m, ctx, env))),
  ]);
}

/** A run's card body: the ranking, what the colours mean, one row per probe input. */
function cardBody(l, ctx, env) {
  const info = l.entry.info;
  const methods = (info.methods || []).filter((m) => methodShown(ctx.state, m));
  const readout = el("div", { class: "nv-readout", text: "hover a map for its values; click it for it large and over steps" });
  const local = { ...env, readout };
  const rows = l.rows.map((img, n) => {
    const input = inputPixels(img, info);
    return el("div", { class: `nv-attr-row${n === ctx.state.sample ? " nv-current" : ""}`, dataset: { input: String(n) } }, [
      inputFigure(l, img, n, env.size),
      el("div", { class: "nv-attr-targets" }, Array.from({ length: targetCount(info) }, (_, t) =>
        targetBlock(l, img, input, n, t, methods, ctx, local))),
    ]);
  });
  const cam = info.cam_layer ? `CAM layer ${info.cam_layer} · ` : "";
  return el("div", { class: "nv-attr-card" }, [
    rankingTable(info, (m) => methodShown(ctx.state, m)),
    el("div", { class: "nv-note", text: `${cam}${scaleNote(info, methods, ctx.state.attrScale)}` }),
    methods.length ? el("div", { class: "nv-attr-rows" }, rows) : el("div", { class: "nv-note", text: "no method of this run is shown: tick one above" }),
    readout,
  ]);
}

/** A run's weight-randomization badges (step JSON `sanity`) and the open curve. */
async function sanityHead(l, ctx) {
  const sanity = l.entry && l.entry.info && l.entry.info.sanity;
  if (!sanity || !sanity.methods) return [];
  const methods = {};
  for (const [m, r] of Object.entries(sanity.methods)) {
    methods[m] = { ...r, baseline: r.baseline ?? ((r.baseline_band || {}).median || [])[0] };
  }
  const rec = { info: { ...sanity, methods, inputs: l.entry.samples }, step: l.entry.step, note: "", samples: 0 };
  const open = ctx.state.sanityOpen && ctx.state.sanityOpen.run === l.col.run ? ctx.state.sanityOpen.method : null;
  const parts = [sanityBadges(rec, null, open, (method) => ctx.update({ sanityOpen: method ? { run: l.col.run, method } : null }))];
  if (open && methods[open]) parts.push(await sanityCurve(rec, open, Math.min(420, Math.max(240, ctx.fitWidth - 20))));
  return parts;
}

/** Renders the Attribution view; resolves to its content, or null if stale. */
export async function renderAttribution(ctx) {
  const { state, columns } = ctx;
  if (!columns.length) return kindEmpty(ctx.kind, ctx.layer, state.selectedRuns);
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.attrControl : null;
  const loaded = await Promise.all(columns.map(loadRows));
  if (ctx.stale()) return null;
  const heads = await Promise.all(loaded.map((l) => sanityHead(l, ctx)));
  if (ctx.stale()) return null;
  const methods = allMethods(loaded);
  const perRow = Math.max(1, ...loaded.filter((l) => l.rows).map((l) => (l.entry.info.methods || []).filter((m) => methodShown(state, m)).length));
  const box = Math.max(56, Math.min(128, Math.floor((ctx.fitWidth - 40) / (perRow + 1)) - 16));
  const first = loaded.find((l) => l.rows);
  const layout = first ? first.entry.info.layout : { tile_width: 1, tile_height: 1 };
  const env = { painters: [], size: displaySize(layout.tile_width, layout.tile_height, box), selected: selectedMap(state, ctx, loaded) };
  const parts = [
    viewTitle(`Attribution · ${ctx.layer}`,
      "where the model looks for each target class on every probe input, each map's faithfulness beside a random map's", ctx.missing),
    toolbar(ctx, methods, env),
    cardGrid(ctx, loaded.map((l, i) => column(l, l.rows ? cardBody(l, ctx, env) : el("div"), heads[i]))),
  ];
  if (env.selected) {
    parts.push(await attributionDetail(loaded, ctx, env.selected));
    if (ctx.stale()) return null;
  }
  const content = el("div", { class: "nv-view", dataset: { view: "attribution" } }, parts);
  if (focused) {
    requestAnimationFrame(() => {
      const node = content.querySelector(`[data-attr-control="${CSS.escape(focused)}"]`);
      if (node && node.isConnected) node.focus({ preventScroll: true });
    });
  }
  return content;
}
