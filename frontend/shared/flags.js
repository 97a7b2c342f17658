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
// `dead`, `saturated`, `at_bounds`, `constant`, one entry per tile). A marked
// picture is a failure of the optimization, not a finding: the tile says so.

function flagList(info, key) {
  const flags = info && info.flags;
  return flags && !Array.isArray(flags) && Array.isArray(flags[key]) ? flags[key] : null;
}

/** Share of tile k's pixels at a bound of the input range (0..1), or null. */
export function atBounds(info, k) {
  const list = flagList(info, "at_bounds");
  return list && typeof list[k] === "number" ? list[k] : null;
}

/** Whether the step JSON flags tile k saturated (most pixels at the input bounds). */
export function saturatedAscent(info, k) {
  const list = flagList(info, "saturated");
  return Boolean(list && list[k]);
}

/** Whether the step JSON flags tile k constant (one flat colour). */
export function constantAscent(info, k) {
  const list = flagList(info, "constant");
  return Boolean(list && list[k]);
}

function percent(share) {
  return share === null ? "most" : `${Math.round(share * 100)}%`;
}

/**
 * The marks of a feature visualization's tile k: what is wrong with the
 * picture, as a symbol and a sentence for its title.
 * @returns {Array<{id:string, symbol:string, text:string}>} dead, saturated, constant.
 */
export function ascentMarks(info, k) {
  const marks = [];
  if (deadAscent(info, k)) {
    marks.push({
      id: "dead", symbol: "⊘",
      text: flagList(info, "dead")
        ? "dead: the objective never rose above its start (or the gradient was zero); the picture shows no feature"
        : "dead: the objective did not rise above 0",
    });
  }
  if (saturatedAscent(info, k)) {
    marks.push({
      id: "saturated", symbol: "◐",
      text: `saturated: ${percent(atBounds(info, k))} of the pixels sit at a bound of the input range; ` +
        "the optimization ran into the bounds, not a feature",
    });
  }
  if (constantAscent(info, k)) {
    marks.push({ id: "constant", symbol: "▭", text: "constant: one flat colour; the picture shows nothing" });
  }
  return marks;
}
