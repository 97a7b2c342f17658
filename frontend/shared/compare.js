// Comparing two runs on one layer, step and channel: B over A with an opacity
// slider, a swipe divider, or the signed difference A − B on a diverging map.

import { colorbar, lut } from "./colormaps.js";
import { el, fmt, replaceChildren } from "./dom.js";

const MODES = { overlay: "overlay", swipe: "swipe", difference: "difference" };
// Kept across re-renders (a step change keeps the comparison as it was).
const settings = { mode: "swipe", a: 0, b: 1, opacity: 0.5, pos: 50 };

/** Luminance values of a canvas (0..255), for a difference of two pictures. */
function luminance(canvas) {
  const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const out = new Float32Array(canvas.width * canvas.height);
  for (let i = 0; i < out.length; i++) out[i] = 0.299 * d[i * 4] + 0.587 * d[i * 4 + 1] + 0.114 * d[i * 4 + 2];
  return out;
}

/** Values of a source resampled (nearest) to w×h. */
function valuesAt(source, w, h) {
  const values = source.values || luminance(source.canvas);
  if (source.w === w && source.h === h) return values;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      out[y * w + x] = values[Math.floor((y * source.h) / h) * source.w + Math.floor((x * source.w) / w)];
    }
  }
  return out;
}

/** The signed difference A − B as a coolwarm canvas; returns it and its scale. */
export function differenceCanvas(a, b) {
  const va = valuesAt(a, a.w, a.h);
  const vb = valuesAt(b, a.w, a.h);
  let m = 0;
  const diff = new Float32Array(va.length);
  for (let i = 0; i < va.length; i++) {
    diff[i] = va[i] - vb[i];
    if (Number.isFinite(diff[i])) m = Math.max(m, Math.abs(diff[i]));
  }
  const canvas = document.createElement("canvas");
  canvas.width = a.w;
  canvas.height = a.h;
  const g = canvas.getContext("2d");
  const image = g.createImageData(a.w, a.h);
  const table = lut("coolwarm");
  for (let i = 0; i < diff.length; i++) {
    const t = m > 0 && Number.isFinite(diff[i]) ? 0.5 + diff[i] / (2 * m) : 0.5;
    const j = Math.round(Math.min(1, Math.max(0, t)) * 255) * 3;
    image.data.set([table[j], table[j + 1], table[j + 2], 255], i * 4);
  }
  g.putImageData(image, 0, 0);
  return { canvas, scale: m };
}

function copyCanvas(source, size) {
  const c = document.createElement("canvas");
  c.width = source.width;
  c.height = source.height;
  c.getContext("2d").drawImage(source, 0, 0);
  c.style.width = `${size.width}px`;
  c.style.height = `${size.height}px`;
  c.classList.add("nv-pixelated");
  return c;
}

/**
 * The comparison section of a large view.
 * @param {Array<{label:string, color:string, canvas:HTMLCanvasElement, w:number, h:number,
 *     values:?Float32Array, unit:string}>} sources one per run that has the channel.
 * @returns {?HTMLElement} null with fewer than two sources.
 */
export function compareSection(sources) {
  if (sources.length < 2) return null;
  if (settings.a >= sources.length) settings.a = 0;
  if (settings.b >= sources.length || settings.b === settings.a) settings.b = settings.a === 0 ? 1 : 0;
  const stage = el("div", { class: "nv-compare-stage" });
  const legend = el("div", { class: "nv-cbar-row nv-compare-legend" });
  const pick = (key) => {
    const s = el("select", { class: "nv-select", name: `compare ${key}`, "aria-label": `compare run ${key.toUpperCase()}` },
      sources.map((src, i) => el("option", { value: String(i), text: src.label })));
    s.value = String(settings[key]);
    s.addEventListener("change", () => { settings[key] = Number(s.value); draw(); });
    return s;
  };
  const modeButtons = Object.keys(MODES).map((mode) => el("button", {
    type: "button", class: "nv-seg-h", text: MODES[mode], dataset: { mode },
    on: { click: () => { settings.mode = mode; draw(); } },
  }));
  const slider = el("input", { type: "range", min: "0", max: "100", step: "1", class: "nv-slider nv-compare-slider" });
  slider.addEventListener("input", () => {
    if (settings.mode === "overlay") settings.opacity = Number(slider.value) / 100;
    else settings.pos = Number(slider.value);
    draw();
  });
  const sliderLabel = el("span", { class: "nv-note" });

  function draw() {
    const a = sources[settings.a];
    const b = sources[settings.b];
    const z = Math.max(1, Math.floor(300 / Math.max(a.w, a.h)));
    const size = { width: a.w * z, height: a.h * z };
    for (const button of modeButtons) {
      button.classList.toggle("nv-active", button.dataset.mode === settings.mode);
      button.setAttribute("aria-pressed", String(button.dataset.mode === settings.mode));
    }
    slider.hidden = settings.mode === "difference";
    sliderLabel.hidden = slider.hidden;
    stage.style.width = `${size.width}px`;
    stage.style.height = `${size.height}px`;
    stage.dataset.mode = settings.mode;
    if (settings.mode === "difference") {
      const { canvas, scale } = differenceCanvas(a, b);
      canvas.classList.add("nv-compare-diff");
      replaceChildren(stage, [copyCanvas(canvas, size)]);
      replaceChildren(legend, [
        el("span", { text: fmt(-scale) }), colorbar("coolwarm", 120, 8), el("span", { text: `+${fmt(scale)}` }),
        el("span", { text: `  ${a.label} − ${b.label} (${a.unit})` }),
      ]);
      return;
    }
    const top = copyCanvas(b.canvas, size);
    top.classList.add("nv-compare-top");
    const layers = [copyCanvas(a.canvas, size), top];
    if (settings.mode === "overlay") {
      slider.value = String(Math.round(settings.opacity * 100));
      sliderLabel.textContent = `opacity of ${b.label}: ${slider.value}%`;
      top.style.opacity = String(settings.opacity);
    } else {
      slider.value = String(settings.pos);
      sliderLabel.textContent = `divider at ${settings.pos}%: ${a.label} left, ${b.label} right`;
      top.style.clipPath = `inset(0 0 0 ${settings.pos}%)`;
      layers.push(el("div", { class: "nv-swipe-line", style: { left: `${settings.pos}%` } }));
    }
    replaceChildren(stage, layers);
    replaceChildren(legend, [el("span", { text: `A = ${a.label}, B = ${b.label}` })]);
  }
  draw();
  return el("div", { class: "nv-compare" }, [
    el("h4", { text: "Compare two runs" }),
    el("div", { class: "nv-row nv-compare-controls" }, [
      el("label", {}, ["A ", pick("a")]), el("label", {}, ["B ", pick("b")]),
      el("div", { class: "nv-seg-group", role: "group", "aria-label": "comparison" }, modeButtons),
    ]),
    el("div", { class: "nv-row nv-compare-controls" }, [slider, sliderLabel]),
    stage,
    legend,
  ]);
}
