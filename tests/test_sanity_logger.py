"""The `sanity` kind: its step JSON contract, scalars, strips, and when the callback runs it."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import logs
import numpy as np
import pytest
from logs import read_records
from models import assert_model_unchanged, compiled, data, small_cnn, snapshot
from plugin_client import PREFIX, make_client
from tensorboard.backend.event_processing import event_accumulator

from tb_netviz import NetVizCallback
from tb_netviz.loggers import Sanity, SanityLogger
from tb_netviz.methods.sanity import verdict as sanity_verdict
from tb_netviz.pictures import sanity as pictures

VERDICTS = {sanity_verdict.DEPENDS, sanity_verdict.SAME, sanity_verdict.cant_tell(4)}


def steps_of(log_dir, tag):
    client = make_client(str(log_dir))[0]
    query = {"run": "netviz", "tag": tag}
    return client.get(f"{PREFIX}/steps", query_string=query).json["steps"]


def test_a_custom_loop_logs_the_record_and_the_scalars(tmp_path):
    model, (x, _) = small_cnn(), data(4)
    before = snapshot(model)
    logger = SanityLogger(model, x, ["conv2"], channels=[3])
    with logs.event_writer(tmp_path / "netviz"):
        assert logger.log(7)
    assert_model_unchanged(model, before)
    assert read_records(tmp_path / "netviz") == {"sanity/conv2": [7]}
    info = steps_of(tmp_path, "sanity/conv2")[0]["info"]
    assert info["kind"] == "sanity" and info["check"] == "cascading_randomization"
    assert info["blocks"] == [["conv2"], ["conv1"]]
    assert info["channels"] == [3] and info["inputs"] == 4
    assert info["tiles"] == ["trained", "step 1", "step 2"]
    assert info["layout"] == {
        "rows": 1,
        "cols": 3,
        "tile_height": 16,
        "tile_width": 16,
        "pad": 2,
    }
    assert list(info["methods"]) == ["deconvnet", "guided_backprop", "gradient"]
    assert info["samples"] == 3  # one strip per method, in that order
    result = logger.results["conv2"]
    for m, entry in info["methods"].items():
        assert set(entry) == {"ssim", "spearman", "baseline", *pictures.VERDICT_KEYS}
        assert entry["caption"] == result.caption(m) and entry["inputs"] == 4
        np.testing.assert_allclose(entry["ssim"], result.ssim[m])
        np.testing.assert_allclose(entry["spearman"], result.spearman[m])
        assert entry["baseline"] == pytest.approx(result.baseline[m])
        assert entry["first_below"] == result.first_below(m)
        assert entry["depends_on_weights"] == result.depends(m)
        assert entry["verdict"] == result.verdict(m) and entry["verdict"] in VERDICTS
    acc = event_accumulator.EventAccumulator(
        str(tmp_path / "netviz"), size_guidance={event_accumulator.TENSORS: 0}
    )
    acc.Reload()
    for m in info["methods"]:
        tag = f"netviz/sanity/{m}/conv2"
        assert acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars"
        (event,) = acc.Tensors(tag)
        assert event.step == 7
        value = np.frombuffer(event.tensor_proto.tensor_content, "<f4")
        got = value[0] if value.size else event.tensor_proto.float_val[0]
        assert got == pytest.approx(info["methods"][m]["ssim"][-1], rel=1e-6)


def test_one_probe_input_gives_no_verdict():
    info, strips = pictures.record(
        [["c"]], [0], 1, {"gradient": [0.2]}, {"gradient": [0.1]},
        {"gradient": None}, {"gradient": np.ones((2, 1, 4, 5))},
    )  # fmt: skip
    entry = info["methods"]["gradient"]
    assert entry["depends_on_weights"] is None and entry["first_below"] is None
    assert entry["verdict"] == pictures.UNDETERMINED
    assert strips[0].shape == (4, 12, 1) and strips[0].dtype == np.uint8


def test_the_logger_checks_its_configuration():
    model, (x, _) = small_cnn(), data(2)
    with pytest.raises(ValueError, match="no spatial structure"):
        SanityLogger(model, x, ["logits"])
    with pytest.raises(ValueError, match="method"):
        SanityLogger(model, x, ["conv1"], methods="occlusion")
    with pytest.raises(ValueError, match="out of range"):
        SanityLogger(model, x, ["conv1"], channels=[8])


@pytest.mark.parametrize(
    ("kwargs", "want"),
    [
        ({}, {"sanity/conv1": [0, 2]}),  # default: before and after training
        ({"sanity": None}, {}),
        (
            {"sanity": Sanity(freq=2, top_k=1)},
            {"sanity/conv1": [1, 2]},
        ),  # every 2, and the end
    ],
)
def test_the_callback_checks_at_the_first_and_last_epoch(tmp_path, kwargs, want):
    x, y = data(8)
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:3],
        layers=["conv1"],
        overhead_budget=None,
        ascent=None,
        deconv=None,
        units=None,
        **{"sanity": Sanity(top_k=1), **kwargs},
    )
    compiled(small_cnn()).fit(x, y, epochs=3, callbacks=[cb], verbose=0)
    assert cb.failures == []
    found = read_records(f"{tmp_path}/netviz")
    assert {t: s for t, s in found.items() if t.startswith("sanity/")} == want
    if want:
        info = steps_of(tmp_path, "sanity/conv1")[-1]["info"]
        # The drawn methods plus the plain gradient, the contrast.
        assert list(info["methods"]) == ["deconvnet", "guided_backprop", "gradient"]


def test_sanity_freq_is_checked():
    with pytest.raises(ValueError, match=r"Sanity\(freq=...\) must be an integer"):
        NetVizCallback(
            "logs",
            probe=np.zeros((2, 16, 16, 3)),
            ascent=None,
            deconv=None,
            units=None,
            sanity=Sanity(freq=-1),
        )


def test_later_checks_reuse_one_copy_and_see_the_current_weights(tmp_path):
    model, (x, _) = small_cnn(), data(3)
    logger = SanityLogger(model, x, ["conv1", "conv2"], methods="gradient")
    with logs.event_writer(tmp_path / "netviz"):
        assert logger.log(0)
        first = {k: r.ssim["gradient"].copy() for k, r in logger.results.items()}
        checks = dict(logger._checks)
        assert checks["conv1"].copy is checks["conv2"].copy  # one copy
        assert logger.log(1)  # same weights: same curves
        for layer, curve in first.items():
            np.testing.assert_array_equal(logger.results[layer].ssim["gradient"], curve)
        model.get_layer("conv1").kernel.assign(
            np.asarray(model.get_layer("conv1").kernel) * -1.0
        )
        assert logger.log(2)  # new weights: new maps
    assert logger._checks == checks
    assert not np.array_equal(logger.results["conv1"].ssim["gradient"], first["conv1"])
