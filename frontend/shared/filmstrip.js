// A channel's feature visualizations over the logged steps of one run: the
// filmstrip row of the feature-visualization view's large view.

import { imageUrl, loadImage } from "./api.js";
import { runLabel, sized } from "./columns.js";
import { cropTile } from "./decode.js";
import { el, fmt } from "./dom.js";

/** Frames per filmstrip row; longer runs are subsampled evenly. */
export const MAX_FILM = 24;

/** At most `n` items of `list`, evenly spaced, first and last included. */
export function evenly(list, n) {
  if (list.length <= n) return list;
  const out = [];
  for (let i = 0; i < n; i++) out.push(list[Math.round((i * (list.length - 1)) / (n - 1))]);
  return out;
}

/**
 * One run's row of frames for `channel` at the steps of `axis`; pushes each
 * frame's canvas (or null) with its step onto `frames`, for the export.
 */
export async function filmRow(col, channel, currentStep, axis, frames) {
  const byStep = new Map(col.steps.filter((s) => s.info && s.samples > 0).map((s) => [s.step, s]));
  const cells = await Promise.all(axis.map(async (step) => {
    const s = byStep.get(step);
    const k = s ? (s.info.channels || []).indexOf(channel) : -1;
    if (k < 0) {
      frames.push({ canvas: null, step });
      return el("div", { class: "nv-frame nv-blank", title: `no image at step ${step}` });
    }
    try {
      const img = await loadImage(imageUrl(col.run, col.tag, s.step, 0));
      const layout = s.info.layout;
      const scale = Math.max(1, Math.floor(64 / Math.max(layout.tile_width, layout.tile_height)));
      const tile = cropTile(img, layout, k);
      frames.push({ canvas: tile, step });
      const canvas = sized(cropTile(img, layout, k), { width: layout.tile_width * scale, height: layout.tile_height * scale });
      return el("figure", {
        class: `nv-frame${s.step === currentStep ? " nv-selected" : ""}`,
        title: `step ${s.step} · objective ${fmt((s.info.objective || [])[k])}`,
      }, [canvas, el("figcaption", { text: String(s.step) })]);
    } catch (error) {
      return el("figure", { class: "nv-frame nv-error", text: `step ${s.step}: ${error.message}` });
    }
  }));
  frames.sort((a, b) => a.step - b.step);
  return el("div", { class: "nv-film-row" }, [
    runLabel(col),
    el("div", { class: "nv-film" }, cells),
  ]);
}
