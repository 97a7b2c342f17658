// Attribution maps (kind `attribution`): decoding a row's grey tiles back to
// map values, their colour scale, and the heatmap drawn over the input.
//
// Row contract (tb_netviz/pictures/attribution.py): one PNG per probe input;
// tile 0 is the input (drawn in the input range), tile 1 + m·T + t is method
// m's map for target t (m in `methods` order, T targets per input). Grey q of
// an unsigned map stands for lo + q/255·(hi − lo), of a signed map for
// (q − 128)/127·s, with `scales[method][n][t]` = [lo, hi] resp. [−s, s].

import { lut } from "../shared/colormaps.js";
import { pixelsOf, tilePixels, tileRect } from "../shared/decode.js";

/** The diverging colormap of signed maps (0 is its neutral middle). */
export const SIGNED_CMAP = "coolwarm";

/** Targets per input of a step (the width of `targets`). */
export function targetCount(info) {
  return Math.max(1, ((info.targets || [])[0] || []).length);
}

/** The tile index of method m's map for target t. */
export function tileIndex(info, m, t) {
  return 1 + m * targetCount(info) + t;
}

function finite(x) {
  return typeof x === "number" && Number.isFinite(x);
}

/** The stored [lo, hi] of a map, or null. */
export function storedScale(info, method, n, t) {
  const s = (((info.scales || {})[method] || [])[n] || [])[t];
  return Array.isArray(s) && finite(s[0]) && finite(s[1]) ? s : null;
}

/**
 * The value range a map is coloured over: its own stored one ("map") or the
 * widest of the method's maps over every input and target of the step
 * ("shared"); symmetric [−s, s] for a signed method.
 * @returns {?number[]} [lo, hi], null when the step stores none.
 */
export function colourRange(info, method, n, t, mode) {
  const signed = Boolean((info.signed || {})[method]);
  let ranges = [storedScale(info, method, n, t)];
  if (mode === "shared") ranges = ((info.scales || {})[method] || []).flatMap((row, i) => row.map((_, j) => storedScale(info, method, i, j)));
  ranges = ranges.filter(Boolean);
  if (!ranges.length) return null;
  if (signed) {
    const s = Math.max(...ranges.map((r) => Math.max(Math.abs(r[0]), Math.abs(r[1]))));
    return [-s, s];
  }
  return [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))];
}

/**
 * The values of method `method`'s map for target t in a row's image.
 * @param {HTMLImageElement} img the row of probe input n.
 * @returns {?{values:Float32Array, w:number, h:number, signed:boolean}} row-major
 *     floats; null when the step has no such map.
 */
export function decodeMap(img, info, n, method, t) {
  const m = (info.methods || []).indexOf(method);
  const scale = storedScale(info, method, n, t);
  if (m < 0 || !scale || t >= targetCount(info)) return null;
  const signed = Boolean((info.signed || {})[method]);
  const r = tileRect(tileIndex(info, m, t), info.layout);
  const pixels = pixelsOf(img);
  const values = new Float32Array(r.w * r.h);
  const [lo, hi] = scale;
  for (let y = 0; y < r.h; y++) {
    for (let x = 0; x < r.w; x++) {
      const q = pixels.data[((r.y + y) * pixels.width + r.x + x) * 4];
      values[y * r.w + x] = signed ? ((q - 128) / 127) * hi : lo + (q / 255) * (hi - lo);
    }
  }
  return { values, w: r.w, h: r.h, signed };
}

/** The input tile's RGBA pixels (tile 0 of a row). */
export function inputPixels(img, info) {
  return tilePixels(img, info.layout, 0);
}

/** The colormap position (0..1) of a value on a range. */
function position(v, range) {
  const span = range[1] - range[0];
  return span > 0 ? Math.min(1, Math.max(0, (v - range[0]) / span)) : 0;
}

/**
 * Paints a map coloured over its range and blended over the input,
 * (1 − opacity)·input + opacity·colour, into a canvas of the map's size.
 * @param {HTMLCanvasElement} canvas w × h.
 * @param {?Uint8ClampedArray} input the input's RGBA pixels (null: the map alone).
 * @param {?Object} map from decodeMap (null: the input alone).
 * @param {?number[]} range from colourRange.
 * @param {string} cmap the colormap of unsigned maps.
 */
export function paintHeat(canvas, input, map, range, cmap, opacity) {
  const { width: w, height: h } = canvas;
  const g = canvas.getContext("2d");
  const image = g.createImageData(w, h);
  const table = lut(map && map.signed ? SIGNED_CMAP : cmap);
  const a = map && range ? (input ? opacity : 1) : 0;
  for (let i = 0; i < w * h; i++) {
    const j = map && range ? Math.round(position(map.values[i], range) * 255) * 3 : 0;
    for (let c = 0; c < 3; c++) {
      const under = input ? input[i * 4 + c] : 0;
      image.data[i * 4 + c] = (1 - a) * under + a * table[j + c];
    }
    image.data[i * 4 + 3] = 255;
  }
  g.putImageData(image, 0, 0);
  return canvas;
}

/** A new w × h canvas painted by paintHeat. */
export function heatCanvas(input, map, range, cmap, opacity, w, h) {
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  return paintHeat(canvas, input, map, range, cmap, opacity);
}

/** CSS size of a tile drawn at most `box` px a side: whole zooms when enlarged. */
export function displaySize(w, h, box) {
  const z = Math.min(box / w, box / h);
  const zoom = z >= 1 ? Math.floor(z) : z;
  return { width: Math.max(1, Math.round(w * zoom)), height: Math.max(1, Math.round(h * zoom)), crisp: z >= 1 };
}

/** Sizes a canvas for display (crisp pixels when enlarged). */
export function shown(canvas, size) {
  canvas.style.width = `${size.width}px`;
  canvas.style.height = `${size.height}px`;
  if (size.crisp) canvas.classList.add("nv-pixelated");
  return canvas;
}
