"""Ascent and deconvolution scheduled by the callback, read back exactly."""

from __future__ import annotations

import numpy as np
import pytest
from logs import read_records
from models import compiled, data, small_cnn
from plugin_client import PREFIX, make_client

from tb_netviz import NetVizCallback
from tb_netviz.loggers import (
    Accentuation,
    Activations,
    Ascent,
    Deconv,
    Exemplars,
    Sanity,
)


def test_every_kind_on_its_own_frequency(tmp_path):
    x, y = data()
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:3],
        layers=["conv1", "conv2"],
        activations=Activations(freq=2),
        ascent=Ascent(freq=1, layers=["conv2"], channels=[1, 3, 5], steps=8),
        deconv=Deconv(freq=2, layers=["conv1"], top_k=2),
        units=None,
        sanity=Sanity(layers=["conv1"]),
        overhead_budget=None,  # the schedule alone (test_budget has the budget)
    )
    compiled(small_cnn()).fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    assert cb.failures == []
    assert cb.input_range == (0.0, 1.0)
    assert read_records(f"{tmp_path}/netviz") == {
        "activations/conv1": [1],
        "activations/conv2": [1],
        "ascent/conv2": [0, 1],
        "deconvnet/conv1": [1],
        "guided_backprop/conv1": [1],
        "model/graph": [0],
        "probe/input": [0],
        "sanity/conv1": [0, 1],  # on by default: the first and the last epoch
    }
    client = make_client(str(tmp_path))[0]
    steps = client.get(
        f"{PREFIX}/steps", query_string={"run": "netviz", "tag": "ascent/conv2"}
    ).json["steps"]
    info = steps[1]["info"]
    assert info["channels"] == [1, 3, 5]
    assert info["seed"] == 0 and info["preset"] == "bounded"  # auto, 16 px
    assert info["steps_done"] == 8 and info["budget_exhausted"] is False
    assert len(info["objective"]) == 3
    assert info["layout"]["rows"] * info["layout"]["cols"] >= 3
    (step,) = client.get(
        f"{PREFIX}/steps",
        query_string={"run": "netviz", "tag": "guided_backprop/conv1"},
    ).json["steps"]
    info = step["info"]
    assert step["samples"] == 3
    assert np.array(info["channels"]).shape == (3, 2)
    assert info["layout"]["cols"] == 3  # the input, then two reconstructions
    assert len(info["scale"]) == 3


def test_default_ascent_channels_are_the_first_n_at_every_step(tmp_path):
    x, y = data()
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:2],
        layers=["conv1"],
        overhead_budget=None,
        ascent=Ascent(freq=1, channels=3, steps=2),
        deconv=None,
        units=None,
        sanity=None,
    )
    compiled(small_cnn()).fit(x, y, epochs=3, callbacks=[cb], verbose=0)
    client = make_client(str(tmp_path))[0]
    steps = client.get(
        f"{PREFIX}/steps", query_string={"run": "netviz", "tag": "ascent/conv1"}
    ).json["steps"]
    assert [s["info"]["channels"] for s in steps] == [[0, 1, 2]] * 3


def test_budget_writes_what_it_has_and_warns(tmp_path):
    x, y = data()
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:2],
        layers=["conv1"],
        ascent=Ascent(freq=1, steps=100000, budget_s=2.0),
        deconv=None,
        units=None,
        sanity=None,
    )
    with pytest.warns(
        RuntimeWarning, match="the ascent budget_s ran out at layer 'conv1'"
    ):
        compiled(small_cnn()).fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    client = make_client(str(tmp_path))[0]
    (step,) = client.get(
        f"{PREFIX}/steps", query_string={"run": "netviz", "tag": "ascent/conv1"}
    ).json["steps"]
    assert step["info"]["budget_exhausted"] is True
    assert 0 < step["info"]["steps_done"] < 100000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"ascent": Ascent(channels=[0, 8])},
            r"channels \[8\] out of range: layer 'conv1' has 8 channels",
        ),
        (
            {"deconv": Deconv(channels=[9])},
            r"channels \[9\] out of range: layer 'conv1' has 8 channels",
        ),
        ({"ascent": Ascent(layers=["conv9"])}, "no layer 'conv9'"),
        ({"deconv": Deconv(layers=["logits"])}, "no spatial structure"),
        ({"sanity": Sanity(top_k=0)}, "top_k must be an integer >= 1"),
    ],
)
def test_kind_configuration_errors(tmp_path, kwargs, message):
    x, y = data()
    model = compiled(small_cnn())
    with pytest.raises(ValueError, match=message):
        cb = NetVizCallback(str(tmp_path), probe=x[:2], layers=["conv1"], **kwargs)
        model.fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    assert model.optimizer.iterations.numpy() == 0  # before the first batch


def test_runtime_failure_in_ascent_does_not_stop_training(tmp_path, monkeypatch):
    from tb_netviz.pictures import ascent

    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(ascent, "record", broken)
    x, y = data()
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:2],
        layers=["conv1"],
        ascent=Ascent(freq=1, steps=2),
        deconv=None,
        units=None,
        sanity=None,
    )
    with pytest.warns(RuntimeWarning, match="could not log ascent of layer 'conv1'"):
        history = compiled(small_cnn()).fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    assert len(history.history["loss"]) == 2
    assert [f[:3] for f in cb.failures] == [
        (0, "ascent", "conv1"),
        (1, "ascent", "conv1"),
    ]
    assert read_records(f"{tmp_path}/netviz") == {
        "activations/conv1": [0, 1],
        "model/graph": [0],
        "probe/input": [0],
    }


def test_feature_visualizations_are_checked_against_exemplars_and_a_second_seed(
    tmp_path,
):
    x, y = data(96)
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:4],
        layers=["conv2"],
        overhead_budget=None,
        ascent=Ascent(freq=1, channels=[0, 3], steps=6, seeds=2),
        deconv=None,
        exemplars=Exemplars(x[32:], freq=1, top_k=3),
        sanity=None,
    )
    compiled(small_cnn()).fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    assert cb.failures == []
    client = make_client(str(tmp_path))[0]
    query = {"run": "netviz", "tag": "ascent/conv2"}
    steps = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    for step in steps:  # exemplars run first, so every step has them
        checks = step["info"]["checks"]
        for key in (
            "objective",
            "exemplar_objective",
            "seed_ssim",
            "processing_similarity",
        ):
            assert len(checks[key]) == 2, (key, checks)
        assert all(v is not None and -1 <= v <= 1 for v in checks["seed_ssim"])
        assert all(isinstance(v, bool) for v in checks["beats_exemplar"])
        assert checks["path_layers"][-1] == "conv2"


def test_accentuations_ride_on_the_deconvolutions(tmp_path):
    x, y = data()
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:2],
        layers=["conv2"],
        overhead_budget=None,
        activations=Activations(freq=2),
        ascent=None,
        deconv=Deconv(freq=2, top_k=2, methods="guided_backprop"),
        accentuation=Accentuation(freq=2, top_k=2),
        units=None,
        sanity=None,
    )
    compiled(small_cnn()).fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    assert cb.failures == []
    assert read_records(f"{tmp_path}/netviz") == {
        "accentuation/conv2": [1],
        "activations/conv2": [1],
        "guided_backprop/conv2": [1],
        "model/graph": [1],  # with the first step that logs anything
        "probe/input": [1],
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["netviz"]
