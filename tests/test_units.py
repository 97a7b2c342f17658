"""Unit health through the callback: dead flags equal a brute-force recomputation."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from logs import read_records
from plugin_client import PREFIX, make_client
from tensorboard.backend.event_processing import event_accumulator

from tb_netviz import NetVizCallback
from tb_netviz.demo import make_data, make_model
from tb_netviz.loggers import Exemplars
from tb_netviz.methods import layer_activations, unit_health
from tb_netviz.pictures import units as pictures

LAYERS = ["conv1", "conv2", "dense"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo's 1e-2 run, briefly: 2 epochs with examples and unit health."""
    log_dir = str(tmp_path_factory.mktemp("units") / "lr_0.01")
    x, y = make_data(1200)
    probe = make_data(8, 1)[0]
    held_out = make_data(600, 2)[0]
    model = make_model()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    cb = NetVizCallback(
        log_dir,
        probe,
        layers=LAYERS,
        overhead_budget=None,
        ascent=None,
        deconv=None,
        exemplars=Exemplars(held_out, freq=2, top_k=4),
        sanity=None,
    )
    model.fit(x, y, batch_size=32, epochs=2, callbacks=[cb], verbose=0)
    assert cb.failures == []
    return log_dir, model, probe, held_out


def _steps(log_dir, tag):
    client = make_client(log_dir)[0]
    query = {"run": "netviz", "tag": tag}
    return client.get(f"{PREFIX}/steps", query_string=query).json["steps"]


def test_records_of_every_step_and_source(demo_run):
    log_dir = demo_run[0]
    records = read_records(f"{log_dir}/netviz")
    for layer in LAYERS:
        assert records[f"units/{layer}"] == [0, 1]  # every activations step
        assert records[f"exemplars/{layer}"] == [1]  # Exemplars(freq=2)
    steps = _steps(log_dir, "units/conv2")
    assert [s["samples"] for s in steps] == [0, 0]  # step JSON only
    first, last = (s["info"] for s in steps)
    assert (first["source"], sorted(first["sources"])) == ("probe", ["probe"])
    assert (last["source"], sorted(last["sources"])) == (
        "examples",
        ["examples", "probe"],
    )
    ex = last["sources"]["examples"]
    assert (ex["count"], ex["positions"], last["channels_total"]) == (600, 256, 32)
    assert {len(ex[k]) for k in ("max", "min", "mean", "frac_positive")} == {32}


def test_dead_flags_equal_a_brute_force_recomputation(demo_run):
    log_dir, model, probe, held_out = demo_run
    for source, inputs in (("probe", probe), ("examples", held_out)):
        acts = layer_activations(model, inputs, LAYERS)
        for layer in LAYERS:
            info = _steps(log_dir, f"units/{layer}")[-1]["info"]
            got = info["sources"][source]
            flat = acts[layer].reshape(-1, acts[layer].shape[-1])
            dead = np.flatnonzero(~(flat > 0).any(axis=0)).tolist()
            assert got["dead"] == dead, (source, layer)
            constant = np.flatnonzero(flat.max(0) == flat.min(0)).tolist()
            assert got["constant"] == constant
            np.testing.assert_allclose(got["max"], flat.max(0), rtol=1e-5)
            np.testing.assert_allclose(got["mean"], flat.mean(0), rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(
                got["frac_positive"], (flat > 0).mean(0), atol=1e-9
            )
            assert got["dead_fraction"] == len(dead) / flat.shape[1]
    # The 1e-2 run loses ReLUs, and the examples see it.
    info = _steps(log_dir, "units/dense")[-1]["info"]
    assert info["sources"]["examples"]["dead_fraction"] > 0.2


def test_dead_fraction_scalars_sit_in_the_netviz_run(demo_run):
    log_dir = demo_run[0]
    acc = event_accumulator.EventAccumulator(
        f"{log_dir}/netviz", size_guidance={event_accumulator.TENSORS: 0}
    )
    acc.Reload()
    for layer in LAYERS:
        infos = [s["info"] for s in _steps(log_dir, f"units/{layer}")]
        for prefix, source, steps in (
            ("netviz/dead_fraction", "probe", [0, 1]),
            ("netviz/dead_fraction_examples", "examples", [1]),
        ):
            events = acc.Tensors(f"{prefix}/{layer}")
            assert acc.SummaryMetadata(f"{prefix}/{layer}").plugin_data.plugin_name == (
                "scalars"
            )
            assert [e.step for e in events] == steps
            want = infos[-1]["sources"][source]["dead_fraction"]
            got = float(
                np.frombuffer(events[-1].tensor_proto.tensor_content, "<f4")[0]
                if events[-1].tensor_proto.tensor_content
                else events[-1].tensor_proto.float_val[0]
            )
            assert got == pytest.approx(want)


def test_unit_health_on_a_dataset_and_in_pictures():
    model = make_model()
    x = make_data(50, 3)[0]
    import tensorflow as tf

    a = unit_health(model, ["conv2"], x, batch_size=16)["conv2"]
    b = unit_health(model, ["conv2"], tf.data.Dataset.from_tensor_slices(x))["conv2"]
    np.testing.assert_allclose(a.max, b.max)
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-5)
    assert (a.count, a.positions) == (50, 256)
    info, images = pictures.record(
        {"probe": pictures.source(2, 1, [0.0, 1.0], [0.0, 1.0], [0, 1], [0, 1])}, 2
    )
    assert images == [] and info["source"] == "probe"
    assert info["sources"]["probe"]["dead"] == [0]
    assert info["sources"]["probe"]["constant"] == [0, 1]


def test_unit_health_on_by_default_and_off_on_request(tmp_path):
    x, y = make_data(64)
    model = make_model()
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(True)
    )
    cb = NetVizCallback(
        str(tmp_path / "a"),
        x[:2],
        layers=["conv1"],
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    model.fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    assert not any(t.startswith("units/") for t in read_records(f"{tmp_path}/a/netviz"))
    cb = NetVizCallback(
        str(tmp_path / "b"),
        x[:2],
        layers=["conv1"],
        ascent=None,
        deconv=None,
        sanity=None,
    )
    model.fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    records = read_records(f"{tmp_path}/b/netviz")
    assert records["units/conv1"] == [0] and "exemplars/conv1" not in records
    with pytest.raises(ValueError, match="top_k must be an integer >= 1"):
        cb = NetVizCallback(
            str(tmp_path),
            x[:2],
            ascent=None,
            deconv=None,
            exemplars=Exemplars(x, freq=1, top_k=0),
            sanity=None,
        )
        model.fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    with pytest.raises(ValueError, match="examples have shape"):
        cb = NetVizCallback(
            str(tmp_path / "c"),
            x[:2],
            ascent=None,
            deconv=None,
            exemplars=Exemplars(x[:, :8], freq=1),
            sanity=None,
        )
        model.fit(x, y, epochs=1, callbacks=[cb], verbose=0)
