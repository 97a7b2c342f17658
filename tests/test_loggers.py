"""Loggers in a custom training loop: built once, `log(step)` inside a writer."""

from __future__ import annotations

import keras
import logs
import numpy as np
import pytest
import tensorflow as tf
from logs import read_records
from models import data, small_cnn
from plugin_client import PREFIX, make_client

from tb_netviz.loggers import (
    AccentuationLogger,
    ActivationsLogger,
    AscentLogger,
    DeconvLogger,
    ProbeLogger,
)


def test_a_custom_loop_logs_every_kind(tmp_path):
    model, (x, _) = small_cnn(), data(3)
    loggers = [
        ProbeLogger(model, x),
        ActivationsLogger(model, x, ["conv1", "logits"]),
        AscentLogger(model, ["conv2"], channels=[0, 2], steps=3),
        DeconvLogger(model, x, ["conv1"], top_k=2, methods="guided_backprop"),
    ]
    with logs.event_writer(tmp_path / "run" / "netviz"):
        for step in (0, 5):
            assert all(lg.log(step) for lg in loggers)
    assert read_records(f"{tmp_path}/run/netviz") == {
        "probe/input": [0, 5],
        "activations/conv1": [0, 5],
        "activations/logits": [0, 5],
        "ascent/conv2": [0, 5],
        "guided_backprop/conv1": [0, 5],
    }
    assert all(lg.failures == [] and lg.seconds > 0 for lg in loggers)


def test_activation_histograms_count_every_value_of_the_probe(tmp_path):
    """The histogram beside the grid: every activation of the probe, from the
    layer's minimum to its maximum, where TensorBoard's Histograms tab reads."""
    import glob

    from tb_netviz import metadata
    from tb_netviz.methods import layer_activations

    model, (x, _) = small_cnn(), data(3)
    with logs.event_writer(tmp_path / "run" / "netviz"):
        assert ActivationsLogger(model, x, ["conv1"]).log(2)
    acts = layer_activations(model, x, ["conv1"])["conv1"]
    found = {}
    for path in glob.glob(f"{tmp_path}/run/netviz/events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                found[(value.tag, event.step)] = value
    value = found[(metadata.histogram_tag("conv1"), 2)]
    assert value.metadata.plugin_data.plugin_name == "histograms"
    buckets = tf.make_ndarray(value.tensor)
    assert buckets.shape == (30, 3) and buckets[:, 2].sum() == acts.size
    np.testing.assert_allclose(
        [buckets[0, 0], buckets[-1, 1]], [acts.min(), acts.max()], rtol=1e-6
    )


def test_list_valued_overrides_are_fine(tmp_path, capsys):
    logger = AscentLogger(
        small_cnn(), ["conv2"], channels=2, steps=2, scales=[1.0, 1.1], angles=[0, 5]
    )
    assert "ascent preset 'auto' chose bounded for 16x16x3" in capsys.readouterr().out
    with logs.event_writer(tmp_path / "r"):
        assert logger.log(0)
    client = make_client(str(tmp_path))[0]
    query = {"run": "r", "tag": "ascent/conv2"}
    (step,) = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    assert step["info"]["settings"]["scales"] == [1.0, 1.1]
    assert step["info"]["channels"] == [0, 1] and step["info"]["preset"] == "bounded"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda m, x: AscentLogger(m, ["conv2"], jiter=3), "unknown setting.*jiter"),
        (lambda m, x: AscentLogger(m, ["conv2"], preset="lucky"), "unknown preset"),
        (
            lambda m, x: AscentLogger(m, ["conv2"], channels=[16]),
            r"channels \[16\] out of range: layer 'conv2' has 16 channels",
        ),
        (
            lambda m, x: DeconvLogger(m, x, ["conv1"], channels=[8]),
            r"channels \[8\] out of range: layer 'conv1' has 8 channels",
        ),
        (lambda m, x: ActivationsLogger(m, x, ["conv9"]), "Closest: conv2, conv1"),
        (
            lambda m, x: ActivationsLogger(m, x[:, :8], ["conv1"]),
            "expects inputs of shape",
        ),
        (lambda m, x: ActivationsLogger(m, x, []), "name at least one layer"),
        (lambda m, x: DeconvLogger(m, x, ["logits"]), "no spatial structure"),
        (
            lambda m, x: AccentuationLogger(m, x, ["conv2"], input_range=(0.0, 0.5)),
            r"outside input_range \(0.0, 0.5\)",
        ),
    ],
)
def test_configuration_errors_at_construction(build, message):
    with pytest.raises(ValueError, match=message):
        build(small_cnn(), data(2)[0])


def test_without_a_default_writer_log_returns_false():
    logger = ActivationsLogger(small_cnn(), data(2)[0], ["conv1"])
    assert logger.log(0) is False
    assert logger.failures == []


def test_sequence_and_multi_input_probes_are_drawn(tmp_path):
    a, b = keras.Input((20, 3)), keras.Input((5,))
    h = keras.layers.Conv1D(4, 3, activation="relu", name="conv")(a)
    out = keras.layers.Dense(2)(
        keras.layers.Concatenate()([keras.layers.Flatten()(h), b])
    )
    model = keras.Model([a, b], out)
    rng = np.random.default_rng(0)
    probe = [rng.normal(size=(2, 20, 3)), rng.normal(size=(2, 5))]
    with logs.event_writer(tmp_path / "r"):
        assert ProbeLogger(model, probe).log(0)
        assert ActivationsLogger(model, probe, ["conv"]).log(0)
    client = make_client(str(tmp_path))[0]
    for tag, drawn in (("probe/input_0", (20, 3)), ("probe/input_1", (1, 5))):
        query = {"run": "r", "tag": tag}
        (step,) = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
        assert step["info"]["drawn_as"] == "sequence" and step["samples"] == 2
        png = client.get(
            f"{PREFIX}/image", query_string={**query, "step": 0, "sample": 1}
        )
        assert tf.io.decode_png(png.data).shape[:2] == drawn


def test_accentuations_beside_the_reconstructions(tmp_path):
    model, (x, _) = small_cnn(), data(3)
    deconv = DeconvLogger(model, x, ["conv2"], top_k=2, methods="deconvnet")
    accentuation = AccentuationLogger(model, x, ["conv2"], top_k=2)
    with logs.event_writer(tmp_path / "r"):
        assert deconv.log(4) and accentuation.log(4)
    assert read_records(str(tmp_path / "r")) == {
        "deconvnet/conv2": [4],
        "accentuation/conv2": [4],
    }
    client = make_client(str(tmp_path))[0]

    def step(kind):
        query = {"run": "r", "tag": f"{kind}/conv2"}
        return client.get(f"{PREFIX}/steps", query_string=query).json["steps"][0]

    deconv, accent = step("deconvnet"), step("accentuation")
    info = accent["info"]
    assert accent["samples"] == 3 and info["channels"] == deconv["info"]["channels"]
    assert info["layout"]["cols"] == 3  # the input, then two accentuations
    assert np.array(info["distance"]).shape == (3, 2)
    rose = np.array(info["objective_end"]) > np.array(info["objective_start"])
    assert rose.all() and not np.array(info["flags"]["dead"]).any()
    assert info["settings"]["reg_layer"] == "conv1" and info["seconds"] > 0
    png = client.get(
        f"{PREFIX}/image",
        query_string={"run": "r", "tag": "accentuation/conv2", "step": 4, "sample": 2},
    )
    assert tf.io.decode_png(png.data).shape == (16, 3 * 16 + 2 * 2, 3)
    sequences = keras.Sequential([keras.Input((12, 3)), keras.layers.Conv1D(2, 3)])
    with pytest.raises(ValueError, match="one image input"):
        AccentuationLogger(sequences, np.zeros((2, 12, 3)), ["conv1d"])
