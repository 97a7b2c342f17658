// A real example standing in for an unreadable feature visualization: where
// a channel's picture is flagged flat, noise or border, the large view shows
// the channel's best exemplar (kind `exemplars`, the strongest crop) instead,
// labelled as such, and the flagged picture beside it, dimmed.

import { imageUrl, loadImage } from "./api.js";
import { sized } from "./columns.js";
import { cropTile } from "./decode.js";
import { el, fmt } from "./dom.js";
import { channelRow, hasPositive, inputWithBox, loadExemplars } from "./exemplars.js";

/**
 * The channel's best exemplar crop at the nearest exemplars step ≤ step.
 * @returns {Promise<?{canvas:HTMLCanvasElement, input:?HTMLCanvasElement, example:number,
 *     activation:number, step:number}>} the crop and, when logged, its whole
 *     input with the crop's box; null without exemplars for the channel (or
 *     none > 0). Never throws.
 */
export async function bestExample(state, run, layer, channel, step) {
  try {
    const rec = await loadExemplars(state, run, layer, step);
    if (!rec) return null;
    const row = channelRow(rec.info, channel);
    const crops = rec.info.crops;
    if (row < 0 || !hasPositive(rec.info, row) || !crops || !crops.layout || !(rec.samples > crops.sample)) return null;
    const inputs = rec.info.inputs;
    const [img, whole] = await Promise.all([crops.sample, inputs && inputs.layout ? inputs.sample : -1].map((i) =>
      (i >= 0 && rec.samples > i ? loadImage(imageUrl(rec.run, rec.tag, rec.step, i)) : null)));
    const example = rec.info.indices[row][0];
    return {
      canvas: cropTile(img, crops.layout, row * (rec.info.k || crops.layout.cols)),
      input: whole ? inputWithBox(whole, rec.info, example, (rec.info.boxes || [])[row]?.[0], 96) : null,
      example,
      activation: rec.info.activations[row][0],
      step: rec.step,
    };
  } catch {
    return null; // the flagged picture stays the large view's picture
  }
}

/**
 * The large view's pictures when the feature visualization is unreadable:
 * the best real example, big (and its whole input with the crop's box),
 * then the flagged picture, dimmed.
 * @param {Object} best from bestExample().
 * @param {HTMLCanvasElement} picture the feature visualization's tile.
 * @param {{id:string}} why the mark that makes it unreadable.
 * @param {{width:number, height:number}} size the big picture's size, px.
 * @returns {Array<?HTMLElement>}
 */
export function standInPictures(best, picture, why, size) {
  const side = Math.max(size.width, size.height);
  const z = side / Math.max(best.canvas.width, best.canvas.height);
  const example = sized(best.canvas, { width: Math.round(best.canvas.width * z), height: Math.round(best.canvas.height * z) });
  const dimmed = sized(picture, { width: Math.round(size.width / 2), height: Math.round(size.height / 2) });
  dimmed.style.opacity = "0.4"; // as a marked tile in the gallery
  return [
    el("figure", {
      class: "nv-big-pic nv-stand-in",
      title: `example #${best.example} · activation ${fmt(best.activation)} · exemplars of step ${best.step}`,
      dataset: { example: String(best.example) },
    }, [example, el("figcaption", { text: `best real example (the feature visualization is ${why.id})` })]),
    best.input ? el("figure", { class: "nv-big-pic" }, [best.input, el("figcaption", { text: "in its input" })]) : null,
    el("figure", { class: "nv-big-pic nv-flagged-fv" }, [
      dimmed, el("figcaption", { text: `feature visualization, flagged ${why.id}` }),
    ]),
  ];
}
