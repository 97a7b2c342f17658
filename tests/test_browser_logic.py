"""Pure parts of the panel, run in the plugin frame: colormaps, step choice,
run names and order, URL state, dead marks, deferred-step and shrunk notes."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium is not at /usr/bin/chromium", allow_module_level=True)

pytest_plugins = ["browser_util"]


def test_colormaps_and_steps(panel):
    result = panel.frame.evaluate(
        """async () => {
        const cm = await import("./static/shared/colormaps.js");
        const st = await import("./static/shared/state.js");
        const ends = {};
        for (const name of Object.keys(cm.COLORMAPS)) {
          const t = cm.lut(name);
          ends[name] = [Array.from(t.slice(0, 3)), Array.from(t.slice(765, 768)),
                        Array.from(t.slice(381, 384))];
        }
        const steps = [{step: 2}, {step: 5}, {step: 9}];
        return {
          ends,
          union: st.unionSteps([steps, [{step: 3}, {step: 5}]]),
          at4: st.stepAt(steps, 4), at9: st.stepAt(steps, 9), at1: st.stepAt(steps, 1),
        };
    }"""
    )
    # matplotlib's end colours: viridis #440154..#fde725, magma #000004..#fcfdbf,
    # inferno #000004..#fcffa4; coolwarm (Moreland) #3b4cc0..#b40426, grey at 0.5.
    expected = {
        "viridis": ([0x44, 0x01, 0x54], [0xFD, 0xE7, 0x25]),
        "magma": ([0x00, 0x00, 0x04], [0xFC, 0xFD, 0xBF]),
        "inferno": ([0x00, 0x00, 0x04], [0xFC, 0xFF, 0xA4]),
        "coolwarm": ([0x3B, 0x4C, 0xC0], [0xB4, 0x04, 0x26]),
        "gray": ([0, 0, 0], [255, 255, 255]),
    }
    for name, (low, high) in expected.items():
        got_low, got_high, _ = result["ends"][name]
        assert max(abs(a - b) for a, b in zip(got_low + got_high, low + high)) <= 6, (
            name
        )
    assert all(abs(c - 221) <= 3 for c in result["ends"]["coolwarm"][2])  # ~white at 0
    assert result["union"] == [2, 3, 5, 9]
    assert result["at4"]["entry"]["step"] == 2 and "nearest" in result["at4"]["note"]
    assert result["at9"] == {"entry": {"step": 9}, "note": ""}
    assert result["at1"]["entry"]["step"] == 2 and "first" in result["at1"]["note"]


def test_run_names_order_and_filter(panel):
    result = panel.frame.evaluate(
        """async () => {
        const r = await import("./static/shared/runs.js");
        const long = "sweep_lr_0.001_batch_128_seed_12";
        const short = r.middleEllipsis(long, 120);
        return {
          names: ["lr_0.1/netviz", "netviz", "a/b/netviz", "netviz_x", "x/netviz/y"].map(r.displayName),
          order: r.sortRuns(["sweep_10/netviz", "sweep_2/netviz", "Sweep_1/netviz", "base/netviz"]),
          short, fits: short.length < long.length, tail: short.endsWith("12"),
          ok: r.compileFilter("SWEEP_\\\\d$").test("sweep_3"), bad: r.compileFilter("(").error !== null,
        };
    }"""
    )
    assert result["names"] == ["lr_0.1", ".", "a/b", "netviz_x", "x/netviz/y"]
    assert result["order"] == [
        "base/netviz",
        "Sweep_1/netviz",
        "sweep_2/netviz",
        "sweep_10/netviz",
    ]
    assert "…" in result["short"] and result["fits"] and result["tail"]
    assert result["ok"] and result["bad"]


def test_url_state_round_trip_and_bad_values(panel):
    result = panel.frame.evaluate(
        """async () => {
        const u = await import("./static/shared/urlstate.js");
        const st = await import("./static/shared/state.js");
        const a = st.createState();
        Object.assign(a, {view: "deconv", method: "guided_backprop", selectedRuns: ["a/netviz", "b,c"],
          layer: "conv2", sample: 3, step: 7, cmap: "magma", norm: "shared", zoom: "4", filter: "b",
          selected: {kind: "guided_backprop", layer: "conv2", channel: 5}});
        const params = u.toParams(a, false);
        const b = st.createState();
        const later = u.applyParams(b, JSON.parse(JSON.stringify(params)));
        const c = st.createState();
        u.applyParams(c, {view: "<x>", cmap: "nope", zoom: "1e9", step: "x", probe: "-1", runs: "{"});
        return {params, b: [b.view, b.method, b.layer, b.sample, b.step, b.cmap, b.norm, b.zoom, b.filter],
                later, defaults: st.createState(), c};
    }"""
    )
    assert result["b"] == [
        "deconv",
        "guided_backprop",
        "conv2",
        3,
        7,
        "magma",
        "shared",
        "4",
        "b",
    ]
    assert result["later"] == {"channel": 5, "runs": ["a/netviz", "b,c"]}
    c, d = result["c"], result["defaults"]
    assert [c[k] for k in ("view", "cmap", "zoom", "step", "sample")] == [
        d[k] for k in ("view", "cmap", "zoom", "step", "sample")
    ]


def test_dead_marks_and_deferred_notes(panel):
    result = panel.frame.evaluate(
        """async () => {
        const f = await import("./static/shared/flags.js");
        const col = await import("./static/shared/columns.js");
        const act = {ranges: [[[0, 0], [0, 1]], [[0, 0], [0, 0]]], stats: {mean: [0, 0.1], frac_positive: [0, 0.2]}};
        const byStats = {ranges: [[[0, 1]]], stats: {mean: [0], frac_positive: [0]}};
        const asc = {objective: [0.5, 0, -1], channels: [4, 5, 6]};
        const flagged = {objective: [0.5, 0.5], channels: [1, 2], flags: {dead: [2]}};
        return {
          act: [f.deadActivation(act, 0), f.deadActivation(act, 1), f.deadActivation(byStats, 0)],
          asc: [0, 1, 2].map(k => f.deadAscent(asc, k)),
          flagged: [f.deadAscent(flagged, 0), f.deadAscent(flagged, 1)],
          listFlags: f.deadAscent({objective: [1], flags: [["dead"]]}, 0),
          deferred: col.deferredNote({deferred_steps: [3, 4]}),
          none: col.deferredNote({}),
          shrunk: col.shrunkNote({shrunk: {steps: [64, 256]}}),
          whole: [col.shrunkNote({}), col.shrunkNote({shrunk: {steps: "x"}})],
        };
    }"""
    )
    assert result["act"] == [True, False, True]
    assert result["asc"] == [False, True, True]
    assert result["flagged"] == [False, True] and result["listFlags"] is True
    assert result["deferred"] == "deferred at steps 3, 4 by the overhead budget"
    assert result["none"] == ""
    assert result["shrunk"] == "64 of 256 steps (made smaller by the overhead budget)"
    assert result["whole"] == ["", ""]


def test_the_logdir_itself_is_named_by_its_folder(panel):
    result = panel.frame.evaluate(
        """async () => {
        const r = await import("./static/shared/runs.js");
        const runs = [".", "netviz", "a/netviz", "netviz_x"];
        const before = runs.map(r.displayName);
        r.setLogdirName("mymodel");
        const after = runs.map(r.displayName);
        r.setLogdirName("");
        return {before, after};
    }"""
    )
    assert result["before"] == [".", ".", "a", "netviz_x"]  # no name: TensorBoard's
    assert result["after"] == ["mymodel", "mymodel", "a", "netviz_x"]


def test_a_single_step_chart_has_a_centred_readable_axis(panel):
    result = panel.frame.evaluate(
        """async () => {
        const lc = await import("./static/shared/linechart.js");
        const chart = lc.lineChart([{label: "dead", color: "red", points: [[12000, 0.25]]}],
          {width: 280, height: 120, marker: 12000, yRange: [0, 1]});
        const attrs = [...chart.querySelectorAll("*")].flatMap((n) => [...n.attributes].map((a) => a.value));
        return {
          one: lc.xAxis([12000, 12000]), zero: lc.xAxis([0]), label: lc.xAxis([0], ["trained"]),
          two: lc.xAxis([3, 1, 3, 2]), none: lc.xAxis([NaN]),
          flat: lc.yDomain([0, 0]), bad: lc.yDomain([], [NaN, NaN]),
          dot: Number(chart.querySelector("circle").getAttribute("cx")),
          marker: Number(chart.querySelector(".nv-chart-marker").getAttribute("x1")),
          xTexts: [...chart.querySelectorAll(".nv-chart-axis text")].map((t) => t.textContent)
            .filter((t) => !["0", "0.5", "1"].includes(t)),
          nan: attrs.filter((v) => /NaN|Infinity/.test(v)),
        };
    }"""
    )
    assert result["one"] == {"x0": 11999, "x1": 12001, "ticks": [[12000, "12000"]]}
    assert result["zero"] == {"x0": -1, "x1": 1, "ticks": [[0, "0"]]}
    assert result["label"] == {"x0": -1, "x1": 1, "ticks": [[0, "trained"]]}
    assert result["two"] == {"x0": 1, "x1": 3, "ticks": [[1, "1"], [2, "2"], [3, "3"]]}
    assert result["none"] == {"x0": 0, "x1": 1, "ticks": []}
    assert result["flat"] == [0, 1] and result["bad"] == [0, 1]
    # The one point sits mid-plot (left margin 38, plot width 280-38-10), under
    # its marker, with the one step as its only x tick.
    assert result["dot"] == pytest.approx(38 + (280 - 48) / 2)
    assert result["marker"] == pytest.approx(result["dot"])
    assert result["xTexts"] == ["12000"]
    assert result["nan"] == []


def test_a_layer_that_is_the_outputs_is_labelled(panel):
    result = panel.frame.evaluate(
        """async () => {
        const t = await import("./static/shared/tree.js");
        const index = t.indexMap([
          {path: "c2", outputs: null},
          {path: "classes", outputs: "7 channels = the model's outputs"},
        ]);
        const map = {index};
        return ["c2", "classes", "nope"].map((p) => t.outputsNote(map, p))
          .concat([t.outputsNote(null, "classes")]);
    }"""
    )
    assert result == ["", "7 channels = the model's outputs", "", ""]
