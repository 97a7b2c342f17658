// Exemplars (kind `exemplars`): each channel's top-k real examples as
// receptive-field crops, and on hover the whole input with the crop's box.
//
// Step JSON (tb_netviz/pictures/exemplars.py): `channels`, `k`, `indices`
// (C × k example indices), `activations` (C × k), `boxes` (C × k ×
// [y0, x0, y1, x1] in input pixels, stops exclusive), `crops: {sample,
// layout}` (tile c·k + j = channel row c, j-th example) and `inputs:
// {sample, indices, layout, downsample, input_shape}` (tile t = example
// inputs.indices[t], every downsample-th pixel).

import { fetchSteps, imageUrl, loadImage } from "./api.js";
import { cropTile, tileRect } from "./decode.js";
import { el, fmt } from "./dom.js";
import { entryOf, stepAt } from "./state.js";

const BOX_COLOR = "#ff3d00"; // drawn on pictures: one colour in both themes

/**
 * A run's exemplars record for a layer at a step (nearest logged ≤ step).
 * @returns {Promise<?{info:Object, step:number, note:string, run:string, tag:string}>}
 *     null when the run logged no exemplars for this layer.
 */
export async function loadExemplars(state, run, layer, step) {
  const entry = entryOf(state, run, "exemplars", layer);
  if (!entry) return null;
  const steps = (await fetchSteps(run, entry.tag)).filter((s) => s.info);
  const at = stepAt(steps, step);
  if (!at) return null;
  return { info: at.entry.info, samples: at.entry.samples, step: at.entry.step, note: at.note, run, tag: entry.tag };
}

/** The row of a channel in an exemplars record, or -1. */
export function channelRow(info, channel) {
  return Array.isArray(info.channels) ? info.channels.indexOf(channel) : -1;
}

/** Whether a channel's exemplars mean anything: its best activation is > 0. */
export function hasPositive(info, row) {
  const acts = (info.activations || [])[row] || [];
  return acts.some((a) => typeof a === "number" && a > 0);
}

async function loadSample(rec, which) {
  const part = rec.info[which];
  if (!part || !part.layout || !(rec.samples > part.sample)) return null;
  return loadImage(imageUrl(rec.run, rec.tag, rec.step, part.sample));
}

/**
 * The whole input of an example with its crop box drawn, scaled to `box` px.
 * @param {HTMLImageElement} inputs the inputs grid.
 * @param {Object} info the step JSON.
 * @param {number} example the example index.
 * @param {?Array<number>} box `[y0, x0, y1, x1]` in input pixels.
 * @returns {?HTMLCanvasElement}
 */
export function inputWithBox(inputs, info, example, box, size = 160) {
  const t = (info.inputs.indices || []).indexOf(example);
  if (t < 0) return null;
  const layout = info.inputs.layout;
  const r = tileRect(t, layout);
  const z = Math.max(1, Math.floor(size / Math.max(r.w, r.h)));
  const canvas = document.createElement("canvas");
  canvas.width = r.w * z;
  canvas.height = r.h * z;
  canvas.className = "nv-ex-input nv-tile-pic";
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(inputs, r.x, r.y, r.w, r.h, 0, 0, r.w * z, r.h * z);
  if (Array.isArray(box) && box.length === 4) {
    const d = info.inputs.downsample || 1;
    const [y0, x0, y1, x1] = box.map((v) => (v / d) * z);
    ctx.lineWidth = Math.max(2, Math.round(z / 4));
    ctx.strokeStyle = BOX_COLOR;
    ctx.strokeRect(x0 + ctx.lineWidth / 2, y0 + ctx.lineWidth / 2,
      Math.max(1, x1 - x0 - ctx.lineWidth), Math.max(1, y1 - y0 - ctx.lineWidth));
    canvas.dataset.box = JSON.stringify(box);
  }
  canvas.dataset.example = String(example);
  return canvas;
}

function cropCanvas(crops, info, row, j, size) {
  const layout = info.crops.layout;
  const canvas = cropTile(crops, layout, row * (info.k || layout.cols) + j);
  canvas.classList.add("nv-pixelated", "nv-tile-pic");
  const z = size / Math.max(layout.tile_width, layout.tile_height);
  canvas.style.width = `${Math.round(layout.tile_width * z)}px`;
  canvas.style.height = `${Math.round(layout.tile_height * z)}px`;
  return canvas;
}

/**
 * A compact grid of a channel's top crops, to sit beside its feature
 * visualization; null when there are none (or none is > 0).
 * @param {Object} state the panel state.
 * @param {string} run, layer; @param {number} channel, step.
 * @param {number} height the height to fill, px.
 * @returns {Promise<?HTMLElement>}
 */
export async function exemplarStrip(state, run, layer, channel, step, height = 64) {
  const rec = await loadExemplars(state, run, layer, step);
  if (!rec) return null;
  const row = channelRow(rec.info, channel);
  if (row < 0 || !hasPositive(rec.info, row)) return null;
  const crops = await loadSample(rec, "crops");
  if (!crops) return null;
  const k = rec.info.k || 0;
  const shown = Math.min(k, 9);
  const cols = Math.ceil(Math.sqrt(shown));
  const size = Math.max(8, Math.floor((height - 2 * (cols - 1)) / cols));
  const cells = [];
  for (let j = 0; j < shown; j++) {
    const example = rec.info.indices[row][j];
    const canvas = cropCanvas(crops, rec.info, row, j, size);
    canvas.title = `example #${example} · activation ${fmt(rec.info.activations[row][j])}`;
    cells.push(canvas);
  }
  return el("div", {
    class: "nv-ex-strip",
    title: `top ${shown} real examples of channel ${channel} at step ${rec.step}`,
    style: { gridTemplateColumns: `repeat(${cols}, ${size}px)` },
    dataset: { channel: String(channel), step: String(rec.step) },
  }, cells);
}

/**
 * Appends each channel's top exemplars beside its feature visualization, in
 * every `.nv-fig[data-channel]` of the ascent view's run cards. Never throws:
 * exemplars are context.
 * @param {Array<Node>} parts the view's top-level nodes.
 * @param {Object} ctx the render context.
 * @param {Array<Object>} loaded the ascent view's loaded columns.
 */
export async function addExemplarStrips(parts, ctx, loaded) {
  try {
    const jobs = [];
    for (const l of loaded) {
      if (!l.entry || !entryOf(ctx.state, l.col.run, "exemplars", ctx.layer)) continue;
      const card = parts.map((p) => p && p.querySelector && p.querySelector(`.nv-col[data-run="${CSS.escape(l.col.run)}"]`))
        .find(Boolean);
      if (!card) continue;
      for (const fig of card.querySelectorAll(".nv-fig[data-channel]")) {
        const canvas = fig.querySelector("canvas");
        const height = canvas ? parseFloat(canvas.style.height) || 64 : 64;
        jobs.push(exemplarStrip(ctx.state, l.col.run, ctx.layer, Number(fig.dataset.channel), l.entry.step, Math.max(36, height))
          .then((strip) => {
            if (!strip || !canvas) return;
            fig.classList.add("nv-with-ex");
            canvas.after(strip);
          }).catch(() => {}));
      }
    }
    await Promise.all(jobs);
  } catch {
    // exemplars are context, never a reason to fail the view
  }
}

/**
 * The unit page's exemplars of one run: the k crops at the chosen step and,
 * for the hovered (or focused) crop, the whole input with the crop's box.
 * @returns {Promise<HTMLElement>}
 */
export async function exemplarPanel(state, run, layer, channel, step) {
  let rec;
  try {
    rec = await loadExemplars(state, run, layer, step);
  } catch (error) {
    return el("div", { class: "nv-error", text: `exemplars: ${error.message}` });
  }
  if (!rec) {
    return el("div", { class: "nv-note", text: "no exemplars logged for this layer (ExamplesLogger, or examples= in NetVizCallback)" });
  }
  const info = rec.info;
  const row = channelRow(info, channel);
  const where = `step ${rec.step}${rec.note ? ` (${rec.note})` : ""} · top ${info.k} of ${info.examples ?? "?"} examples`;
  if (row < 0) return el("div", { class: "nv-note", text: `channel ${channel} was not ranked (${where}; the first ${(info.channels || []).length} channels are)` });
  const positive = hasPositive(info, row);
  let crops = null;
  let inputs = null;
  try {
    [crops, inputs] = await Promise.all([loadSample(rec, "crops"), loadSample(rec, "inputs")]);
  } catch (error) {
    return el("div", { class: "nv-error", text: `exemplar images of step ${rec.step}: ${error.message}` });
  }
  const field = info.field || {};
  const fieldNote = field.exact === false
    ? "receptive field: the whole input (arithmetic cannot bound it here)"
    : Array.isArray(field.size) ? `receptive field ${field.size.join("×")} px` : "";
  const preview = el("figure", { class: "nv-ex-preview" }, [el("figcaption", { text: "hover a crop: its whole input, box = receptive field" })]);
  const show = (j) => {
    const example = info.indices[row][j];
    const canvas = inputs ? inputWithBox(inputs, info, example, (info.boxes || [])[row]?.[j]) : null;
    preview.replaceChildren(...[
      canvas,
      el("figcaption", { text: canvas ? `example #${example} · activation ${fmt(info.activations[row][j])}` : "whole inputs were not logged" }),
    ].filter(Boolean));
    preview.dataset.example = String(example);
  };
  const figures = [];
  for (let j = 0; j < (info.indices[row] || []).length; j++) {
    const example = info.indices[row][j];
    const act = info.activations[row][j];
    const pos = (info.positions || [])[row]?.[j];
    figures.push(el("figure", {
      class: "nv-fig nv-ex-crop", tabindex: "0",
      title: `example #${example} · activation ${fmt(act)}${Array.isArray(pos) ? ` at (${pos.join(", ")})` : ""}`,
      dataset: { example: String(example), j: String(j) },
      on: { mouseenter: () => show(j), focus: () => show(j), click: () => show(j) },
    }, [
      crops ? cropCanvas(crops, info, row, j, 44) : null,
      el("figcaption", { text: `#${example}` }),
      el("figcaption", { class: "nv-minor", text: fmt(act) }),
    ]));
  }
  if (figures.length) show(0);
  return el("div", { class: "nv-ex-panel", dataset: { step: String(rec.step) } }, [
    el("div", { class: "nv-note", text: `${where}${fieldNote ? ` · ${fieldNote}` : ""}` }),
    positive ? null : el("div", { class: "nv-dead-note", text: "⊘ no example makes this channel > 0: these are ties at 0, not exemplars" }),
    el("div", { class: "nv-ex-row" }, [el("div", { class: "nv-gallery nv-ex-crops" }, figures), preview]),
  ]);
}
