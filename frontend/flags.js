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
