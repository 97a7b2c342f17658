// The sidebar's run selector, built for a hundred runs: a regular-expression
// filter (as TensorBoard's), natural order, a colour per run, names shortened
// in the middle with the full name on hover, and runs without data for the
// current view greyed (still selectable; they never block the others).

import { el, replaceChildren } from "./dom.js";
import { compileFilter, displayName, middleEllipsis } from "./runs.js";

const LABEL_WIDTH = 178; // CSS px left for a name in the 264 px sidebar
const LABEL_FONT = "13px Roboto, 'Helvetica Neue', Arial, sans-serif";

/**
 * Builds the run selector.
 * @param {function(Object)} update applies a partial state.
 * @returns {{element:HTMLElement, sync:function(Object)}}
 */
export function buildRunList(update) {
  const filter = el("input", {
    type: "search", class: "nv-filter", name: "run filter", "aria-label": "filter runs (regular expression)",
    placeholder: "Filter runs (regex)", spellcheck: "false", autocomplete: "off",
  });
  const filterError = el("div", { class: "nv-note nv-warn-text", role: "status" });
  const count = el("div", { class: "nv-note nv-run-count" });
  const list = el("div", { class: "nv-runs", role: "group", "aria-label": "runs" });
  let model = null;
  let rows = new Map(); // run -> {row, box}

  filter.addEventListener("input", () => update({ filter: filter.value }));

  const matching = () => {
    const f = compileFilter(model.state.filter);
    return model.runNames.filter((run) => f.test(displayName(run)));
  };
  const chosen = () => model.runNames.filter((run) => rows.get(run).box.checked);
  const buttons = el("div", { class: "nv-row nv-small" }, [
    el("button", {
      type: "button", class: "nv-link", text: "all shown", title: "choose every run that matches the filter",
      on: { click: () => update({ selectedRuns: [...new Set([...model.state.selectedRuns, ...matching()])] }) },
    }),
    el("button", {
      type: "button", class: "nv-link", text: "none", title: "choose no run",
      on: { click: () => update({ selectedRuns: [] }) },
    }),
    el("button", {
      type: "button", class: "nv-link", text: "first 8", title: "the default: the first 8 runs",
      on: { click: () => update({ selectedRuns: "default" }) },
    }),
  ]);

  function rebuild() {
    rows = new Map();
    replaceChildren(list, model.runNames.map((run, i) => {
      const name = displayName(run);
      const box = el("input", { type: "checkbox", id: `nv-run-${i}`, dataset: { run } });
      box.addEventListener("change", () => update({ selectedRuns: chosen() }));
      const row = el("div", { class: "nv-run", dataset: { run } }, [
        box,
        el("span", { class: "nv-swatch", style: { background: model.colors[run] }, "aria-hidden": "true" }),
        el("label", {
          for: `nv-run-${i}`, class: "nv-run-name", text: middleEllipsis(name, LABEL_WIDTH, LABEL_FONT),
          title: name === run ? name : `${name}  (run ${run})`, dataset: { name },
        }),
      ]);
      rows.set(run, { row, box });
      return row;
    }));
    list.dataset.runs = JSON.stringify(model.runNames);
  }

  /** Brings the list in line with the state (cheap: no rebuild unless the runs changed). */
  function sync(next) {
    model = next;
    if (list.dataset.runs !== JSON.stringify(model.runNames)) rebuild();
    if (document.activeElement !== filter) filter.value = model.state.filter;
    const f = compileFilter(model.state.filter);
    filterError.textContent = f.error ? `not a regular expression: ${f.error}` : "";
    filter.classList.toggle("nv-invalid", Boolean(f.error));
    let shown = 0;
    for (const run of model.runNames) {
      const { row, box } = rows.get(run);
      const visible = f.test(displayName(run));
      row.hidden = !visible;
      shown += visible;
      box.checked = model.state.selectedRuns.includes(run);
      const missing = !model.runHasTag[run];
      row.classList.toggle("nv-missing", missing);
      row.title = missing ? "no data for this view and layer" : "";
    }
    const total = model.runNames.length;
    const picked = model.state.selectedRuns.length;
    count.textContent = `${picked} of ${total} run${total === 1 ? "" : "s"} chosen` +
      (model.state.filter ? ` · ${shown} match the filter` : "");
  }

  const element = el("div", { class: "nv-run-section" }, [filter, filterError, count, list, buttons]);
  return { element, sync };
}
