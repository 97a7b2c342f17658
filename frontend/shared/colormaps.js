// Colormaps as 256-entry RGB lookup tables, computed here (no data files).
// viridis/magma/inferno: degree-6 polynomial fits of the matplotlib maps
// (Matt Zucconi's fits, max error about 1/255); coolwarm: Moreland's diverging
// map (2009), linear between 9 of its published control points.

const POLY = {
  viridis: [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
  ],
  magma: [
    [-0.002136485053939582, -0.000749655052795221, -0.005386127855323933],
    [0.2516605407371642, 0.6775232436837668, 2.494026599312351],
    [8.353717279216625, -3.577719514958484, 0.3144679030132573],
    [-27.66873308576866, 14.26473078096533, -13.64921318813922],
    [52.17613981234068, -27.94360607168351, 12.94416944238394],
    [-50.76852536473588, 29.04658282127291, 4.23415299384598],
    [18.65570506591883, -11.48977351997711, -5.601961508734096],
  ],
  inferno: [
    [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
    [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
    [11.60249308247187, -3.972853965665698, -15.9423941062914],
    [-41.70399613139459, 17.43639888205313, 44.35414519872813],
    [77.162935699427, -33.40235894210092, -81.80730925738993],
    [-71.31942824499214, 32.62606426397723, 73.20951985803202],
    [25.13112622477341, -12.24266895238567, -23.07032500287172],
  ],
};

const COOLWARM = [
  [59, 76, 192], [98, 130, 234], [141, 176, 254], [184, 208, 249], [221, 221, 221],
  [245, 196, 173], [244, 154, 123], [222, 96, 77], [180, 4, 38],
];

/** Colormaps offered in the panel: id -> {label, diverging}. */
export const COLORMAPS = {
  viridis: { label: "viridis", diverging: false },
  magma: { label: "magma", diverging: false },
  inferno: { label: "inferno", diverging: false },
  coolwarm: { label: "coolwarm (diverging)", diverging: true },
  gray: { label: "grayscale", diverging: false },
};

const luts = new Map();

function polyLut(coeffs) {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    for (let ch = 0; ch < 3; ch++) {
      let v = 0;
      for (let d = coeffs.length - 1; d >= 0; d--) v = v * t + coeffs[d][ch];
      lut[i * 3 + ch] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return lut;
}

function piecewiseLut(points) {
  const lut = new Uint8ClampedArray(256 * 3);
  const segments = points.length - 1;
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * segments;
    const j = Math.min(segments - 1, Math.floor(x));
    const f = x - j;
    for (let ch = 0; ch < 3; ch++) {
      lut[i * 3 + ch] = Math.round(points[j][ch] * (1 - f) + points[j + 1][ch] * f);
    }
  }
  return lut;
}

/**
 * The lookup table of a colormap.
 * @param {string} name a key of COLORMAPS (unknown names give viridis).
 * @returns {Uint8ClampedArray} 256 × RGB, index 0 = low end.
 */
export function lut(name) {
  const id = name in COLORMAPS ? name : "viridis";
  if (!luts.has(id)) {
    if (id === "coolwarm") luts.set(id, piecewiseLut(COOLWARM));
    else if (id === "gray") luts.set(id, piecewiseLut([[0, 0, 0], [255, 255, 255]]));
    else luts.set(id, polyLut(POLY[id]));
  }
  return luts.get(id);
}

/** A horizontal colour bar canvas for a legend. */
export function colorbar(name, width = 160, height = 10) {
  const canvas = document.createElement("canvas");
  canvas.width = 256;
  canvas.height = 1;
  canvas.className = "nv-colorbar";
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(256, 1);
  const table = lut(name);
  for (let i = 0; i < 256; i++) {
    image.data.set([table[i * 3], table[i * 3 + 1], table[i * 3 + 2], 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}
