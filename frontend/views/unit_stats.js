// The Units view's vocabulary, shared by the heatmap (view_units.js) and the
// unit's page (unit_page.js): the statistics and sources of the `units` step
// JSON and how a step's statistics are picked from them.

export const STATS = { max: "max", mean: "mean", frac_positive: "share > 0" };
export const SOURCES = { auto: "auto", examples: "examples", probe: "probe" };

/** A step's statistics from the chosen source ("auto": the step's best), or null. */
export function pickSource(info, source) {
  if (!info || !info.sources) return null;
  const name = source === "auto" || !source ? info.source : source;
  const s = info.sources[name];
  return s ? { ...s, name } : null;
}
