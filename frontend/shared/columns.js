// Pieces every view shares: one column per chosen run, with a header (run
// name as text, the step shown and why, flags) and the step's image loaded.

import { imageUrl, loadImage } from "./api.js";
import { el, flag, fmt } from "./dom.js";
import { exportCard } from "./export.js";
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

/** A run's name as a label: its own name, the full run id on hover, its colour. */
export function runLabel(col) {
  return el("div", { class: "nv-run-label", title: col.name === col.run ? col.run : `${col.name}  (run ${col.run})` }, [
    el("span", { class: "nv-swatch", style: { background: col.color }, "aria-hidden": "true" }),
    el("span", { class: "nv-run-text", text: col.name }),
  ]);
}

/** "deferred at steps 3, 4 by the overhead budget", or "" (step JSON `deferred_steps`). */
export function deferredNote(info) {
  const list = info && Array.isArray(info.deferred_steps) ? info.deferred_steps.filter(Number.isFinite) : [];
  return list.length ? `deferred at step${list.length > 1 ? "s" : ""} ${list.join(", ")} by the overhead budget` : "";
}

/** "100 of 400 steps (made smaller by the overhead budget)", or "" (step JSON `shrunk`). */
export function shrunkNote(info) {
  const shrunk = info && info.shrunk && typeof info.shrunk === "object" ? info.shrunk : {};
  const parts = Object.entries(shrunk)
    .filter(([, v]) => Array.isArray(v) && v.length === 2 && v.every(Number.isFinite))
    .map(([name, [done, full]]) => `${done} of ${full} ${name}`);
  return parts.length ? `${parts.join(", ")} (made smaller by the overhead budget)` : "";
}

/** The header of a run's column: name, step shown and why, cost, flags, export. */
export function columnHeader(loaded, extra = []) {
  const { col, entry } = loaded;
  const parts = [runLabel(col)];
  if (entry) {
    const note = col.at && col.at.note ? ` (${col.at.note})` : "";
    const cost = entry.info && Number.isFinite(entry.info.seconds) ? ` · ${fmt(entry.info.seconds)} s to log` : "";
    parts.push(el("div", { class: "nv-col-step", text: `step ${entry.step}${note}${cost}` }));
    const deferred = deferredNote(entry.info);
    if (deferred) parts.push(el("div", { class: "nv-note nv-deferred", text: deferred }));
    const shrunk = shrunkNote(entry.info);
    if (shrunk) parts.push(el("div", { class: "nv-note nv-deferred nv-shrunk", text: shrunk }));
    if (isNonfinite(entry.info)) parts.push(flag("non-finite values", "NaN or Inf occurred at this step"));
  }
  const save = el("button", {
    type: "button", class: "nv-icon-button nv-export", text: "PNG", title: "download this card as a PNG",
    "aria-label": `download the card of ${col.name} as PNG`,
  });
  save.addEventListener("click", () => {
    const card = save.closest(".nv-col");
    exportCard(card, `netviz_${col.name}_${col.tag}_step${entry ? entry.step : "none"}.png`);
  });
  return el("div", { class: "nv-col-head" }, [el("div", { class: "nv-col-title" }, [...parts, ...extra]), save]);
}

/** A column element; the source <img> is kept (hidden) so its load state is visible. */
export function column(loaded, body, extraHead = []) {
  const node = el("div", { class: "nv-col", dataset: { run: loaded.col.run }, style: { borderTopColor: loaded.col.color } }, [
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

/** The grid of run cards: side by side, `perRow` to a row, equal widths. */
export function cardGrid(ctx, cards) {
  return el("div", { class: "nv-columns", style: { gridTemplateColumns: `repeat(${ctx.perRow}, minmax(0, 1fr))` } }, cards);
}

/** The title line above the columns. */
export function viewTitle(title, subtitle, missing) {
  return el("header", { class: "nv-view-head" }, [
    el("h2", { text: title }),
    subtitle ? el("div", { class: "nv-sub", text: subtitle }) : null,
    missing && missing.length
      ? el("div", { class: "nv-note", text: `No data for this view and layer in: ${missing.join(", ")}` })
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
