// The unit's page (Units view, click a unit): for each chosen run side by
// side, the unit's health at the chosen step, its activation over steps, its
// top-k exemplars (hover: the whole input with the crop box) and its feature
// visualization as a filmstrip over steps (kind `ascent`, when logged), each
// frame with its marks; where the latest shown frame is flat, noise or border,
// a note sends the reader to the top examples instead.

import { fetchSteps, imageUrl, loadImage } from "../shared/api.js";
import { runLabel, sized } from "../shared/columns.js";
import { cropTile } from "../shared/decode.js";
import { el, fmt } from "../shared/dom.js";
import { exemplarPanel } from "../shared/exemplars.js";
import { ascentMarks, unreadable } from "../shared/flags.js";
import { largeView } from "../shared/large.js";
import { lineChart } from "../shared/linechart.js";
import { entryOf } from "../shared/state.js";
import { STATS, pickSource } from "./unit_stats.js";
import { evenly } from "../shared/filmstrip.js";

const MAX_FRAMES = 12;

function healthTable(info, source, channel) {
  const src = pickSource(info, source);
  if (!src) return el("div", { class: "nv-note", text: `no ${source} statistics at this step` });
  const dead = (src.dead || []).includes(channel);
  const constant = (src.constant || []).includes(channel);
  const row = (name, value) => el("tr", {}, [el("th", { text: name }), el("td", { text: value })]);
  return el("div", {}, [
    dead ? el("div", { class: "nv-dead-note", text: "⊘ dead: never > 0 on any input and position" }) : null,
    !dead && constant ? el("div", { class: "nv-dead-note", text: "constant: the same value everywhere" }) : null,
    el("table", { class: "nv-stats nv-unit-stats" }, [
      row("max", fmt((src.max || [])[channel])),
      row("mean", fmt((src.mean || [])[channel])),
      row("min", fmt((src.min || [])[channel])),
      row("share > 0", fmt((src.frac_positive || [])[channel])),
      row("over", `${src.count} ${src.name === "probe" ? "probe inputs" : "examples"} × ${src.positions} positions`),
    ]),
  ]);
}

function activationChart(col, ctx, channel) {
  const source = ctx.state.unitSource;
  const steps = col.steps.filter((s) => s.info);
  const series = [["max", "#1976d2"], ["mean", "#f57c00"]].map(([stat, color]) => ({
    label: stat, color,
    points: steps.map((s) => {
      const src = pickSource(s.info, source);
      const v = src ? (src[stat] || [])[channel] : null;
      return [s.step, typeof v === "number" ? v : null];
    }),
  }));
  series.push({
    label: "share > 0", color: "#388e3c", dash: "3 2",
    points: steps.map((s) => {
      const src = pickSource(s.info, source);
      const v = src ? (src.frac_positive || [])[channel] : null;
      return [s.step, typeof v === "number" ? v : null];
    }),
  });
  const deadSteps = steps.filter((s) => ((pickSource(s.info, source) || {}).dead || []).includes(channel)).map((s) => s.step);
  return el("div", { class: "nv-unit-activation" }, [
    lineChart(series, { width: 300, height: 120, marker: col.at ? col.at.entry.step : null, title: `channel ${channel}: activation over steps` }),
    el("div", { class: "nv-chart-legend" }, series.map((s) => el("span", { class: "nv-chart-key" }, [
      el("span", { class: "nv-swatch", style: { background: s.color }, "aria-hidden": "true" }), s.label,
    ]))),
    deadSteps.length ? el("div", { class: "nv-dead-note", text: `⊘ dead at step ${deadSteps.length > 12 ? `${deadSteps.slice(0, 12).join(", ")} …` : deadSteps.join(", ")}` }) : null,
  ]);
}

async function filmstrip(state, col, layer, channel, chosen) {
  const entry = entryOf(state, col.run, "ascent", layer);
  if (!entry) return el("div", { class: "nv-note", text: "no feature visualization logged for this layer" });
  const steps = (await fetchSteps(col.run, entry.tag)).filter((s) => s.info && s.samples > 0 && (s.info.channels || []).includes(channel));
  if (!steps.length) return el("div", { class: "nv-note", text: `channel ${channel} is not among this layer's feature visualizations` });
  const shown = evenly(steps, MAX_FRAMES);
  const frames = await Promise.all(shown.map(async (s) => {
    const k = s.info.channels.indexOf(channel);
    const sample = s.info.images && Number.isInteger(s.info.images.pictures) ? s.info.images.pictures : 0;
    try {
      const img = await loadImage(imageUrl(col.run, entry.tag, s.step, sample));
      const layout = s.info.layout;
      const z = Math.max(1, Math.floor(56 / Math.max(layout.tile_width, layout.tile_height)));
      const marks = ascentMarks(s.info, k);
      return el("figure", {
        class: `nv-frame${s.step === chosen ? " nv-selected" : ""}`,
        title: [`step ${s.step} · objective ${fmt((s.info.objective || [])[k])}`, ...marks.map((m) => m.text)].join(" · "),
        dataset: { step: String(s.step), marks: marks.map((m) => m.id).join(" ") },
      }, [sized(cropTile(img, layout, k), { width: layout.tile_width * z, height: layout.tile_height * z }),
        el("figcaption", { text: `${s.step}${marks.map((m) => ` ${m.symbol}`).join("")}` })]);
    } catch (error) {
      return el("figure", { class: "nv-frame nv-error", text: `step ${s.step}: ${error.message}` });
    }
  }));
  const last = shown.filter((s) => s.step <= chosen).pop() || shown[0];
  const why = unreadable(ascentMarks(last.info, last.info.channels.indexOf(channel)));
  return el("div", {}, [
    el("div", { class: "nv-film nv-unit-film" }, frames),
    why ? el("div", { class: "nv-dead-note nv-unit-unreadable", text: `${why.symbol} the feature visualization at step ${last.step} is flagged (${why.reason}): read the top examples above instead` }) : null,
  ]);
}

async function runCard(col, ctx, channel) {
  const head = runLabel(col);
  if (!col.at || !col.at.entry.info) {
    return el("div", { class: "nv-card nv-unit-card", dataset: { run: col.run } }, [head, el("div", { class: "nv-note", text: "no unit health logged" })]);
  }
  const step = col.at.entry.step;
  const [examples, film] = await Promise.all([
    exemplarPanel(ctx.state, col.run, ctx.layer, channel, step),
    filmstrip(ctx.state, col, ctx.layer, channel, step).catch((error) => el("div", { class: "nv-error", text: error.message })),
  ]);
  return el("div", { class: "nv-card nv-unit-card", style: { borderTopColor: col.color }, dataset: { run: col.run } }, [
    head,
    el("div", { class: "nv-col-step", text: `step ${step}${col.at.note ? ` (${col.at.note})` : ""}` }),
    el("div", { class: "nv-card-row" }, [healthTable(col.at.entry.info, ctx.state.unitSource, channel), activationChart(col, ctx, channel)]),
    el("h4", { text: "Top examples" }),
    examples,
    el("h4", { text: "Feature visualization over steps" }),
    film,
  ]);
}

/**
 * The unit's page as a large view over the Units view.
 * @param {Object} ctx the render context (its columns are the shown runs).
 * @param {number} channel the unit.
 * @returns {Promise<HTMLElement>}
 */
export async function unitPage(ctx, channel) {
  const cards = await Promise.all(ctx.columns.map((col) => runCard(col, ctx, channel)));
  return largeView(`Channel ${channel} · ${ctx.layer}`, [
    el("div", { class: "nv-note", text: `statistics over the ${ctx.state.unitSource === "auto" ? "examples where logged, else the probe" : ctx.state.unitSource}; heatmap statistic: ${STATS[ctx.state.unitStat]}` }),
    el("div", { class: "nv-cards nv-unit-page", dataset: { channel: String(channel) } }, cards),
  ], () => ctx.update({ selected: null }));
}
