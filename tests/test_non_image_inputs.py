"""Inputs that are not images: sequences are drawn, token ids are refused early."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from logs import read_records
from plugin_client import PREFIX, make_client

from tb_netviz import NetVizCallback
from tb_netviz.loggers import Ascent, Deconv, Sanity


def _sequence_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inp = keras.Input((40, 3))
    h = keras.layers.Conv1D(8, 5, activation="relu", name="conv")(inp)
    h = keras.layers.LSTM(6, name="lstm")(h)
    model = keras.Model(inp, keras.layers.Dense(2, name="out")(h))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _token_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    tokens = keras.Input((10,), dtype="int32", name="tokens")
    e = keras.layers.Embedding(50, 8, name="emb")(tokens)
    a = keras.layers.MultiHeadAttention(2, 4, name="att")(e, e)
    out = keras.layers.Dense(2, name="out")(keras.layers.GlobalAveragePooling1D()(a))
    model = keras.Model(tokens, out)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_conv1d_lstm_deconvolution_is_drawn_time_by_channel(tmp_path):
    x = np.random.default_rng(0).normal(size=(64, 40, 3)).astype("float32")
    y = (x.mean((1, 2)) > 0).astype("int32")
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:4],
        layers=["conv"],
        ascent=None,
        deconv=Deconv(freq=1, top_k=2),
        units=None,
        sanity=Sanity(),
    )
    _sequence_model().fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    assert cb.failures == []
    records = read_records(f"{tmp_path}/netviz")
    assert records["deconvnet/conv"] == records["guided_backprop/conv"] == [0, 1]
    client = make_client(str(tmp_path))[0]
    query = {"run": "netviz", "tag": "deconvnet/conv"}
    step = client.get(f"{PREFIX}/steps", query_string=query).json["steps"][-1]
    assert step["info"]["drawn_as"] == "sequence"
    layout = step["info"]["layout"]
    assert (layout["tile_height"], layout["tile_width"], layout["cols"]) == (40, 3, 3)
    png = client.get(f"{PREFIX}/image", query_string={**query, "step": 1, "sample": 3})
    assert tf.io.decode_png(png.data).shape[:2] == (40, 3 * 3 + 2 * 2)


@pytest.mark.parametrize(
    ("kwargs", "method"),
    [
        ({"deconv": Deconv(), "ascent": None}, "deconvolution"),
        ({"ascent": Ascent(), "deconv": None}, "feature visualization"),
    ],
)
def test_token_ids_are_refused_before_the_first_batch(tmp_path, kwargs, method):
    xi = np.random.default_rng(0).integers(0, 50, (32, 10)).astype("int32")
    cb = NetVizCallback(str(tmp_path), probe=xi[:4], layers=["att"], **kwargs)
    model = _token_model()
    with pytest.raises(
        ValueError, match=f"{method} needs a gradient.*'tokens' is int32"
    ):
        model.fit(xi, xi[:, 0] % 2, epochs=1, callbacks=[cb], verbose=0)
    assert model.optimizer.iterations.numpy() == 0  # not one batch ran
    # What works instead: activations of the same layers.
    ok = NetVizCallback(
        str(tmp_path / "ok"),
        probe=xi[:4],
        layers=["emb", "att"],
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    model.fit(xi, xi[:, 0] % 2, epochs=1, callbacks=[ok], verbose=0)
    assert ok.failures == []
    assert sorted(read_records(f"{tmp_path}/ok/netviz")) == [
        "activations/att",
        "activations/emb",
        "model/graph",
        "probe/input",
    ]
