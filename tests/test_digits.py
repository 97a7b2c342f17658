"""The digits fixture and the CNN other tests train on it."""

import numpy as np
from digits import FIXTURE, TRAIN, digits, digits_cnn


def test_fixture_holds_load_digits():
    with np.load(FIXTURE) as f:
        x, y = f["x"], f["y"]
    assert x.dtype == y.dtype == np.uint8
    assert x.shape == (1797, 8, 8) and y.shape == (1797,)
    assert x.min() == 0 and x.max() == 16
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits_are_upsampled_into_unit_range():
    x8, y8 = digits(8)
    x, y = digits(28)
    assert x.shape == (1797, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(y, y8)
    # bilinear: the mean ink and the 8x8 picture survive the upsampling
    np.testing.assert_allclose(
        x.mean(axis=(1, 2, 3)), x8.mean(axis=(1, 2, 3)), atol=0.03
    )
    assert not x.flags.writeable


def test_digits_cnn_learns():
    model = digits_cnn(epochs=3)
    assert [layer.name for layer in model.layers][:2] == ["conv1", "pool1"]
    x, y = digits()
    _, accuracy = model.evaluate(x[TRAIN:], y[TRAIN:], verbose=0)
    assert accuracy > 0.75
