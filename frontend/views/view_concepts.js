// Concepts view (kind `concepts`): a layer's concepts, non-negative factors of
// its activations over held-out examples. Per run a card: the layer's
// explained share of energy, the ids gone since the previous step, then one
// card per concept (largest share first): its feature visualization (flagged
// when unreadable), its top exemplar crops, its share,
// its importance per class and badges (new, unstable). A concept opens its
// page (concepts_page.js), followed across steps by its stable id.

import { cardGrid, column, viewTitle } from "../shared/columns.js";
import { activate, el, fmt } from "../shared/dom.js";
import { kindEmpty } from "../shared/empty.js";
import { conceptPage } from "./concepts_page.js";
import { className, conceptCrops, conceptFv, conceptImage, cropLayout, topClasses } from "./concepts_pictures.js";

const NEW = "no partner in the previous step: a concept of its own since this step";
const UNSTABLE = "a second sample of examples does not find it again (low stability): read it with care";

/** A column's step with its crops grid and fv row loaded (`crops`, `fv`). */
async function loadCrops(col) {
  if (col.error) return { col, error: String(col.error.message || col.error) };
  if (!col.at) return { col, error: "no steps logged for this tag" };
  const entry = col.at.entry;
  if (!entry.info) return { col, entry, error: `step ${entry.step}: ${entry.error || "step JSON unreadable"}` };
  try {
    const [crops, fv] = await Promise.all([conceptImage(col, entry, "crops"), conceptImage(col, entry, "fv")]);
    return { col, entry, crops, fv, error: null };
  } catch (error) {
    return { col, entry, error: `crops of step ${entry.step}: ${error.message}` };
  }
}

function pct(x) {
  return Number.isFinite(x) ? `${fmt(x * 100)}%` : "n/a";
}

function badge(text, cls, title) {
  return el("span", { class: `nv-cpt-badge ${cls}`, title, text });
}

/** The importance row of a concept as a small bar list with the class names. */
function importanceBars(info, row) {
  const top = topClasses(info, row);
  if (!top.length) return el("div", { class: "nv-minor", text: "no importance logged" });
  const most = Math.max(1e-12, ...top.map((x) => Math.abs(x.value)));
  return el("ul", { class: "nv-cpt-bars", "aria-label": "importance per class" }, top.map(({ cls, value }) => el("li", {
    class: `nv-cpt-bar${value < 0 ? " nv-cpt-neg" : ""}`, dataset: { cls: String(cls) },
    title: `importance for ${className(info, cls)}: ${fmt(value)}`,
  }, [
    el("span", { class: "nv-cpt-bar-name", text: className(info, cls) }),
    el("span", { class: "nv-cpt-bar-track" }, [el("span", { class: "nv-cpt-bar-fill", style: { width: `${(Math.abs(value) / most) * 100}%` } })]),
    el("span", { class: "nv-cpt-bar-value", text: fmt(value) }),
  ])));
}

function conceptCard(l, row, ctx, size) {
  const info = l.entry.info;
  const id = info.ids[row];
  const isNew = (info.new || []).includes(id);
  const unstable = Array.isArray(info.unstable) && Boolean(info.unstable[row]);
  const stability = Array.isArray(info.stability) ? info.stability[row] : null;
  const crops = conceptCrops(l.crops, info, row, 6).map((c) => {
    c.style.width = `${size}px`;
    c.style.height = `${size}px`;
    c.classList.add("nv-pixelated");
    return c;
  });
  const select = () => ctx.update({ conceptId: id });
  return el("article", {
    class: `nv-cpt-card${unstable ? " nv-cpt-unstable" : ""}`, tabindex: "0", role: "button",
    dataset: { id: String(id), row: String(row) }, "aria-label": `concept ${id}`,
    title: "open this concept's page: its heatmaps on the probe and its history over steps", on: activate(select),
  }, [
    el("div", { class: "nv-cpt-head" }, [
      el("span", { class: "nv-cpt-id", text: `concept ${id}` }),
      isNew ? badge("new", "nv-cpt-new", NEW) : null,
      unstable ? badge("unstable", "nv-cpt-warn", `${UNSTABLE} (stability ${fmt(stability)})`) : null,
      el("span", { class: "nv-spacer" }),
      el("span", { class: "nv-cpt-share", title: "its share of the layer's coefficients", text: pct(info.share[row]) }),
    ]),
    el("div", { class: "nv-cpt-pictures" }, [
      conceptFv(l.fv, info, row, size + 8),
      el("div", { class: "nv-cpt-crops" }, crops.length ? crops : [el("span", { class: "nv-minor", text: "no crops (inputs are not images)" })]),
    ]),
    importanceBars(info, row),
  ]);
}

function cardBody(l, ctx) {
  const info = l.entry.info;
  const layout = cropLayout(info);
  const size = layout ? Math.max(24, Math.min(48, Math.floor((ctx.fitWidth - 40) / Math.min(6, layout.cols)) - 4)) : 32;
  const gone = (info.gone || []).map(String);
  return el("div", { class: "nv-cpt-run" }, [
    el("div", { class: "nv-cpt-facts" }, [
      badge(`explains ${pct(info.explained)}`, "nv-cpt-explained", "the share of the activations' energy the concepts explain"),
      el("span", { class: "nv-minor", text: `${info.k} concepts` }),
      gone.length ? el("span", { class: "nv-cpt-gone", title: "concepts of the previous step left without a partner", text: `gone: ${gone.join(", ")}` }) : null,
    ]),
    el("div", { class: "nv-cpt-cards" }, (info.ids || []).map((_, row) => conceptCard(l, row, ctx, size))),
  ]);
}

/** Renders the Concepts view; resolves to its content, or null if stale. */
export async function renderConcepts(ctx) {
  const { state, columns } = ctx;
  if (!columns.length) return kindEmpty(ctx.kind, ctx.layer, state.selectedRuns);
  if (Number.isInteger(state.conceptId)) {
    const page = await conceptPage(ctx, state.conceptId);
    if (ctx.stale()) return null;
    return el("div", { class: "nv-view", dataset: { view: "concepts" } }, page);
  }
  const loaded = await Promise.all(columns.map(loadCrops));
  if (ctx.stale()) return null;
  return el("div", { class: "nv-view", dataset: { view: "concepts" } }, [
    viewTitle(`Concepts · ${ctx.layer}`,
      "the layer's concepts (non-negative factors of its activations over examples): their top examples, share and importance per class", ctx.missing),
    cardGrid(ctx, loaded.map((l) => column(l, l.error ? el("div") : cardBody(l, ctx)))),
  ]);
}
