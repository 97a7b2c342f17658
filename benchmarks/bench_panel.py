"""The panel at 100 runs: time from a filter keystroke to the updated run list
(and cards), and from a step change to painted cards.

    python benchmarks/bench_panel.py [--runs 100] [--repeats 15] [--out FILE]
        [--smoke]

Builds a logdir of `--runs` copies of one demo layer (tests/test_browser_runs.py),
starts `tensorboard --load_fast=false`, opens the NetViz tab in Debian's
Chromium (headless, Playwright, no browser download) and measures inside the
page with performance.now(): from the input event (or the key press) to the
next animation frame after the panel says it is ready. Cold = first visit of
a step (step lists cached, images not); warm = images cached too. Reports
medians and ranges; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

import common  # noqa: E402
from browser_util import Panel, TensorBoard, launch_chromium  # noqa: E402
from test_browser_runs import make_many_runs  # noqa: E402

MEASURE_FILTER = """async (text) => {
  const input = document.querySelector("input.nv-filter");
  const root = document.querySelector(".nv-root");
  const renders = Number(root.dataset.renders || 0);
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const t0 = performance.now();
  input.value = text;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  let list = null;
  for (;;) {
    await frame();
    const count = document.querySelector(".nv-run-count").textContent;
    if (list === null && (text === "" ? !count.includes("match") : count.includes("match"))) list = performance.now() - t0;
    if (list !== null && root.dataset.state === "ready" && Number(root.dataset.renders) > renders) break;
  }
  await frame();
  return { list, cards: performance.now() - t0 };
}"""

MEASURE_STEP = """async (key) => {
  const root = document.querySelector(".nv-root");
  const renders = Number(root.dataset.renders || 0);
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const t0 = performance.now();
  window.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
  while (!(root.dataset.state === "ready" && Number(root.dataset.renders) > renders)) await frame();
  await frame(); // the cards are painted in this frame
  return { cards: performance.now() - t0, shown: document.querySelectorAll(".nv-col").length };
}"""


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):7.1f} ms  (min {min(values):.1f}, max {max(values):.1f}, n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--out", "--json", dest="out", help="also write the figures to this file"
    )
    # 13 runs: the first two filter patterns still match (sweep_10, sweep_2).
    args = common.parse_args(parser, {"runs": 13, "repeats": 1})
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "logs"
        root.mkdir()
        make_many_runs(root, args.runs)
        with TensorBoard(root, load_fast=False) as tb, sync_playwright() as p:
            tb.wait_for_runs(args.runs, timeout=300)
            browser = launch_chromium(p)
            panel = Panel(browser, tb.url, viewport={"width": 1400, "height": 900})
            frame = panel.frame
            figures = {
                "filter_list": [],
                "filter_cards": [],
                "step_cold": [],
                "step_warm": [],
            }
            patterns = [r"sweep_1\d$", "sweep_[2-4]", "7", "sweep_(5|6)0?$", ""]
            for i in range(args.repeats):
                r = frame.evaluate(MEASURE_FILTER, patterns[i % len(patterns)])
                figures["filter_list"].append(r["list"])
                figures["filter_cards"].append(r["cards"])
            frame.evaluate(MEASURE_FILTER, "")
            shown = 0
            for key in ["ArrowLeft"] * 4:  # first visits of older steps
                r = frame.evaluate(MEASURE_STEP, key)
                figures["step_cold"].append(r["cards"])
                shown = r["shown"]
            for i in range(args.repeats):
                r = frame.evaluate(
                    MEASURE_STEP, "ArrowRight" if (i // 4) % 2 == 0 else "ArrowLeft"
                )
                figures["step_warm"].append(r["cards"])
            panel.close()
            browser.close()
    print(
        f"NetViz panel, {args.runs} runs listed, {shown} cards shown (the default: first 8), 1400x900"
    )
    print(f"filter keystroke -> run list updated : {summary(figures['filter_list'])}")
    print(f"filter keystroke -> cards re-rendered: {summary(figures['filter_cards'])}")
    print(f"step change -> painted cards, cold   : {summary(figures['step_cold'])}")
    print(f"step change -> painted cards, warm   : {summary(figures['step_warm'])}")
    if args.out:
        common.write_json(
            args.out,
            {
                "benchmark": "panel",
                "smoke": args.smoke,
                "setting": {"runs": args.runs, "repeats": args.repeats},
                "cards_shown": shown,
                "figures_ms": figures,
                "environment": common.environment(),
            },
        )


if __name__ == "__main__":
    main()
