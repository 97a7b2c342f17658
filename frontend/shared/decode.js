// Decoding the stored grids: tile geometry, pixel access, and activation values.
//
// Grid contract (README "Log format"): tile k shows channel channels[k] at row
// k // cols, column k % cols, top-left (row·(tile_height+pad), col·(tile_width+pad));
// grayscale pixel q decodes to lo + q/qmax·(hi−lo) with that tile's [lo, hi].

const pixelCache = new WeakMap(); // HTMLImageElement -> ImageData

/** Top-left corner and size of tile k in a stored grid. */
export function tileRect(k, layout) {
  const cols = Math.max(1, layout.cols | 0);
  const pad = layout.pad | 0;
  const row = Math.floor(k / cols);
  const col = k % cols;
  return {
    x: col * (layout.tile_width + pad),
    y: row * (layout.tile_height + pad),
    w: layout.tile_width,
    h: layout.tile_height,
  };
}

/** The RGBA pixels of a loaded, same-origin image (cached per element). */
export function pixelsOf(img) {
  let data = pixelCache.get(img);
  if (!data) {
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(img, 0, 0);
    data = ctx.getImageData(0, 0, canvas.width, canvas.height);
    pixelCache.set(img, data);
  }
  return data;
}

/** Copies tile k of an image into a new canvas at its native size. */
export function cropTile(img, layout, k) {
  const r = tileRect(k, layout);
  const canvas = document.createElement("canvas");
  canvas.width = r.w;
  canvas.height = r.h;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(img, r.x, r.y, r.w, r.h, 0, 0, r.w, r.h);
  return canvas;
}

function finite(x) {
  return typeof x === "number" && Number.isFinite(x);
}

/** Per-tile statistic; accepts `[per tile]` or `[[per tile] per sample]`. */
export function tileStat(info, key, sample, k) {
  const values = info.stats && info.stats[key];
  if (!Array.isArray(values)) return null;
  const row = Array.isArray(values[0]) ? values[sample] || [] : values;
  return finite(row[k]) ? row[k] : null;
}

/**
 * Decodes the activation values of one probe input's grid.
 * @param {HTMLImageElement} img the loaded grayscale grid PNG.
 * @param {Object} info the step JSON (kind "activations").
 * @param {number} sample the probe input index (selects the ranges row).
 * @returns {{tiles: Array<{k:number, channel:number, lo:?number, hi:?number,
 *     h:number, w:number, values:Float32Array, finite:boolean}>, layout:Object}}
 *     values are row-major h×w floats (NaN where the range is not finite).
 */
export function decodeActivations(img, info, sample) {
  const layout = info.layout;
  const qmax = info.qmax || 255;
  const pixels = pixelsOf(img);
  const ranges = (info.ranges && info.ranges[sample]) || [];
  const channels = info.channels || [];
  const tiles = [];
  for (let k = 0; k < channels.length; k++) {
    const r = tileRect(k, layout);
    const [lo, hi] = ranges[k] || [null, null];
    const ok = finite(lo) && finite(hi);
    const values = new Float32Array(r.w * r.h);
    const scale = ok ? (hi - lo) / qmax : 0;
    for (let y = 0; y < r.h; y++) {
      const py = r.y + y;
      for (let x = 0; x < r.w; x++) {
        const px = r.x + x;
        const inside = px < pixels.width && py < pixels.height;
        const q = inside ? pixels.data[(py * pixels.width + px) * 4] : NaN;
        values[y * r.w + x] = ok ? lo + q * scale : NaN;
      }
    }
    tiles.push({
      k, channel: channels[k], lo: ok ? lo : null, hi: ok ? hi : null,
      h: r.h, w: r.w, values, finite: ok,
    });
  }
  return { tiles, layout };
}

/** Min and max of the finite tile ranges, or null when there is none. */
export function rangeOfTiles(tiles) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of tiles) {
    if (!t.finite) continue;
    lo = Math.min(lo, t.lo);
    hi = Math.max(hi, t.hi);
  }
  return lo <= hi ? [lo, hi] : null;
}

/** Tile k's RGBA pixels, `Uint8ClampedArray` of `w * h * 4` (see `tileRect`). */
export function tilePixels(img, layout, k) {
  const r = tileRect(k, layout);
  const pixels = pixelsOf(img);
  const out = new Uint8ClampedArray(r.w * r.h * 4);
  for (let y = 0; y < r.h; y++) {
    const from = ((r.y + y) * pixels.width + r.x) * 4;
    out.set(pixels.data.subarray(from, from + r.w * 4), y * r.w * 4);
  }
  return out;
}
