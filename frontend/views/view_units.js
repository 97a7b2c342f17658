// Units view (kind `units`, step JSON only): per run and layer a channel ×
// step heatmap of one statistic with dead cells marked, the share of dead
// channels of every layer over steps, and the unit's page on click.
//
// Step JSON (tb_netviz/pictures/units.py): `channels_total`, `source` (the
// better source present), `sources: {probe|examples: {count, positions, max,
// min, mean, frac_positive, dead, constant, dead_fraction}}`.

import { fetchSteps } from "../shared/api.js";
import { colorbar, lut } from "../shared/colormaps.js";
import { cardGrid, column, viewTitle } from "../shared/columns.js";
import { el, fmt } from "../shared/dom.js";
import { lineChart } from "../shared/linechart.js";
import { entryOf, unionSteps } from "../shared/state.js";
import { unitPage } from "./unit_page.js";
import { SOURCES, STATS, pickSource } from "./unit_stats.js";

const DEAD_RGB = [211, 47, 47]; // red: not in viridis, the heatmap's map
const CONSTANT_RGB = [158, 158, 158];
const LAYER_COLORS = ["#1976d2", "#f57c00", "#388e3c", "#7b1fa2", "#c2185b", "#0097a7", "#795548", "#607d8b"];

/** The value range of a statistic over runs and steps (0 included; [0, 1] for shares). */
function statRange(columns, stat, source) {
  if (stat === "frac_positive") return [0, 1];
  let lo = 0;
  let hi = 0;
  for (const c of columns) {
    for (const s of c.steps) {
      const src = pickSource(s.info, source);
      for (const v of (src && src[stat]) || []) {
        if (typeof v !== "number" || !Number.isFinite(v)) continue;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

function channelCount(col) {
  let n = 0;
  for (const s of col.steps) if (s.info) n = Math.max(n, s.info.channels_total || 0, ...Object.values(s.info.sources || {}).map((x) => (x.max || []).length));
  return n;
}

/** Draws the heatmap: rows channels, columns the shared step axis. */
function heatmap(col, axis, ctx, range) {
  const { state } = ctx;
  const channels = channelCount(col);
  const byStep = new Map(col.steps.filter((s) => s.info).map((s) => [s.step, s.info]));
  const avail = Math.max(60, ctx.fitWidth - 8);
  const cw = Math.max(1, Math.min(40, Math.floor(avail / Math.max(1, axis.length))));
  const ch = channels > 256 ? 1 : Math.max(2, Math.min(14, Math.floor(360 / Math.max(1, channels))));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, axis.length * cw);
  canvas.height = Math.max(1, channels * ch);
  canvas.className = "nv-units-heat";
  const g = canvas.getContext("2d");
  const image = g.createImageData(canvas.width, canvas.height);
  const table = lut("viridis");
  let deadCells = 0;
  const deadNow = [];
  const chosenStep = col.at ? col.at.entry.step : null;
  axis.forEach((step, xi) => {
    const src = pickSource(byStep.get(step), state.unitSource);
    const dead = new Set(src ? src.dead || [] : []);
    const constant = new Set(src ? src.constant || [] : []);
    if (step === chosenStep) deadNow.push(...dead);
    for (let c = 0; c < channels; c++) {
      let rgb = null; // null: no data (transparent)
      if (src) {
        const v = (src[state.unitStat] || [])[c];
        if (dead.has(c)) {
          rgb = DEAD_RGB;
          deadCells++;
        } else if (constant.has(c)) rgb = CONSTANT_RGB;
        else if (typeof v === "number" && Number.isFinite(v)) {
          const i = Math.round(Math.min(1, Math.max(0, (v - range[0]) / (range[1] - range[0]))) * 255) * 3;
          rgb = [table[i], table[i + 1], table[i + 2]];
        }
      }
      if (!rgb) continue;
      for (let y = c * ch; y < (c + 1) * ch; y++) {
        for (let x = xi * cw; x < (xi + 1) * cw; x++) {
          const o = (y * canvas.width + x) * 4;
          image.data[o] = rgb[0];
          image.data[o + 1] = rgb[1];
          image.data[o + 2] = rgb[2];
          image.data[o + 3] = 255;
        }
      }
    }
  });
  g.putImageData(image, 0, 0);
  const xi = axis.indexOf(chosenStep);
  if (xi >= 0 && cw >= 3) {
    g.strokeStyle = "#ff9800";
    g.lineWidth = 1;
    g.strokeRect(xi * cw + 0.5, 0.5, cw - 1, canvas.height - 1);
  }
  canvas.dataset.deadCells = String(deadCells);
  canvas.dataset.channels = String(channels);
  canvas.dataset.steps = String(axis.length);
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", `${STATS[state.unitStat]} of ${channels} channels over ${axis.length} steps; ${deadCells} dead cells`);
  const readout = el("div", { class: "nv-readout", text: "hover a cell; click it for the unit's page" });
  const cellAt = (event) => {
    const box = canvas.getBoundingClientRect();
    const x = Math.floor(((event.clientX - box.left) / box.width) * axis.length);
    const c = Math.floor(((event.clientY - box.top) / box.height) * channels);
    return x >= 0 && x < axis.length && c >= 0 && c < channels ? { step: axis[x], c } : null;
  };
  canvas.addEventListener("mousemove", (event) => {
    const cell = cellAt(event);
    if (!cell) return;
    const src = pickSource(byStep.get(cell.step), state.unitSource);
    if (!src) {
      readout.textContent = `channel ${cell.c} · step ${cell.step}: not logged${state.unitSource === "auto" ? "" : ` over the ${state.unitSource}`}`;
      return;
    }
    const v = (src[state.unitStat] || [])[cell.c];
    const marks = (src.dead || []).includes(cell.c) ? " · ⊘ dead (never > 0)" : (src.constant || []).includes(cell.c) ? " · constant" : "";
    readout.textContent = `channel ${cell.c} · step ${cell.step} · ${STATS[state.unitStat]} ${fmt(v)} over the ${src.name}${marks}`;
  });
  canvas.addEventListener("click", (event) => {
    const cell = cellAt(event);
    if (cell) ctx.update({ selected: { kind: ctx.kind, layer: ctx.layer, channel: cell.c } });
  });
  const wrap = el("div", { class: "nv-units-heat-wrap" }, [
    el("div", { class: "nv-units-axis nv-minor" }, [el("span", { text: "ch 0" }), el("span", { text: `ch ${channels - 1}` })]),
    el("div", { class: "nv-scroll nv-units-scroll" }, [canvas]),
  ]);
  return { wrap, readout, channels, deadNow: [...new Set(deadNow)].sort((a, b) => a - b) };
}

/** The dead share of every units layer of a run over steps; the shown layer bold. */
async function deadChart(col, ctx) {
  const layers = Object.keys((ctx.state.runs[col.run] || {}).units || {}).sort();
  const lists = await Promise.all(layers.map((layer) =>
    fetchSteps(col.run, entryOf(ctx.state, col.run, "units", layer).tag).catch(() => [])));
  const series = layers.map((layer, i) => ({
    label: layer,
    color: LAYER_COLORS[i % LAYER_COLORS.length],
    width: layer === ctx.layer ? 3 : 1.2,
    points: lists[i].filter((s) => s.info).map((s) => {
      const src = pickSource(s.info, ctx.state.unitSource);
      return [s.step, src && Number.isFinite(src.dead_fraction) ? src.dead_fraction : null];
    }),
  }));
  const chart = lineChart(series, {
    width: Math.max(200, Math.min(420, ctx.fitWidth)), height: 110, yRange: [0, 1],
    marker: col.at ? col.at.entry.step : null, title: `share of dead channels per layer · ${col.name}`,
  });
  const legend = el("div", { class: "nv-chart-legend" }, series.map((s) => el("span", {
    class: `nv-chart-key${s.label === ctx.layer ? " nv-active" : ""}`,
  }, [el("span", { class: "nv-swatch", style: { background: s.color }, "aria-hidden": "true" }), s.label])));
  return el("div", { class: "nv-units-dead-chart" }, [el("h4", { text: "Dead channels per layer" }), chart, legend]);
}

async function card(col, axis, ctx, range) {
  const entry = col.at ? col.at.entry : null;
  const loaded = { col, entry, error: col.error ? String(col.error.message || col.error) : !entry ? "no steps logged" : null };
  if (loaded.error) return column(loaded, el("div"));
  const src = pickSource(entry.info, ctx.state.unitSource);
  const heat = heatmap(col, axis, ctx, range);
  const total = heat.channels;
  const share = src && Number.isFinite(src.dead_fraction) ? src.dead_fraction : null;
  const headline = src
    ? el("div", { class: `nv-units-headline${share > 0 ? " nv-bad" : ""}`, dataset: { deadFraction: String(share) } }, [
      el("strong", { text: `${fmt(Math.round((share || 0) * 1000) / 10)}% dead` }),
      ` · ${(src.dead || []).length} of ${total} channels never > 0 at step ${entry.step}, over ${src.count} ${src.name === "probe" ? "probe inputs" : "examples"}`,
    ])
    : el("div", { class: "nv-note", text: `step ${entry.step} has no ${ctx.state.unitSource} statistics` });
  const open = el("input", { type: "number", min: "0", max: String(Math.max(0, total - 1)), class: "nv-units-open", "aria-label": "channel to open", placeholder: "ch" });
  const go = () => {
    const c = Number(open.value);
    if (Number.isInteger(c) && c >= 0 && c < total) ctx.update({ selected: { kind: ctx.kind, layer: ctx.layer, channel: c } });
  };
  open.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
  const body = el("div", { class: "nv-units-card" }, [
    headline,
    heat.wrap,
    heat.readout,
    el("div", { class: "nv-row nv-small" }, [
      "Open unit", open, el("button", { type: "button", class: "nv-icon-button", text: "open", on: { click: go } }),
      heat.deadNow.length ? el("span", { class: "nv-minor", text: `dead now: ${heat.deadNow.slice(0, 24).join(", ")}${heat.deadNow.length > 24 ? " …" : ""}` }) : null,
    ]),
    await deadChart(col, ctx),
  ]);
  return column(loaded, body);
}

function segmented(name, options, value, onPick) {
  return el("div", { class: "nv-seg-group", role: "group", "aria-label": name, dataset: { control: name } },
    Object.entries(options).map(([id, label]) => el("button", {
      type: "button", class: `nv-seg-h${id === value ? " nv-active" : ""}`, text: label,
      "aria-pressed": String(id === value), dataset: { value: id }, on: { click: () => onPick(id) },
    })));
}

function legend(ctx, range) {
  return el("div", { class: "nv-cbar-row nv-units-legend" }, [
    el("span", { text: fmt(range[0]) }), colorbar("viridis", 140, 8), el("span", { text: fmt(range[1]) }),
    el("span", { class: "nv-units-key nv-units-key-dead", "aria-hidden": "true" }), "dead (never > 0)",
    el("span", { class: "nv-units-key nv-units-key-constant", "aria-hidden": "true" }), "constant",
    el("span", { text: ctx.state.unitStat === "frac_positive" ? "· share of positions > 0" : "· one scale for all shown runs" }),
  ]);
}

/** Renders the Units view; resolves to its content, or null if stale. */
export async function renderUnits(ctx) {
  const { state, columns } = ctx;
  if (!(state.unitStat in STATS)) state.unitStat = "max";
  if (!(state.unitSource in SOURCES)) state.unitSource = "auto";
  if (!columns.length) {
    return el("div", { class: "nv-empty-state nv-small-empty" }, [
      el("h3", { text: `No unit health for ${ctx.layer ? `layer ${ctx.layer}` : "any layer"} in the chosen runs` }),
      el("p", { class: "nv-note", text: "NetVizCallback logs it with the activations (units over the probe) and with examples= (over the examples); in a custom loop, UnitsLogger(model, probe, layers).log(step)." }),
    ]);
  }
  const axis = unionSteps(columns.map((c) => c.steps));
  const range = statRange(columns, state.unitStat, state.unitSource);
  const cards = await Promise.all(columns.map((c) => card(c, axis, ctx, range)));
  if (ctx.stale()) return null;
  const parts = [
    viewTitle(`Units · ${ctx.layer}`,
      `each channel's ${STATS[state.unitStat]} per logged step (rows: channels, columns: steps ${axis[0]}–${axis[axis.length - 1]}); ` +
      "red: dead, never > 0; click a cell for the unit's page", ctx.missing),
    el("div", { class: "nv-row nv-units-controls" }, [
      el("span", { text: "Statistic" }), segmented("statistic", STATS, state.unitStat, (v) => ctx.update({ unitStat: v })),
      el("span", { text: "over" }), segmented("source", SOURCES, state.unitSource, (v) => ctx.update({ unitSource: v })),
    ]),
    legend(ctx, range),
    cardGrid(ctx, cards),
  ];
  const sel = state.selected;
  if (sel && sel.kind === ctx.kind && sel.layer === ctx.layer) {
    parts.push(await unitPage(ctx, sel.channel));
    if (ctx.stale()) return null;
  }
  return el("div", { class: "nv-view", dataset: { view: "units" } }, parts);
}
