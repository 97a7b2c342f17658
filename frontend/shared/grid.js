// Colormapped activation grids: normalization, drawing to canvas, hit testing.
// Canvases are drawn at the stored resolution and scaled by CSS with
// image-rendering: pixelated, so zooming shows crisp pixels.

import { COLORMAPS, lut } from "./colormaps.js";
import { rangeOfTiles } from "./decode.js";

export const NORMALIZATIONS = {
  channel: "per channel",
  layer: "per layer",
  shared: "shared across runs",
};

const NONFINITE_RGB = [255, 0, 255]; // magenta: a tile whose range is not finite

/** True for Dense-layer grids: one 1×1 tile per unit. */
export function isDense(layout) {
  return layout.tile_height === 1 && layout.tile_width === 1;
}

/**
 * The layout the panel draws. Dense strips are re-flowed into a near-square
 * block of cells so units stay clickable; everything else keeps the stored
 * layout (sequences stay one time × channel image).
 */
export function displayLayout(layout, count) {
  if (isDense(layout) && count > 1) {
    const cols = Math.ceil(Math.sqrt(count));
    return { ...layout, cols, rows: Math.ceil(count / cols), pad: 0 };
  }
  return { ...layout };
}

/** True for colormaps centred on 0. */
export function isDiverging(cmap) {
  return Boolean(COLORMAPS[cmap] && COLORMAPS[cmap].diverging);
}

/** The normalization actually used: per channel is meaningless on 1×1 tiles. */
export function effectiveMode(mode, layout) {
  return mode === "channel" && isDense(layout) ? "layer" : mode;
}

/**
 * The value range that maps to the ends of the colormap for one tile.
 * Diverging maps get a range symmetric about 0, so 0 is the neutral colour.
 */
export function tileRange(tile, mode, layerRange, sharedRange, cmap) {
  let range = null;
  if (mode === "channel") range = tile.finite ? [tile.lo, tile.hi] : null;
  else if (mode === "shared") range = sharedRange || layerRange;
  else range = layerRange;
  if (!range) return null;
  if (isDiverging(cmap)) {
    const m = Math.max(Math.abs(range[0]), Math.abs(range[1]));
    return [-m, m];
  }
  return range;
}

function paintTile(image, tile, x0, y0, range, table, constT) {
  // A constant tile (span 0) maps to constT: the low end, or the middle of a
  // diverging map.
  const [a, b] = range || [0, 0];
  const span = b - a;
  for (let y = 0; y < tile.h; y++) {
    for (let x = 0; x < tile.w; x++) {
      const v = tile.values[y * tile.w + x];
      const o = ((y0 + y) * image.width + x0 + x) * 4;
      if (!range || Number.isNaN(v)) {
        image.data[o] = NONFINITE_RGB[0];
        image.data[o + 1] = NONFINITE_RGB[1];
        image.data[o + 2] = NONFINITE_RGB[2];
      } else {
        const t = span > 0 ? (v - a) / span : constT;
        const i = Math.round(Math.min(1, Math.max(0, t)) * 255) * 3;
        image.data[o] = table[i];
        image.data[o + 1] = table[i + 1];
        image.data[o + 2] = table[i + 2];
      }
      image.data[o + 3] = 255;
    }
  }
}

/**
 * Draws all tiles of a decoded grid with a colormap.
 * @param {{tiles:Array, layout:Object}} decoded from decodeActivations().
 * @param {{cmap:string, mode:string, sharedRange:?Array<number>}} opts
 * @returns {{canvas:HTMLCanvasElement, layout:Object, mode:string}}
 */
export function renderGrid(decoded, opts) {
  const layout = displayLayout(decoded.layout, decoded.tiles.length);
  const mode = effectiveMode(opts.mode, decoded.layout);
  const layerRange = rangeOfTiles(decoded.tiles);
  const pad = layout.pad | 0;
  const width = Math.max(1, layout.cols * (layout.tile_width + pad) - pad);
  const height = Math.max(1, layout.rows * (layout.tile_height + pad) - pad);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(width, height); // pad pixels stay transparent
  const table = lut(opts.cmap);
  const constT = isDiverging(opts.cmap) ? 0.5 : 0;
  for (const tile of decoded.tiles) {
    const col = tile.k % layout.cols;
    const row = Math.floor(tile.k / layout.cols);
    const range = tileRange(tile, mode, layerRange, opts.sharedRange, opts.cmap);
    const x0 = col * (layout.tile_width + pad);
    paintTile(image, tile, x0, row * (layout.tile_height + pad), range, table, constT);
  }
  ctx.putImageData(image, 0, 0);
  return { canvas, layout, mode, layerRange };
}

/** Draws one tile alone (the large view). */
export function renderTile(tile, range, cmap) {
  const canvas = document.createElement("canvas");
  canvas.width = tile.w;
  canvas.height = tile.h;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(tile.w, tile.h);
  paintTile(image, tile, 0, 0, range, lut(cmap), isDiverging(cmap) ? 0.5 : 0);
  ctx.putImageData(image, 0, 0);
  return canvas;
}

/**
 * The tile under a mouse event on a CSS-scaled grid element.
 * @returns {{k:number, x:number, y:number}|null} tile index and pixel in it.
 */
export function tileAt(event, element, layout, srcWidth, srcHeight, count) {
  const box = element.getBoundingClientRect();
  const sx = ((event.clientX - box.left) / box.width) * srcWidth;
  const sy = ((event.clientY - box.top) / box.height) * srcHeight;
  const pad = layout.pad | 0;
  const col = Math.floor(sx / (layout.tile_width + pad));
  const row = Math.floor(sy / (layout.tile_height + pad));
  const x = Math.floor(sx - col * (layout.tile_width + pad));
  const y = Math.floor(sy - row * (layout.tile_height + pad));
  if (col < 0 || row < 0 || col >= layout.cols || x >= layout.tile_width || y >= layout.tile_height) {
    return null;
  }
  const k = row * layout.cols + col;
  return k < count ? { k, x, y } : null;
}

/** CSS size for a source of w×h at a zoom factor ("auto" fits the width). */
export function zoomedSize(w, h, zoom, fitWidth) {
  let z = Number(zoom);
  if (!(z > 0)) {
    z = Math.min(fitWidth / w, 520 / h, 32);
    z = z >= 1 ? Math.floor(z) : Math.max(z, 0.25);
  }
  return { width: Math.round(w * z), height: Math.round(h * z), zoom: z };
}
