// The probe inputs (kind `probe`, logged once per run at its first step):
// the picture of the chosen probe input, shown beside each activation card.

import { fetchSteps, imageUrl, loadImage } from "../shared/api.js";
import { el } from "../shared/dom.js";

/** The listing entry of a run's probe, or null (older logs have none). */
export function probeEntry(state, run) {
  const layers = (state.runs[run] || {}).probe || {};
  const names = Object.keys(layers).sort();
  return names.length ? { layer: names[0], ...layers[names[0]] } : null;
}

/**
 * Loads a run's probe picture for the shown step: the newest probe step at or
 * before it, else the run's first probe step.
 * @returns {Promise<?{img:HTMLImageElement, step:number, info:Object, sample:number, layer:string}>}
 */
export async function loadProbe(state, run, step, sample) {
  const entry = probeEntry(state, run);
  if (!entry) return null;
  try {
    const steps = (await fetchSteps(run, entry.tag)).filter((s) => s.samples > 0);
    if (!steps.length) return null;
    const before = steps.filter((s) => s.step <= step);
    const chosen = before.length ? before[before.length - 1] : steps[0];
    const index = Math.min(sample, chosen.samples - 1);
    const img = await loadImage(imageUrl(run, entry.tag, chosen.step, index));
    return { img, step: chosen.step, info: chosen.info || {}, sample: index, layer: entry.layer };
  } catch {
    return null; // the probe is context, never a reason to fail the card
  }
}

/** The probe picture as a figure at most `box` px a side (crisp when enlarged). */
export function probeFigure(probe, box = 96) {
  const img = probe.img.cloneNode();
  const w = probe.img.naturalWidth || 1;
  const h = probe.img.naturalHeight || 1;
  const z = Math.min(box / w, box / h);
  const zoom = z >= 1 ? Math.floor(z) : z;
  img.className = "nv-probe-img nv-pixelated";
  img.alt = `probe input #${probe.sample}`;
  img.style.width = `${Math.max(1, Math.round(w * zoom))}px`;
  img.style.height = `${Math.max(1, Math.round(h * zoom))}px`;
  const range = Array.isArray(probe.info.input_range) ? ` · range ${probe.info.input_range.join(" … ")}` : "";
  const what = probe.info.drawn_as === "sequence" ? "time ↓ × channel →" : "";
  return el("figure", {
    class: "nv-probe", title: `probe input #${probe.sample} (${probe.layer}, logged at step ${probe.step})${range}`,
  }, [img, el("figcaption", { text: `input #${probe.sample}` }), what ? el("figcaption", { class: "nv-minor", text: what }) : null]);
}
