// Decoding the Concepts kind's grids (step JSON `images`, `crops`,
// `heatmaps`, `fv`): concept c's exemplar crops (row c of the crops grid),
// per probe input n the input (tile 0 of row n) with concept c's heatmap (tile
// 1 + c, grey q standing for lo + q/255·(hi − lo), the tile's own range), and
// concept c's feature visualization (tile c of the fv row) with its flags.

import { imageUrl, loadImage } from "../shared/api.js";
import { lut } from "../shared/colormaps.js";
import { cropTile, tilePixels } from "../shared/decode.js";
import { el } from "../shared/dom.js";
import { ascentMarks } from "../shared/flags.js";

/** Loads one of a step's images by role ("crops" or "heatmaps"); null when absent. */
export async function conceptImage(col, entry, role) {
  const index = ((entry.info || {}).images || {})[role];
  if (!Number.isInteger(index) || index < 0 || index >= entry.samples) return null;
  return loadImage(imageUrl(col.run, col.tag, entry.step, index));
}

/** The crops grid's layout, or null. */
export function cropLayout(info) {
  return info && info.crops && info.crops.layout ? info.crops.layout : null;
}

/** Canvases of the crops of the concept at row `row` (at most `max`). */
export function conceptCrops(img, info, row, max = Infinity) {
  const layout = cropLayout(info);
  if (!img || !layout) return [];
  const count = Math.min(layout.cols, max);
  return Array.from({ length: count }, (_, j) => cropTile(img, layout, row * layout.cols + j));
}

/**
 * Concept `row`'s feature visualization as a figure of `size` px, or null
 * when the step has none: a flagged picture (dead, noise, flat, ...) is dimmed
 * and says why, never shown as a finding.
 */
export function conceptFv(img, info, row, size) {
  const fv = info && info.fv;
  if (!img || !fv || !fv.layout) return null;
  const canvas = cropTile(img, fv.layout, row);
  canvas.style.width = `${size}px`;
  canvas.style.height = `${size}px`;
  canvas.classList.add("nv-pixelated");
  const marks = ascentMarks(fv, row);
  const steps = fv.steps_done < fv.steps ? ` · ${fv.steps_done} of ${fv.steps} steps (budget)` : "";
  const title = `the input that most raises this concept's coefficient (feature visualization, ${fv.preset}${steps})`;
  return el("figure", {
    class: `nv-cpt-fv${marks.length ? " nv-flagged" : ""}`, dataset: { flags: marks.map((m) => m.id).join(" ") },
    title: marks.length ? `${title}\n${marks.map((m) => m.text).join("\n")}` : title,
  }, [canvas, el("figcaption", { text: marks.length ? marks.map((m) => `${m.symbol} ${m.id}`).join(" ") : "FV" })]);
}

/** The number of probe inputs with heatmaps. */
export function probeCount(info) {
  const h = info && info.heatmaps;
  return h && h.layout ? h.layout.rows : 0;
}

/**
 * Probe input n and concept (row) c's heatmap over it.
 * @returns {{input:Uint8ClampedArray, q:?Uint8ClampedArray, w:number, h:number, range:?number[], blank:boolean}}
 */
export function heatmapOf(img, info, n, c) {
  const { layout, scales, blank } = info.heatmaps;
  const input = tilePixels(img, layout, n * layout.cols);
  const isBlank = Boolean(((blank || [])[n] || [])[c]);
  const range = ((scales || [])[n] || [])[c] || null;
  const q = isBlank ? null : tilePixels(img, layout, n * layout.cols + 1 + c);
  return { input, q, w: layout.tile_width, h: layout.tile_height, range, blank: isBlank };
}

/** Paints a heatmap over its input at an opacity (the input alone when blank). */
export function paintConceptHeat(canvas, heat, cmap, opacity) {
  const g = canvas.getContext("2d");
  const image = g.createImageData(heat.w, heat.h);
  const table = lut(cmap);
  const a = heat.q ? opacity : 0;
  for (let i = 0; i < heat.w * heat.h; i++) {
    const j = heat.q ? heat.q[i * 4] * 3 : 0;
    for (let ch = 0; ch < 3; ch++) image.data[i * 4 + ch] = (1 - a) * heat.input[i * 4 + ch] + a * table[j + ch];
    image.data[i * 4 + 3] = 255;
  }
  g.putImageData(image, 0, 0);
  return canvas;
}

/** A new canvas with the heatmap painted. */
export function conceptHeatCanvas(heat, cmap, opacity) {
  const canvas = document.createElement("canvas");
  canvas.width = heat.w;
  canvas.height = heat.h;
  return paintConceptHeat(canvas, heat, cmap, opacity);
}

/** A class's display name. */
export function className(info, cls) {
  const names = Array.isArray(info.class_names) ? info.class_names : null;
  return names && names[cls] !== undefined && names[cls] !== null ? String(names[cls]) : `class ${cls}`;
}

/** The `top` classes of a concept's importance row, largest |value| first: [{cls, value}]. */
export function topClasses(info, row, top = 5) {
  const values = Array.isArray(info.importance) ? info.importance[row] : null;
  if (!Array.isArray(values)) return [];
  return values.map((value, cls) => ({ cls, value })).filter((x) => Number.isFinite(x.value) && x.value !== 0)
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, top);
}
