// Runs at scale: the name a run is shown by, natural order, one colour per
// run, a regular-expression filter like TensorBoard's, and a middle ellipsis
// (sweeps differ at the end of their names, so the end must stay visible).

/** TensorBoard's run palette (the Scalars dashboard's), reused in order. */
const PALETTE = [
  "#ff7043", "#0077bb", "#cc3311", "#33bbee", "#ee3377", "#009988", "#bbbbbb",
  "#ffa726", "#7e57c2", "#66bb6a", "#8d6e63", "#26c6da",
];

let logdirName = ""; // the listing's `logdir_name`: one logdir per TensorBoard

/**
 * Names the run that is the logdir itself (TensorBoard's `.`, or `netviz`
 * for the writer's `<logdir>/netviz`): the logdir folder's name, from the
 * `runs` listing; "" leaves it `.`.
 */
export function setLogdirName(name) {
  logdirName = typeof name === "string" ? name : "";
}

/**
 * The run's own name: TensorBoard's run id without the writer's `/netviz`
 * folder (`lr_0.1/netviz` -> `lr_0.1`); the logdir's own run (`.` or a bare
 * `netviz`) is the logdir folder's name. Requests keep the run id.
 */
export function displayName(run) {
  if (run === "." || run === "netviz") return logdirName || ".";
  return run.endsWith("/netviz") ? run.slice(0, -"/netviz".length) : run;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Natural order: `sweep_2` before `sweep_10`; ties broken by code points. */
export function naturalCompare(a, b) {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Run ids sorted by their display names, naturally. */
export function sortRuns(runs) {
  return [...runs].sort((a, b) => naturalCompare(displayName(a), displayName(b)) || naturalCompare(a, b));
}

/** A colour per run, by its position in the full (sorted) run list. */
export function runColors(sortedRuns) {
  const colors = {};
  sortedRuns.forEach((run, i) => { colors[run] = PALETTE[i % PALETTE.length]; });
  return colors;
}

/**
 * Compiles a filter like TensorBoard's: a case-insensitive regular expression;
 * an invalid one matches nothing and says why.
 * @returns {{test:function(string):boolean, error:?string}}
 */
export function compileFilter(text) {
  if (!text) return { test: () => true, error: null };
  try {
    const re = new RegExp(text, "i");
    return { test: (s) => re.test(s), error: null };
  } catch (error) {
    return { test: () => false, error: String(error.message || error) };
  }
}

let measureCtx = null;

/** Text width in CSS pixels for a font (canvas measureText, cached context). */
function textWidth(text, font) {
  if (!measureCtx) measureCtx = document.createElement("canvas").getContext("2d");
  measureCtx.font = font;
  return measureCtx.measureText(text).width;
}

/**
 * Shortens a name in the middle to fit a width: `sweep_lr_0.001…seed_12`.
 * @param {string} text the full name.
 * @param {number} width the width available, in CSS pixels.
 * @param {string} font a CSS font shorthand for measuring.
 */
export function middleEllipsis(text, width, font = "13px Roboto, sans-serif") {
  if (textWidth(text, font) <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) { // the most characters kept that still fit
    const mid = Math.ceil((lo + hi) / 2);
    const head = Math.ceil(mid / 2);
    const candidate = `${text.slice(0, head)}…${text.slice(text.length - (mid - head))}`;
    if (textWidth(candidate, font) <= width) lo = mid;
    else hi = mid - 1;
  }
  const head = Math.ceil(lo / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (lo - head))}`;
}
