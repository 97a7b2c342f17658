"""Regenerates the README's panel screenshots from demo_logs/, light and dark.

    python docs/make_screenshots.py [--logdir demo_logs] [--out docs] [--size 1400x900]

Starts `tensorboard` on the logdir (never the browser tests' hostile runs),
drives Debian's Chromium with Playwright (no browser download) and writes, for
each scene, `<scene>.png` (light) and `<scene>_dark.png` (TensorBoard's dark
theme, followed by the panel). Scenes are set through the panel's URL
parameters (`p.netviz.*`), the same links a user can share, and an optional
click; a scene whose data the logdir lacks (the model map of older demo logs,
a transparency map) is skipped with a note.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from browser_util import TensorBoard, launch_chromium, plugin_frame, wait_ready  # noqa: E402

# scene -> (hash parameters, what to click once loaded, what must be shown)
SCENES = {
    "panel": ("p.netviz.layer=conv1", None, None),
    "compare": ("p.netviz.layer=conv1&p.netviz.channel=10", None, None),
    "ascent": (
        "p.netviz.view=ascent&p.netviz.layer=conv2&p.netviz.channel=1",
        None,
        None,
    ),
    "ascent_alpha": (
        "p.netviz.view=ascent&p.netviz.layer=conv2",
        "input[name='transparency map']",
        None,
    ),
    "deconv": (
        "p.netviz.view=deconv&p.netviz.layer=conv1&p.netviz.probe=2",
        None,
        None,
    ),
    "accentuation": (
        "p.netviz.view=deconv&p.netviz.layer=conv2&p.netviz.method=accentuation",
        None,
        None,
    ),
    "model": ("p.netviz.view=model&p.netviz.layer=conv2", None, ".nv-map"),
    "units": ("p.netviz.view=units&p.netviz.layer=conv1", None, ".nv-units-heat"),
    "sanity": (
        "p.netviz.view=deconv&p.netviz.layer=conv1&p.netviz.method=guided_backprop",
        ".nv-badge",
        None,
    ),
    # The ascent view of a layer with flagged pictures: each dimmed, its reason.
    "flags": ("p.netviz.view=ascent&p.netviz.layer=conv1", None, ".nv-flagged"),
    "attribution": ("p.netviz.view=attribution", None, ".nv-attr-map"),
    "concepts": ("p.netviz.view=concepts&p.netviz.layer=conv2", None, None),
    "concept": (
        "p.netviz.view=concepts&p.netviz.layer=conv2&p.netviz.concept=0",
        None,
        None,
    ),
}


def shoot(
    browser, url: str, out: Path, size: tuple[int, int], dark: bool
) -> list[Path]:
    written = []
    for scene, (params, click, needs) in SCENES.items():
        page = browser.new_page(
            viewport={"width": size[0], "height": size[1]},
            color_scheme="dark" if dark else "light",
        )
        page.goto(f"{url}#netviz&{params}")
        frame = plugin_frame(page)
        wait_ready(frame)
        missing = (click and not frame.query_selector(click)) or (
            needs and not frame.query_selector(needs)
        )
        if missing:
            print(f"skipped {scene}: {click or needs} is not in this logdir's panel")
            page.close()
            continue
        if click:
            frame.click(click)
            wait_ready(frame)
        frame.wait_for_function("() => [...document.images].every(i => i.complete)")
        frame.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.wait_for_timeout(300)
        path = out / f"{scene}{'_dark' if dark else ''}.png"
        page.screenshot(path=str(path))
        page.close()
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default=str(REPO / "demo_logs"))
    parser.add_argument("--out", default=str(REPO / "docs"))
    parser.add_argument("--size", default="1400x900")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    log = Path(args.out) / ".tensorboard-screenshots.log"
    with TensorBoard(Path(args.logdir), log_path=log) as tb, sync_playwright() as p:
        tb.wait_for_runs(1)
        browser = launch_chromium(p)
        try:
            for dark in (False, True):
                for path in shoot(browser, tb.url, out, size, dark):
                    print(path)
        finally:
            browser.close()
    log.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
