"""The `attribution` kind: its step JSON and PNG contract, its scalars, the
callback and the CLI, bad input before the first batch, failures that let
training go on."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import logs
import numpy as np
import pytest
import tensorflow as tf
from logs import read_records
from models import (
    assert_model_unchanged,
    compiled,
    data,
    nested_cnn,
    small_cnn,
    snapshot,
)
from plugin_client import PREFIX, make_client
from tensorboard.backend.event_processing import event_accumulator

from tb_netviz import Attribution, NetVizCallback, cli
from tb_netviz.loggers import AttributionLogger
from tb_netviz.methods.attributions import DEFAULT_METHODS, METRICS, Attributor
from tb_netviz.methods.sanity import verdict as sanity_verdict

VERDICTS = {sanity_verdict.DEPENDS, sanity_verdict.SAME, sanity_verdict.cant_tell(5)}


def steps_of(log_dir, tag):
    client = make_client(str(log_dir))[0]
    query = {"run": "netviz", "tag": tag}
    return client.get(f"{PREFIX}/steps", query_string=query).json["steps"]


def scalars(run_dir):
    acc = event_accumulator.EventAccumulator(
        str(run_dir), size_guidance={event_accumulator.TENSORS: 0}
    )
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        if tag.startswith("netviz/attribution/"):
            assert acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars"
            out[tag] = {}
            for e in acc.Tensors(tag):
                v = np.frombuffer(e.tensor_proto.tensor_content, "<f4")
                out[tag][e.step] = float(
                    v[0] if v.size else e.tensor_proto.float_val[0]
                )
    return out


def test_a_custom_loop_logs_maps_faithfulness_sanity_and_scalars(tmp_path):
    model, (x, y) = small_cnn(), data(5)
    before = snapshot(model)
    names = ["zero", "one", "two", "three"]
    logger = AttributionLogger(
        model, x, methods=("gradcam", "saliency"), class_names=names, labels=y
    )
    with logs.event_writer(tmp_path / "netviz"):
        assert logger.log(3)
    assert_model_unchanged(model, before)
    assert read_records(tmp_path / "netviz") == {"attribution/logits": [3]}
    (step,) = steps_of(tmp_path, "attribution/logits")
    info = step["info"]
    assert info["kind"] == "attribution" and info["drawn_as"] == "heatmap"
    assert info["methods"] == ["gradcam", "saliency"] and info["cam_layer"] == "conv2"
    assert info["samples"] == 5 and info["layout"]["cols"] == 3
    assert info["layout"]["tile_height"] == 16 and info["layout"]["tile_width"] == 16
    # Targets: the labels, as an (x, y) probe gives them.
    assert info["targets"] == [[int(v)] for v in y] and info["target_source"] == "label"
    assert info["labels"] == [int(v) for v in y] and info["class_names"] == names
    probs = np.asarray(info["probabilities"])
    assert probs.shape == (5, 1) and ((probs > 0) & (probs < 1)).all()
    assert sorted(info["ranking"]) == ["gradcam", "saliency"]
    assert set(info["faithfulness"]) == set(METRICS)
    for metric in METRICS:
        assert set(info["faithfulness"][metric]) == {"gradcam", "saliency", "random"}
        assert np.asarray(info["faithfulness"][metric]["gradcam"]).shape == (5, 1)
    assert info["sanity"]["blocks"][0] == ["logits"]
    for method, entry in info["sanity"]["methods"].items():
        assert method in ("gradcam", "saliency") and entry["verdict"] in VERDICTS
        assert len(entry["ssim"]) == len(info["sanity"]["blocks"])
    # The scalars are the means over the probe, at the record's step.
    found = scalars(tmp_path / "netviz")
    for metric in METRICS:
        for method in ("gradcam", "saliency", "random"):
            value = found[f"netviz/attribution/{metric}/{method}"][3]
            mean = info["faithfulness_mean"][metric][method]
            assert value == pytest.approx(mean, rel=1e-5)


def test_the_pngs_hold_the_input_and_the_maps_as_the_method_gives_them(tmp_path):
    model, (x, _) = small_cnn(), data(2)
    logger = AttributionLogger(
        model, x, methods=("saliency",), targets=[1, 2], metrics=(), sanity=()
    )
    with logs.event_writer(tmp_path / "netviz"):
        assert logger.log(0)
    client = make_client(str(tmp_path))[0]
    (step,) = steps_of(tmp_path, "attribution/logits")
    info = step["info"]
    assert info["targets"] == [[1, 2], [1, 2]] and info["target_source"] == "given"
    assert info["faithfulness"] == {} and info["sanity"] is None
    want = Attributor(model, ("saliency",))(x, np.array([[1, 2], [1, 2]])).maps[
        "saliency"
    ]
    query = {"run": "netviz", "tag": "attribution/logits", "step": 0, "sample": 1}
    png = client.get(f"{PREFIX}/image", query_string=query).data
    row = tf.io.decode_png(png).numpy()
    lay = info["layout"]
    for t in range(2):
        x0 = (1 + t) * (lay["tile_width"] + lay["pad"])
        q = row[:, x0 : x0 + lay["tile_width"], 0].astype(np.float64)
        lo, hi = info["scales"]["saliency"][1][t]
        got = lo + q / 255 * (hi - lo)
        assert np.abs(got - want[1, t]).max() <= (hi - lo) / 255 + 1e-6


def test_the_callback_logs_attribution_with_the_probes_labels(tmp_path):
    x, y = data(16)
    cb = NetVizCallback(
        str(tmp_path),
        probe=(x[:5], y[:5]),
        layers=["conv2"],
        overhead_budget=None,
        ascent=None,
        deconv=None,
        sanity=None,
        units=None,
        attribution=Attribution(freq=1, methods=("gradcam", "gradient_x_input")),
    )
    compiled(small_cnn()).fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    assert cb.failures == []
    assert read_records(f"{tmp_path}/netviz")["attribution/logits"] == [0, 1]
    info = steps_of(tmp_path, "attribution/logits")[-1]["info"]
    assert info["target_source"] == "label" and info["signed"]["gradient_x_input"]
    found = scalars(f"{tmp_path}/netviz")
    assert set(found["netviz/attribution/insertion/gradcam"]) == {0, 1}


def test_grad_cam_of_a_nested_backbone_is_logged(tmp_path):
    model, (x, _) = nested_cnn(), data(3)
    logger = AttributionLogger(model, x, methods=("gradcam",), metrics=(), sanity=())
    with logs.event_writer(tmp_path / "netviz"):
        assert logger.log(0)
    info = steps_of(tmp_path, "attribution/probs")[0]["info"]
    assert (
        info["cam_layer"] == "backbone/block1_conv2"
        and info["target_source"] == "predicted"
    )


def embedding_model():
    inp = keras.Input((16, 16, 3))
    h = keras.layers.Conv2D(4, 3)(inp)
    return keras.Model(inp, keras.layers.Conv2D(2, 1, name="emb")(h))


@pytest.mark.parametrize(
    ("make", "kwargs", "match"),
    [
        (embedding_model, {}, "class"),
        (small_cnn, {"methods": "grad_cam"}, "gradcam"),
        (small_cnn, {"metrics": "auc"}, "deletion"),
        (small_cnn, {"class_names": ["a", "b"]}, "4 classes"),
        (small_cnn, {"layer": "logits", "methods": "gradcam"}, "spatial"),
    ],
)
def test_bad_configuration_fails_before_the_first_batch(tmp_path, make, kwargs, match):
    x, y = data(8)
    model = compiled(make())
    cb = NetVizCallback(
        str(tmp_path), probe=x[:2], layers=None, attribution=Attribution(**kwargs)
    )
    batches = []
    track = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda *a: batches.append(a)
    )
    with pytest.raises(ValueError, match=match):
        model.fit(x, y if make is small_cnn else None, epochs=1, callbacks=[cb, track],
                  verbose=0)  # fmt: skip
    assert batches == []


def test_a_failure_at_run_time_warns_and_training_goes_on(tmp_path, monkeypatch):
    x, y = data(8)
    cb = NetVizCallback(
        str(tmp_path), probe=x[:2], layers=["conv2"], overhead_budget=None,
        ascent=None, deconv=None, sanity=None, attribution=Attribution(freq=1),
    )  # fmt: skip

    def broken(self, inputs, targets):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(Attributor, "__call__", broken)
    model = compiled(small_cnn())
    with pytest.warns(RuntimeWarning, match="could not log attribution"):
        history = model.fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    assert len(history.history["loss"]) == 2
    assert [(f.kind, f.step) for f in cb.failures] == [
        ("attribution", 0),
        ("attribution", 1),
    ]


def test_the_cli_logs_attribution_of_a_saved_model(tmp_path, capsys):
    path = tmp_path / "model.keras"
    small_cnn().save(path)
    np.save(tmp_path / "probe.npy", data(5)[0])
    cli.main([
        "log", str(path), "--probe", str(tmp_path / "probe.npy"),
        "--logdir", str(tmp_path / "logs"), "--attribution",
    ])  # fmt: skip
    found = read_records(tmp_path / "logs" / "netviz")
    assert found["attribution/logits"] == [0]
    info = steps_of(tmp_path / "logs", "attribution/logits")[0]["info"]
    assert info["methods"] == list(DEFAULT_METHODS)
