"""Feature visualization by gradient ascent: properties on tiny models.

Few steps and 16x16 images keep the file fast; the acceptance property is
checked on a small CNN trained for a few seconds on generated patterns.
"""

from __future__ import annotations

import json
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from models import assert_model_unchanged, nested_cnn, small_cnn, snapshot

from tb_netviz.methods import (
    feature_visualization,
    feature_visualization_result,
    layer_activations,
)
from tb_netviz.methods.ascent import FeatureVisualizer, objectives, presets, transforms

PRESETS = sorted(presets.PRESETS)


@pytest.fixture(scope="module")
def cnn() -> keras.Model:
    return small_cnn()


@pytest.mark.parametrize("param", ["fourier", "pixel"])
@pytest.mark.parametrize("preset", PRESETS)
def test_objective_rises_for_every_preset_and_parameterization(cnn, preset, param):
    vis = FeatureVisualizer(cnn, "conv2", preset=preset, param=param)
    start = vis([0, 5, 13], steps=0)  # channels active on the first image
    after = vis([0, 5, 13], steps=8)
    assert after.steps_done == 8 and not after.nonfinite.any()
    assert (after.objective > start.objective).all(), (start.objective, after.objective)


@pytest.mark.parametrize(
    "input_range, channels", [((0.0, 1.0), 3), ((-1.0, 1.0), 1), ((0.0, 255.0), 4)]
)
def test_shapes_dtype_and_value_range(input_range, channels):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((12, 10, channels)),
            keras.layers.Conv2D(5, 3, activation="relu", name="conv"),
        ]
    )
    lo, hi = input_range
    for param in ("fourier", "pixel"):
        images = feature_visualization(
            model, "conv", [4, 0], steps=3, input_range=input_range, param=param
        )
        assert images.shape == (2, 12, 10, channels) and images.dtype == np.float32
        assert images.min() >= lo and images.max() <= hi


def test_redirected_relu_revives_a_channel_dead_on_the_first_image(cnn):
    dead = [9, 15]  # zero everywhere on the initial images
    for redirect in (False, True):
        vis = FeatureVisualizer(cnn, "conv2", param="pixel", redirect_relu=redirect)
        assert (vis(dead, steps=0).objective == 0).all()
        after = vis(dead, steps=24).objective
        assert (after > 0).all() if redirect else (after == 0).all()


def test_same_seed_same_images_other_seed_other_images(cnn):
    vis = FeatureVisualizer(cnn, "conv2")
    a, b = vis([1, 2], steps=5, seed=3), vis([1, 2], steps=5, seed=3)
    np.testing.assert_array_equal(a.images, b.images)
    c = vis([1, 2], steps=5, seed=4)
    assert np.abs(a.images - c.images).max() > 1e-2
    # A channel's image does not depend on the other channels in the batch.
    alone = vis([2], steps=5, seed=3)
    np.testing.assert_allclose(alone.images[0], a.images[1], atol=1e-4)


def test_sequential_functional_and_nested_models_are_left_unchanged():
    for model, layer, channels in [
        (small_cnn(), "conv1", [2, 7]),  # channels active on the first image
        (nested_cnn(), "backbone/block1_conv1", [1, 5]),
        (nested_cnn(), "probs", [0, 2]),  # pre-softmax logits, via a twin
        (nested_cnn(), "scale", [0, 2]),  # a functional model's own layer
    ]:
        before = snapshot(model)
        vis = FeatureVisualizer(model, layer, param="pixel")
        start, after = vis(channels, steps=0), vis(channels, steps=6)
        assert (after.objective > start.objective).all(), layer
        assert_model_unchanged(model, before)
    assert model.predict(after.images, verbose=0).shape == (2, 3)


def test_computing_only_the_visualized_channels_changes_nothing(cnn):
    for objective in ("channel", "neuron", "logit"):
        runs = [
            FeatureVisualizer(
                cnn, "conv2", objective=objective, param="pixel", slice_channels=s
            )
            for s in (True, False)
        ]
        assert [r._target.sliced for r in runs] == [True, False]
        fast, full = (r([3, 3, 7], steps=4) for r in runs)
        np.testing.assert_allclose(fast.images, full.images, atol=1e-5)
        np.testing.assert_allclose(fast.objective, full.objective, rtol=1e-5)


def test_softmax_layer_objective_is_the_pre_softmax_logit():
    model = nested_cnn()
    result = feature_visualization_result(model, "probs", [0, 2], steps=4)
    assert result.settings["objective"] == "logit"
    flat = keras.Model(model.inputs, model.get_layer("flat").output)
    kernel, bias = model.get_layer("probs").get_weights()
    logits = flat.predict(result.images, verbose=0) @ kernel + bias
    np.testing.assert_allclose(result.objective, logits[[0, 1], [0, 2]], rtol=1e-4)
    # A later training step changes the weights; the same visualizer follows.
    vis = FeatureVisualizer(model, "probs")
    model.get_layer("probs").set_weights([kernel, bias + 1.0])
    again = vis([0, 2], steps=4)
    np.testing.assert_allclose(again.objective, result.objective + 1.0, rtol=1e-4)


def test_unit_neuron_custom_and_composed_objectives(cnn):
    assert FeatureVisualizer(cnn, "logits").objective.name == "unit"
    centre = FeatureVisualizer(cnn, "conv2", objective="neuron")
    acts = layer_activations(cnn, centre([3], steps=4).images, ["conv2"])["conv2"]
    np.testing.assert_allclose(centre([3], steps=4).objective, acts[:, 2, 2, 3])

    def third(a):
        return tf.reduce_mean(a[..., 3], axis=[1, 2])

    vis = FeatureVisualizer(cnn, "conv2", objective=third, param="pixel")
    assert vis([0], steps=6).objective > vis([0], steps=0).objective
    mixed = objectives.channel() - 0.5 * objectives.deepdream()
    result = feature_visualization_result(cnn, "conv2", [1], steps=2, objective=mixed)
    assert result.settings["objective"] == "channel - 0.5 * (deepdream)"
    with pytest.raises(ValueError, match="pre-activation"):
        objectives.channel() + objectives.logit()


def test_deepdream_starts_from_the_given_images(cnn):
    rng = np.random.default_rng(0)
    start = rng.uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    vis = FeatureVisualizer(cnn, "conv2", preset="deepdream")
    before = vis(None, steps=0, init_image=start)
    np.testing.assert_allclose(before.images, start, atol=1e-6)
    after = vis(None, steps=10, init_image=start)
    assert after.images.shape == start.shape and after.channels == [0, 1]
    assert (after.objective > before.objective).all()
    # The Fourier parameterization starts from an image too (its exact inverse).
    fourier = FeatureVisualizer(cnn, "conv2", param="fourier")
    np.testing.assert_allclose(
        fourier([0], steps=0, init_image=start[0]).images[0], start[0], atol=2e-3
    )


def test_settings_are_json_and_pixel_amounts_scale_with_size(cnn):
    result = feature_visualization_result(
        cnn, "conv2", [0], steps=1, tv=0.1, jitter=3, preset="lucid"
    )
    s = json.loads(json.dumps(result.settings))
    assert (s["preset"], s["layer"], s["objective"], s["seed"]) == (
        "lucid",
        "conv2",
        "channel",
        0,
    )
    assert (s["pad"], s["jitter2"], s["jitter"], s["tv"]) == (2, 0, 3, 0.1)
    assert s["size"] == [16, 16] and s["steps_done"] == 1 and s["recipe_size"] == 128
    any_size = keras.Sequential(
        [keras.Input((None, None, 3)), keras.layers.Conv2D(2, 3)]
    )
    big = FeatureVisualizer(any_size, any_size.layers[0].name, preset="lucid")
    assert big.size == (128, 128) and big.settings.pad == 12


def test_budget_stops_early_and_says_so(cnn):
    vis = FeatureVisualizer(cnn, "conv2", param="pixel")
    none = vis([0], steps=50, budget_s=0.0)
    assert (none.steps_done, none.stopped_early) == (0, True)
    some = vis([0], steps=10**6, budget_s=1.0)
    assert some.stopped_early and 0 < some.steps_done < 10**6
    assert some.settings["steps_done"] == some.steps_done


def test_nonfinite_channels_are_flagged_with_a_warning(cnn):
    def blows_up_on_image_1(a):  # image 1 divides by zero
        return tf.reduce_mean(a[..., 0], axis=[1, 2]) / tf.constant([1.0, 0.0])

    with pytest.warns(RuntimeWarning, match=r"NaN/Inf.*channel\(s\) \[4\]"):
        result = feature_visualization_result(  # one start: image k is channel k
            cnn, "conv2", [3, 4], steps=4, objective=blows_up_on_image_1, starts=1
        )
    assert result.nonfinite.tolist() == [False, True]
    start = feature_visualization_result(cnn, "conv2", [3, 4], steps=0)
    np.testing.assert_array_equal(result.images[1], start.images[1])  # last finite
    assert np.abs(result.images[0] - start.images[0]).max() > 0

    model = small_cnn()  # NaN weights: every image flagged, all still images
    kernel, bias = model.get_layer("conv2").get_weights()
    kernel[..., 1] = np.nan
    model.get_layer("conv2").set_weights([kernel, bias])
    with pytest.warns(RuntimeWarning, match="NaN/Inf"):
        result = feature_visualization_result(model, "conv2", [0, 1], steps=4)
    assert result.nonfinite.all() and np.isfinite(result.images).all()
    assert result.images.min() >= 0 and result.images.max() <= 1


def test_bad_input_gives_clear_errors(cnn):
    with pytest.raises(ValueError, match=r"has 16 channels \(0\.\.15\)"):
        feature_visualization(cnn, "conv2", [3, 16], steps=1)
    with pytest.raises(ValueError, match="has 4 units"):
        feature_visualization(cnn, "logits", [-1], steps=1)
    with pytest.raises(ValueError, match="Closest: conv2"):
        feature_visualization(cnn, "conv_2", [0], steps=1)
    with pytest.raises(ValueError, match="unknown preset"):
        feature_visualization(cnn, "conv2", [0], preset="lucent")
    with pytest.raises(ValueError, match="unknown setting.*jiter"):
        feature_visualization(cnn, "conv2", [0], jiter=3)
    with pytest.raises(ValueError, match="init_image must have shape"):
        feature_visualization(cnn, "conv2", [0], init_image=np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="needs channels"):
        feature_visualization(cnn, "conv2", None)

    class Total(keras.layers.Layer):
        def call(self, x):
            return keras.ops.sum(x, axis=(1, 2, 3))

    inp = keras.Input((8, 8, 3))
    scalar = keras.Model(inp, Total(name="total")(keras.layers.Conv2D(2, 3)(inp)))
    with pytest.raises(ValueError, match="no channel or unit axis"):
        feature_visualization(scalar, "total", [0])


def test_translation_fast_path_matches_the_bilinear_sampler():
    images = tf.random.stateless_uniform([3, 9, 7, 2], [1, 2])
    u = tf.random.stateless_uniform([3, transforms.N_RANDOM], [3, 4])
    for fill in transforms.FILLS:
        cfg = transforms.TransformConfig(pad=3, jitter=4, jitter2=3, fill=fill)
        a, b = transforms.affine(u, cfg, 9, 7)
        np.testing.assert_allclose(
            transforms.sample(images, a, b, fill), transforms.translate(images, b, fill)
        )
    identity = transforms.TransformConfig(scales=(1.0,), angles=(0.0,))
    a, b = transforms.affine(u, identity, 9, 7)
    np.testing.assert_allclose(transforms.sample(images, a, b, "constant"), images)


def _patterns(n: int, size: int = 16, seed: int = 0):
    """Stripes (two orientations), red blobs and green diagonals; 4 classes."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    yy, xx = np.mgrid[0:size, 0:size] / size
    images = np.empty((n, size, size, 3), np.float32)
    for i, label in enumerate(labels):
        phase, freq = rng.uniform(0, 2 * np.pi), rng.uniform(2, 4)
        if label == 0:
            pattern = np.sin(2 * np.pi * freq * yy + phase)[..., None] * [1, 1, 1]
        elif label == 1:
            pattern = np.sin(2 * np.pi * freq * xx + phase)[..., None] * [1, 1, 1]
        elif label == 2:
            cy, cx = rng.uniform(0.3, 0.7, 2)
            blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.02)
            pattern = blob[..., None] * [1, -1, -1]
        else:
            pattern = np.sin(2 * np.pi * freq * (xx + yy) + phase)[..., None] * [
                -1,
                1,
                0,
            ]
        noise = rng.normal(0, 0.05, (size, size, 3))
        images[i] = np.clip(0.5 + 0.4 * pattern + noise, 0, 1)
    return images, labels


@pytest.fixture(scope="module")
def trained():
    images, labels = _patterns(768)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(16, 3, activation="relu", padding="same", name="conv1"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, activation="relu", name="conv2"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4),
        ]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(images, labels, epochs=4, batch_size=32, verbose=0)
    return model, images


@pytest.mark.parametrize("layer", ["conv1", "conv2"])
def test_each_channel_prefers_its_own_image(trained, layer):
    """Acceptance (issue 3): own image beats every training image and the other
    channels' images, for >= 90% of channels. Channels that no training image
    activates are left out: they have learned nothing to show."""
    model, images = trained
    data = layer_activations(model, images, [layer])[layer].mean(axis=(1, 2))
    live = [int(c) for c in np.flatnonzero(data.max(axis=0) > 0)]
    assert len(live) >= 12
    result = feature_visualization_result(
        model, layer, live, preset="yosinski2015", steps=256
    )
    acts = layer_activations(model, result.images, [layer])[layer].mean(axis=(1, 2))
    acts = acts[:, live]  # acts[k, j]: image of channel live[k], channel live[j]
    own = np.diag(acts)
    np.testing.assert_allclose(result.objective, own, rtol=1e-4, atol=1e-6)
    beats_data = own > data[:, live].max(axis=0)
    others = np.where(np.eye(len(live), dtype=bool), -np.inf, acts)
    beats_others = own > others.max(axis=0)
    assert beats_data.mean() >= 0.9, beats_data
    assert beats_others.mean() >= 0.9, beats_others


def test_no_warning_in_the_normal_case(cnn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        feature_visualization(cnn, "conv1", [0], steps=2)
