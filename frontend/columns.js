// Pieces every view shares: one column per chosen run, with a header (run
// name as text, the step shown and why, flags) and the step's image loaded.

import { imageUrl, loadImage } from "./api.js";
import { el, flag } from "./dom.js";
import { isNonfinite } from "./state.js";

/**
 * Loads the image of a column at its step.
 * @param {Object} col {run, tag, steps, at:{entry, note}|null, error}.
 * @param {number} index the image index (probe input; 0 for ascent).
 * @returns {Promise<{col:Object, entry:?Object, img:?HTMLImageElement, sample:number, error:?string}>}
 */
export async function loadColumn(col, index) {
  if (col.error) return { col, error: String(col.error.message || col.error) };
  if (!col.at) return { col, error: "no steps logged for this tag" };
  const entry = col.at.entry;
  if (!entry.info) return { col, entry, error: `step ${entry.step}: ${entry.error || "step JSON unreadable"}` };
  if (!(entry.samples > 0)) return { col, entry, error: `step ${entry.step} holds no images` };
  const sample = Math.min(index, entry.samples - 1);
  try {
    const img = await loadImage(imageUrl(col.run, col.tag, entry.step, sample));
    return { col, entry, img, sample, error: null };
  } catch (error) {
    return { col, entry, sample, error: `image of step ${entry.step}: ${error.message}` };
  }
}

/** The header of a run's column. */
export function columnHeader(loaded, extra = []) {
  const { col, entry } = loaded;
  const parts = [el("div", { class: "nv-run-label", text: col.run, title: col.run })];
  if (entry) {
    const note = col.at && col.at.note ? ` (${col.at.note})` : "";
    parts.push(el("div", { class: "nv-col-step", text: `step ${entry.step}${note}` }));
    if (isNonfinite(entry.info)) parts.push(flag("non-finite values", "NaN or Inf occurred at this step"));
  }
  return el("div", { class: "nv-col-head" }, [...parts, ...extra]);
}

/** A column element; the source <img> is kept (hidden) so its load state is visible. */
export function column(loaded, body, extraHead = []) {
  const node = el("div", { class: "nv-col", dataset: { run: loaded.col.run } }, [
    columnHeader(loaded, extraHead),
    loaded.error ? el("div", { class: "nv-error", text: loaded.error }) : body,
  ]);
  if (loaded.img) {
    loaded.img.className = "nv-src";
    loaded.img.alt = "";
    node.appendChild(loaded.img);
  }
  return node;
}

/** The title line above the columns. */
export function viewTitle(title, subtitle, missing) {
  return el("header", { class: "nv-view-head" }, [
    el("h2", { text: title }),
    subtitle ? el("div", { class: "nv-sub", text: subtitle }) : null,
    missing && missing.length
      ? el("div", { class: "nv-note", text: `Not in this layer/kind: ${missing.join(", ")}` })
      : null,
  ]);
}

/** Styles a canvas or image to a CSS size with crisp (pixelated) scaling. */
export function sized(node, size) {
  node.style.width = `${size.width}px`;
  node.style.height = `${size.height}px`;
  node.classList.add("nv-pixelated");
  return node;
}
