"""The "bounded" recipe's pieces: the data ball, the leaky redirected ReLU, the
best of several starts (`param.py`, `targets.py`, `result.py`)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from models import small_cnn

from tb_netviz.methods.ascent import FeatureVisualizer, param, presets, targets
from tb_netviz.methods.ascent.result import best_starts


def test_data_ball_is_the_mean_colour_and_a_percentile_of_contrasts():
    x = np.zeros((4, 2, 2, 3))
    x[:, 0, 0] = [[0.0], [0.2], [0.4], [0.8]]  # one bright pixel per image
    mean, radius = param.data_ball(x, 3, 100.0)
    np.testing.assert_allclose(mean, x.mean(axis=(0, 1, 2)), atol=1e-7)
    rms = np.sqrt(((x - x.mean(axis=(0, 1, 2))) ** 2).mean(axis=(1, 2, 3)))
    assert radius == pytest.approx(rms.max())
    assert param.data_ball(x, 3, 50.0)[1] == pytest.approx(np.percentile(rms, 50))
    mean, radius = param.data_ball(None, 1, 95.0)
    assert mean.tolist() == [0.5] and radius == param.DEFAULT_RADIUS
    with pytest.raises(ValueError, match=r"\(N, H, W, 1\)"):
        param.data_ball(x, 1, 95.0)


def test_pixel_projection_lands_in_the_box_and_the_ball():
    mean = np.array([0.1, 0.5, 0.9], np.float32)
    pix = param.Pixel(8, 8, 3, 0.1, mean, radius=0.2)
    wild = tf.random.stateless_normal((5, 8, 8, 3), seed=(1, 2)) * 3.0
    out = pix.project(wild).numpy()
    assert out.min() >= 0.0 and out.max() <= 1.0
    rms = np.sqrt(((out - mean) ** 2).mean(axis=(1, 2, 3)))
    assert (rms <= 0.2 + 1e-6).all() and rms.max() > 0.19  # on the ball's edge
    inside = mean + 0.01 * np.ones((1, 8, 8, 3), np.float32)
    np.testing.assert_allclose(pix.project(inside).numpy(), inside, atol=1e-7)


def test_leaky_redirected_relu_passes_a_share_of_the_raising_gradient():
    z = tf.constant([[-1.0, -1.0, 2.0, 3.0]])
    dy = tf.constant([[1.0, -1.0, 1.0, -1.0]])
    for leak, want in ((0.2, [0.2, 0.0, 1.0, -1.0]), (0.0, [0.0, 0.0, 1.0, -1.0])):
        with tf.GradientTape() as tape:
            tape.watch(z)
            y = targets.redirected_relu(z, leak)
        np.testing.assert_allclose(y.numpy(), [[0.0, 0.0, 2.0, 3.0]])
        np.testing.assert_allclose(tape.gradient(y, z, dy).numpy(), [want], atol=1e-7)
    # leak 0, dead everywhere: Lucid's redirect passes the raising part.
    z = tf.constant([[-1.0, -2.0]])
    with tf.GradientTape() as tape:
        tape.watch(z)
        y = targets.redirected_relu(z, 0.0)
    grad = tape.gradient(y, z, tf.constant([[1.0, -1.0]]))
    np.testing.assert_allclose(grad.numpy(), [[1.0, 0.0]])


def test_best_starts_keeps_each_channels_best_start_with_its_facets():
    # 2 channels x 3 starts x 2 facets; channel 0's start 2, channel 1's start 0.
    objective = np.array([1, 1, 2, 2, 5, 5, 9, 9, 1, 1, 3, 3], np.float32)
    nonfinite = np.zeros(12, bool)
    assert best_starts(objective, nonfinite, 2, 3, 2).tolist() == [4, 5, 6, 7]
    nonfinite[6] = True  # a non-finite start loses to any finite one
    assert best_starts(objective, nonfinite, 2, 3, 2).tolist() == [4, 5, 10, 11]


def test_two_starts_keep_the_better_image_of_each_channel():
    model = small_cnn()
    one = FeatureVisualizer(model, "conv2", preset="bounded", verbose=False)
    two = FeatureVisualizer(model, "conv2", preset="bounded", starts=2, verbose=False)
    # One start by default: one image per channel and step, the floor's work.
    assert one.settings.starts == 1 and one.settings.ball == 95.0
    a, b = one(range(6), steps=20), two(range(6), steps=20)
    assert a.images.shape == b.images.shape == (6, 16, 16, 3)
    # Start 0 of two is the one-start run (same keyed draws), so two is never worse.
    assert (b.objective >= a.objective - 1e-6).all()
    assert (b.objective > a.objective + 1e-6).any()


def test_bounded_is_what_auto_picks_below_64_px_and_bounds_contrast():
    assert presets.choose("auto", 32, 32) == "bounded"
    x = np.random.default_rng(0).uniform(0.4, 0.6, (16, 16, 16, 3)).astype(np.float32)
    vis = FeatureVisualizer(small_cnn(), "conv2", examples=x, verbose=False)
    result = vis(range(4), steps=30)
    mean, radius = param.data_ball(x, 3, 95.0)
    rms = np.sqrt(((result.images - mean) ** 2).mean(axis=(1, 2, 3)))
    assert vis.preset == "bounded" and (rms <= radius + 1e-5).all()
