"""Top-k exemplars equal a brute-force NumPy ranking over all examples."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from exemplar_models import LAYERS, examples, rf_model
from models import assert_model_unchanged, snapshot

from tb_netviz.methods import ExamplesPass, layer_activations, top_examples


@pytest.fixture(scope="module")
def trained() -> keras.Model:
    model = rf_model()
    x = examples(256, seed=2)
    y = (x.mean(axis=(1, 2, 3)) * 50).astype(np.int32) % 5
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    return model


def brute_force(model, layer, x, k):
    acts = layer_activations(model, x, [layer])[layer]
    flat = acts.reshape(len(x), -1, acts.shape[-1])
    maxima = flat.max(axis=1)  # (N, C)
    order = [
        np.lexsort((np.arange(len(x)), -maxima[:, c]))[:k]
        for c in range(maxima.shape[1])
    ]
    indices = np.stack(order)
    return indices, np.take_along_axis(maxima.T, indices, axis=1), acts


@pytest.mark.parametrize("layer", LAYERS)
def test_top_k_equals_a_brute_force_ranking(trained, layer):
    x = examples()
    pass_ = ExamplesPass(trained, [layer], k=9, batch_size=64)
    found = pass_(x)[layer]
    indices, maxima, acts = brute_force(trained, layer, x, 9)
    np.testing.assert_array_equal(found.indices, indices)
    np.testing.assert_allclose(found.activations, maxima, rtol=1e-5, atol=1e-6)
    # The position holds the maximum; the box is inside the input.
    spatial = acts.shape[1:-1]
    assert found.positions.shape == (acts.shape[-1], 9, len(spatial))
    for c in range(acts.shape[-1]):
        for j in range(9):
            at = acts[(found.indices[c, j], *found.positions[c, j], c)]
            np.testing.assert_allclose(at, found.activations[c, j], rtol=1e-5)
    boxes = found.boxes
    assert boxes.shape == (acts.shape[-1], 9, 4)
    assert (boxes[..., :2] >= 0).all() and (boxes[..., 2:] <= 24).all()
    assert (boxes[..., 2:] > boxes[..., :2]).all()
    if layer == "dense":  # beyond a global pooling: the whole input
        assert (boxes == [0, 0, 24, 24]).all() and not found.field.exact


def test_ties_keep_the_lower_index(trained):
    x = np.repeat(examples(3), 5, axis=0)  # every input five times
    found = ExamplesPass(trained, ["conv"], k=4, batch_size=4)(x)["conv"]
    # Equal maxima: consecutive copies, in order of index.
    assert (np.diff(found.indices, axis=1) > 0).all()
    indices, _, _ = brute_force(trained, "conv", x, 4)
    np.testing.assert_array_equal(found.indices, indices)


def test_dataset_in_batches_gives_the_same_answer(trained):
    x = examples(300)
    want = top_examples(trained, "strided", x, channels=[1, 5], k=5)
    pairs = tf.data.Dataset.from_tensor_slices((x, np.zeros(len(x))))
    for data in (pairs, pairs.batch(37), tf.data.Dataset.from_tensor_slices(x)):
        got = top_examples(trained, "strided", data, channels=[1, 5], k=5)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    assert want[0].shape == (2, 5)


def test_fewer_examples_than_k_and_dense_positions(trained):
    x = examples(4)
    indices, acts, positions, boxes = top_examples(trained, "dense", x, k=9)
    assert indices.shape == acts.shape == (5, 4)
    assert positions.shape == (5, 4, 0) and boxes.shape == (5, 4, 4)
    assert sorted(indices[0]) == [0, 1, 2, 3]


def test_model_is_unchanged_and_errors_name_the_problem(trained):
    before = snapshot(trained)
    top_examples(trained, "inner/last", examples(20), k=3)
    assert_model_unchanged(trained, before)
    with pytest.raises(ValueError, match="no layer 'conv9'"):
        top_examples(trained, "conv9", examples(2))
    with pytest.raises(ValueError, match=r"channels \[6\] out of range"):
        top_examples(trained, "conv", examples(2), channels=[6])
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        top_examples(trained, "conv", examples(2), k=0)
