// Per-channel marks read from the step JSON: "dead" channels. Written
// defensively: fields may be missing in older logs, and `info.flags` (when a
// newer backend sends it) takes precedence.

function isZeroRange(range) {
  return Array.isArray(range) && range[0] === 0 && range[1] === 0;
}

function statAt(info, key, k) {
  const values = info.stats && info.stats[key];
  if (!Array.isArray(values)) return null;
  if (Array.isArray(values[0])) return values.every((row) => row[k] === 0) ? 0 : 1; // per probe input
  return values[k];
}

/** Whether `info.flags` marks tile k dead: flags[k] (strings or object) or flags.dead. */
function flaggedDead(info, k) {
  const flags = info.flags;
  if (!flags) return null;
  if (Array.isArray(flags)) {
    const f = flags[k];
    if (Array.isArray(f)) return f.includes("dead");
    if (f && typeof f === "object") return Boolean(f.dead);
    if (typeof f === "string") return f.split(/[ ,]+/).includes("dead");
    return null;
  }
  if (Array.isArray(flags.dead)) {
    if (typeof flags.dead[0] === "boolean") return Boolean(flags.dead[k]);
    const channel = (info.channels || [])[k];
    return flags.dead.includes(channel);
  }
  return null;
}

/**
 * An activation tile is dead when it is zero for every probe input: its range
 * is [0, 0] for all of them, or its mean and fraction positive are both 0.
 */
export function deadActivation(info, k) {
  const flagged = flaggedDead(info, k);
  if (flagged !== null) return flagged;
  const ranges = Array.isArray(info.ranges) ? info.ranges : [];
  if (ranges.length && ranges.every((row) => Array.isArray(row) && isZeroRange(row[k]))) return true;
  return statAt(info, "frac_positive", k) === 0 && statAt(info, "mean", k) === 0;
}

/** A feature visualization is dead when its objective did not rise above 0. */
export function deadAscent(info, k) {
  const flagged = flaggedDead(info, k);
  if (flagged !== null) return flagged;
  const objective = (info.objective || [])[k];
  return typeof objective === "number" && objective <= 0;
}

/** True when an ascent/deconv layer is a dense one (output rank 2), when the JSON says. */
export function denseLayer(info) {
  return Array.isArray(info.output_shape) && info.output_shape.length === 2;
}

// Feature-visualization marks (`info.flags` of an ascent step: parallel lists
// `dead`, `saturated`, `at_bounds`, `constant`, and, measured against the
// data (tb_netviz/pictures/readability.py), `flat`, `noise`, `border` with
// their figures `contrast_ratio`, `hf_ratio`, `border_share`; one entry per
// tile). `info.data_reference` holds the data's figures and the thresholds.
// A marked picture is a failure of the optimization, not a finding: the tile
// says so, with a one-line reason.

function flagList(info, key) {
  const flags = info && info.flags;
  return flags && !Array.isArray(flags) && Array.isArray(flags[key]) ? flags[key] : null;
}

function figure(info, key, k) {
  const list = flagList(info, key);
  return list && typeof list[k] === "number" ? list[k] : null;
}

/** Share of tile k's pixels at a bound of the input range (0..1), or null. */
export function atBounds(info, k) {
  return figure(info, "at_bounds", k);
}

/** Whether the step JSON sets flag `key` (e.g. "saturated", "noise") on tile k. */
export function flagged(info, key, k) {
  const list = flagList(info, key);
  return Boolean(list && list[k]);
}

function percent(share) {
  if (share === null) return "most";
  return share > 0 && share < 0.01 ? `${(share * 100).toFixed(1)}%` : `${Math.round(share * 100)}%`;
}

/** A ratio as "5.1×", "87×", "4.2e+6×". */
export function times(ratio) {
  if (ratio >= 1e4) return `${ratio.toExponential(1)}×`;
  return ratio >= 10 ? `${Math.round(ratio)}×` : `${Number(ratio.toFixed(1))}×`;
}

/** The threshold a step states for a flag (`data_reference.thresholds`), or null. */
function threshold(info, key) {
  const t = info && info.data_reference && info.data_reference.thresholds;
  return t && typeof t[key] === "number" ? t[key] : null;
}

function mark(id, symbol, reason, meaning, rule, said = reason) {
  return { id, symbol, reason, text: `${said}${rule ? ` (${rule})` : ""}; ${meaning}` };
}

/**
 * The marks of a feature visualization's tile k: what is wrong with the
 * picture, as a symbol, a one-line reason and a sentence for its title.
 * @returns {Array<{id:string, symbol:string, reason:string, text:string}>}
 *     dead, saturated, constant, flat, noise, fine, border, in that order.
 */
export function ascentMarks(info, k) {
  const marks = [];
  if (deadAscent(info, k)) {
    marks.push(flagList(info, "dead")
      ? mark("dead", "⊘", "dead: the objective never rose above its start", "the picture shows no feature", "or the gradient was zero")
      : mark("dead", "⊘", "dead: the objective did not rise above 0", "the picture shows no feature"));
  }
  if (flagged(info, "saturated", k)) {
    const share = percent(atBounds(info, k));
    marks.push(mark("saturated", "◐", `saturated: ${share} of the pixels at the bounds`,
      "the optimization ran into the bounds, not a feature", "",
      `saturated: ${share} of the pixels sit at a bound of the input range`));
  }
  if (flagged(info, "constant", k)) {
    marks.push(mark("constant", "▭", "constant: one flat colour", "the picture shows nothing"));
  }
  const rule = (key, words) => {
    const t = threshold(info, key);
    return t === null ? "" : words(t);
  };
  if (flagged(info, "flat", k)) {
    const ratio = figure(info, "contrast_ratio", k);
    marks.push(mark("flat", "▢", `flat: contrast ${ratio === null ? "far below the data's" : `${percent(ratio)} of the data's`}`,
      "a near-uniform picture shows no feature", rule("flat_contrast_ratio", (t) => `flagged below ${percent(t)}`)));
  }
  if (flagged(info, "noise", k)) {
    const ratio = figure(info, "hf_ratio", k);
    marks.push(mark("noise", "▒", `noise: high-frequency power ${ratio === null ? "far above the data's" : `${times(ratio)} the data's`}`,
      "pixel-level detail the data never has: an adversarial pattern, not a readable feature",
      rule("noise_hf_ratio", (t) => `flagged above ${times(t)} with a spectral flatness above ${threshold(info, "noise_flatness") ?? 0.25}`)));
  }
  if (flagged(info, "fine", k)) {
    const ratio = figure(info, "hf_ratio", k);
    marks.push(mark("fine", "≋", `fine: high-frequency power ${ratio === null ? "far above the data's" : `${times(ratio)} the data's`}, on a few frequencies`,
      "a grating finer than the data: the honest pattern of a small receptive field, or an aliasing artifact; read it with the exemplars",
      rule("noise_hf_ratio", (t) => `flagged above ${times(t)} with a spectral flatness up to ${threshold(info, "noise_flatness") ?? 0.25}`)));
  }
  if (flagged(info, "border", k)) {
    const share = figure(info, "border_share", k);
    marks.push(mark("border", "⬚", `border: ${share === null ? "most" : percent(share)} of the energy in the frame`,
      "the picture changed only at its edges, the inside shows little", rule("border_share", (t) => `flagged above ${percent(t)}`)));
  }
  return marks;
}

/** Whether tile k's picture is unreadable so that a real example should stand in (flat, noise or border). */
export function unreadable(marks) {
  return marks.find((m) => m.id === "flat" || m.id === "noise" || m.id === "border") || null;
}
