"""Issue 18's acceptance (c): the demo's runs give sanity verdicts whose curves
agree with them, for the deconvolutions' check and the attribution maps' one.

The panel draws, per method, the mean SSIM after each randomized block, its
10-90 % band over inputs, and the baseline (the mean SSIM of different
inputs); the badge says the verdict and the caption says both. Read back from
the demo's event files (built here, and the committed demo_logs/), every
record must say one thing three ways.
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest
from tensorboard.backend.event_processing import event_accumulator

from tb_netviz.methods.sanity import verdict as verdict_lib


def _infos(run_dir: str, prefix: str) -> list[tuple[str, int, dict]]:
    acc = event_accumulator.EventAccumulator(
        run_dir, size_guidance={event_accumulator.TENSORS: 0}
    )
    acc.Reload()
    out = []
    for tag in acc.Tags()["tensors"]:
        if tag.startswith(prefix):
            for event in acc.Tensors(tag):
                text = event.tensor_proto.string_val[0].decode()
                out.append((tag, event.step, json.loads(text)))
    return out


def _checked(demo_logdir: str) -> list[tuple[str, str, dict]]:
    """`(where, method, result)` of every sanity result in the demo's runs."""
    found = []
    for run in sorted(os.listdir(demo_logdir)):
        run_dir = os.path.join(demo_logdir, run, "netviz")
        for tag, step, info in _infos(run_dir, "sanity.info/"):
            for method, result in info["methods"].items():
                found.append((f"{run} {tag} step {step}", method, result))
        for tag, step, info in _infos(run_dir, "attribution.info/"):
            for method, result in info["sanity"]["methods"].items():
                found.append((f"{run} {tag} step {step}", method, result))
    return found


COMMITTED = os.path.join(os.path.dirname(os.path.dirname(__file__)), "demo_logs")


@pytest.fixture(scope="module", params=["built", "committed"])
def results(request):
    """The demo built by the tests (2 short epochs), and the committed
    demo_logs/ that the README's screenshots show."""
    if request.param == "built":
        logdir = request.getfixturevalue("demo_logdir")
    else:
        logdir = COMMITTED
    found = _checked(logdir)
    kinds = {where.split()[1].split(".")[0] for where, _, _ in found}
    assert kinds == {"sanity", "attribution"}, kinds
    return found


def test_the_badge_follows_the_stated_rule(results):
    for where, method, r in results:
        lo, hi = r["interval"]
        margin = r["margin"]
        if r["depends_on_weights"] is True:
            assert r["verdict"] == verdict_lib.DEPENDS and hi < margin, (where, method)
        elif r["depends_on_weights"] is False:
            assert r["verdict"] == verdict_lib.SAME and lo > margin, (where, method)
        else:
            assert r["verdict"] == verdict_lib.cant_tell(r["inputs"]), (where, method)
            assert lo is None or hi is None or lo <= margin <= hi, (where, method)
            needed = r["inputs_needed"]
            assert needed is None or needed > r["inputs"], (where, method)


def test_the_caption_says_the_badge_and_the_curve(results):
    for where, method, r in results:
        caption = r["caption"]
        assert caption.endswith(r["verdict"]) or r["verdict"] in caption, where
        # The caption's figures are the drawn end of the band and the baseline's.
        mid = r["band"]["median"][-1]
        base = r["baseline_band"]["median"][-1]
        assert f"random weights {mid:.2f}" in caption, (where, method, caption)
        assert f"different inputs {base:.2f}" in caption, (where, method, caption)


def test_the_drawn_curve_ends_where_the_verdict_says(results):
    # The drawn line is the mean SSIM; the baseline line the mean of the
    # different-inputs SSIM. Their difference is exactly the mean of the d_i
    # whose interval the verdict reads, so it must sit on the verdict's side.
    for where, method, r in results:
        end, base = r["ssim"][-1], r["baseline"]
        assert len(r["ssim"]) == len(r["band"]["median"]), where
        if r["depends_on_weights"] is True:
            assert end - base < r["margin"], (where, method, end, base)
            assert r["first_below"] is not None, (where, method)
            assert 1 <= r["first_below"] <= len(r["ssim"]), (where, method)
        elif r["depends_on_weights"] is False:
            assert end - base > r["margin"], (where, method, end, base)
            assert r["first_below"] is None, (where, method)
