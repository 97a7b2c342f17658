"""Every attribution method against its paper's definition, derived by hand in
NumPy on tiny fixed-weight models (`attribution_models.py`); the batching, the
nested backbone, the traces, and the model left alone."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf
from attribution_models import CamNet, Mlp, bilinear, relu, softmax, unit_model
from models import assert_model_unchanged, small_cnn, snapshot

from tb_netviz.methods import Attributor, attribution
from tb_netviz.methods.attributions import METHODS, perturbation

RTOL, ATOL = 1e-4, 1e-6


@pytest.fixture(scope="module")
def cam():
    net = CamNet()
    x = np.random.default_rng(0).uniform(0, 1, (3, 8, 8, 2)).astype(np.float32)
    return net, net.model(), x


@pytest.fixture(scope="module")
def mlp():
    net = Mlp()
    x = np.random.default_rng(1).uniform(0, 1, (2, 4, 4, 2)).astype(np.float32)
    return net, net.model(), x


@pytest.fixture(scope="module")
def cam_maps(cam):
    """The four CAMs of cam_model for targets [[2, 0]] of every input."""
    _, model, x = cam
    methods = ("gradcam", "gradcam++", "layercam", "scorecam")
    # By default the last feature map, "mix"; "conv" has a gradient that
    # varies over positions (through mix's ReLU).
    assert Attributor(model, methods).layer == "mix"
    return Attributor(model, methods, layer="conv")(x, [2, 0])


def test_the_score_is_the_logit_read_inside_the_softmax(cam):
    net, model, x = cam
    attributor = Attributor(model, "saliency")
    out = attributor.forward(tf.constant(x))
    np.testing.assert_allclose(out.scores, net.logits(x), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(
        out.probabilities, softmax(net.logits(x)), rtol=RTOL, atol=ATOL
    )
    assert attributor.settings["score"] == "logit: the input of the softmax of 'probs'"


def _gradcam(net, x, target):
    a, g = net.layer_grad(x, target)
    return bilinear(relu(np.einsum("nhwk,nk->nhw", a, g.mean(axis=(1, 2)))), 8, 8)


def _gradcam_pp_paper(net, x, target):
    """Chattopadhay et al. 2018, eq. 19 with Y = exp(S), literally."""
    a, g = net.layer_grad(x, target)
    e = np.exp(net.logits(x)[:, target])[:, None, None, None]
    d1, d2, d3 = e * g, e * g**2, e * g**3
    denominator = 2 * d2 + a.sum(axis=(1, 2), keepdims=True) * d3
    alpha = np.where(
        denominator != 0, d2 / np.where(denominator != 0, denominator, 1), 0
    )
    w = (alpha * relu(d1)).sum(axis=(1, 2))
    return bilinear(relu(np.einsum("nhwk,nk->nhw", a, w)), 8, 8), e[:, 0, 0, 0]


def _layercam(net, x, target):
    a, g = net.layer_grad(x, target)
    return bilinear(relu((relu(g) * a).sum(-1)), 8, 8)


def _scorecam(net, x, target, keep=None):
    a, _ = net.features(x)
    if keep is not None:
        a = np.take_along_axis(a, keep[:, None, None, :], axis=-1)
    up = bilinear(a.transpose(0, 3, 1, 2), 8, 8)  # (N, K, 8, 8)
    lo, hi = up.min(axis=(2, 3), keepdims=True), up.max(axis=(2, 3), keepdims=True)
    masks = np.where(hi > lo, (up - lo) / np.where(hi > lo, hi - lo, 1), 0)
    masked = x[:, None] * masks[..., None]
    scores = net.logits(masked.reshape(-1, 8, 8, 2)).reshape(len(x), -1, 3)
    w = softmax(scores[:, :, target])  # over channels
    return bilinear(relu(np.einsum("nhwk,nk->nhw", a, w)), 8, 8)


def test_gradcam_is_relu_of_channels_weighted_by_mean_gradient(cam, cam_maps):
    net, _, x = cam
    for t, target in enumerate([2, 0]):
        want = _gradcam(net, x, target)
        np.testing.assert_allclose(cam_maps.maps["gradcam"][:, t], want, RTOL, ATOL)
    assert cam_maps.maps["gradcam"].shape == (3, 2, 8, 8)
    assert cam_maps.maps["gradcam"].max() > 0


def test_gradcam_pp_is_the_closed_form_over_exp_score(cam, cam_maps):
    net, _, x = cam
    for t, target in enumerate([2, 0]):
        paper, e = _gradcam_pp_paper(net, x, target)
        got = cam_maps.maps["gradcam++"][:, t]
        np.testing.assert_allclose(got, paper / e[:, None, None], RTOL, ATOL)
        assert got.max() > 0


def test_layercam_weights_each_position_by_its_positive_gradient(cam, cam_maps):
    net, _, x = cam
    for t, target in enumerate([2, 0]):
        np.testing.assert_allclose(
            cam_maps.maps["layercam"][:, t], _layercam(net, x, target), RTOL, ATOL
        )


def test_scorecam_weights_are_a_softmax_over_masked_scores(cam, cam_maps):
    net, _, x = cam
    for t, target in enumerate([2, 0]):
        np.testing.assert_allclose(
            cam_maps.maps["scorecam"][:, t], _scorecam(net, x, target), RTOL, ATOL
        )
    np.testing.assert_allclose(
        cam_maps.probabilities, softmax(net.logits(x))[:, [2, 0]], RTOL, ATOL
    )


def test_scorecam_top_channels_keeps_the_most_varied(cam):
    net, model, x = cam
    maps = attribution(
        model, x, "scorecam", targets=1, layer="conv", top_channels=2, batch_size=4
    )
    a, _ = net.features(x)
    keep = np.argsort(-a.var(axis=(1, 2)), axis=1, kind="stable")[:, :2]
    np.testing.assert_allclose(maps[:, 0], _scorecam(net, x, 1, keep), RTOL, ATOL)


def test_saliency_and_gradient_x_input(mlp):
    net, model, x = mlp
    result = Attributor(model, ("saliency", "gradient_x_input"))(x, [[0, 1], [2, 0]])
    for n, row in enumerate([[0, 1], [2, 0]]):
        for t, target in enumerate(row):
            g = net.grad(x[n : n + 1], target)[0]
            np.testing.assert_allclose(
                result.maps["saliency"][n, t], np.abs(g).max(-1), RTOL, ATOL
            )
            np.testing.assert_allclose(
                result.maps["gradient_x_input"][n, t], (g * x[n]).sum(-1), RTOL, ATOL
            )


def _integrated_gradients(net, x, base, target, steps=64):
    alphas = np.linspace(0, 1, steps)  # steps points, both ends
    w = np.full(steps, 1 / (steps - 1))
    w[[0, -1]] /= 2
    total = sum(
        wk * net.grad(base + a * (x - base), target) for a, wk in zip(alphas, w)
    )
    return ((x - base) * total).sum(-1)


@pytest.mark.parametrize(
    "baseline, value", [("black", 0.0), ("zeros", 0.0), (0.25, 0.25), ("array", None)]
)
def test_integrated_gradients_is_the_trapezoid_path_integral(mlp, baseline, value):
    net, model, x = mlp
    base = np.full_like(x, value) if value is not None else x[::-1] * 0.5
    option = base[0] if baseline == "array" else baseline  # (H, W, C) broadcasts
    base = np.broadcast_to(option, x.shape) if baseline == "array" else base
    attributor = Attributor(
        model, "integrated_gradients", input_range=(0, 1), baseline=option
    )
    result = attributor(x, [1])
    want = _integrated_gradients(net, x, base, 1)
    np.testing.assert_allclose(
        result.maps["integrated_gradients"][:, 0], want, 1e-4, 1e-6
    )
    delta = net.logits(x)[:, 1] - net.logits(base)[:, 1]
    gap = np.abs(want.sum(axis=(1, 2)) - delta) / np.abs(delta)
    np.testing.assert_allclose(result.completeness[:, 0], gap, rtol=1e-2, atol=1e-5)


def test_integrated_gradients_completeness_within_one_percent_by_default():
    model = small_cnn(seed=0)
    x = np.random.default_rng(0).uniform(0, 1, (4, 16, 16, 3)).astype(np.float32)
    attributor = Attributor(model, "integrated_gradients")
    result = attributor(x, [[0, 1, 2, 3]] * len(x))
    assert result.completeness.shape == (4, 4)
    assert np.all(result.completeness < 0.01), result.completeness
    # The baseline by default: the inputs' lower bound (black).
    assert attributor.settings["baseline"] == "black"
    assert attributor.settings["steps"] == 64


def test_smoothgrad_and_vargrad_average_gradients_under_noise():
    rng = np.random.default_rng(5)
    w, v = rng.normal(0, 1, (4, 4, 2)), np.array([1.5, -0.5])
    x = rng.uniform(0, 1, (1, 4, 4, 2)).astype(np.float32)
    model = unit_model(w, -float((w * x[0]).sum()), v)  # the unit sits at 0 on x
    options = {"samples": 64, "input_range": (0, 1)}
    result = Attributor(model, ("smoothgrad", "vargrad"), **options)(x, [[0, 1]])
    top = np.abs(w).max(-1)  # max over channels of |w|
    # g = v_c w [w.(x+e)+b > 0]: the mean is v_c w q, q the share of active samples.
    q = result.maps["smoothgrad"][0, 0] / (abs(v[0]) * top)
    assert np.allclose(q, q.flat[0], atol=1e-5) and 0.25 < q.flat[0] < 0.75
    q = q.flat[0]
    assert abs(q * 64 - round(q * 64)) < 1e-3  # a count of samples
    # The same noise for both targets of an input.
    np.testing.assert_allclose(
        result.maps["smoothgrad"][0, 1], abs(v[1]) * top * q, 1e-4
    )
    for t in range(2):
        np.testing.assert_allclose(
            result.maps["vargrad"][0, t], v[t] ** 2 * top**2 * q * (1 - q), 1e-3, 1e-6
        )


def test_smoothgrad_without_noise_is_saliency(mlp):
    _, model, x = mlp
    result = Attributor(model, ("smoothgrad", "saliency"), noise=0.0, samples=3)(x, [2])
    np.testing.assert_allclose(
        result.maps["smoothgrad"], result.maps["saliency"], RTOL, ATOL
    )


def test_occlusion_geometry_comes_from_the_input_size():
    assert perturbation.occlusion_geometry(224, 224) == (28, 14)
    assert perturbation.occlusion_geometry(16, 16) == (2, 1)
    assert perturbation.occlusion_geometry(8, 8) == (1, 1)
    boxes = perturbation.occlusion_boxes(4, 4, 3, 2)  # the last start is flush
    assert boxes.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]


@pytest.mark.parametrize("patch, stride", [(None, None), (3, 2)])
def test_occlusion_is_the_mean_probability_drop_of_covering_patches(mlp, patch, stride):
    net, model, x = mlp
    attributor = Attributor(
        model, "occlusion", input_range=(0, 1), patch=patch, stride=stride, batch_size=6
    )
    result = attributor(x, [0, 2])
    p_patch, p_stride = perturbation.occlusion_geometry(4, 4, patch, stride)
    total, count = np.zeros((2, 3, 4, 4)), np.zeros((4, 4))
    for top, left in perturbation.occlusion_boxes(4, 4, p_patch, p_stride):
        filled = x.copy()
        filled[:, top : top + p_patch, left : left + p_patch] = 0.5  # grey
        drop = net.probs(x) - net.probs(filled)  # (N, classes)
        total[:, :, top : top + p_patch, left : left + p_patch] += drop[..., None, None]
        count[top : top + p_patch, left : left + p_patch] += 1
    want = (total / count)[:, [0, 2]]
    np.testing.assert_allclose(result.maps["occlusion"], want, 1e-4, 1e-6)
    assert attributor.settings["patch"] == p_patch


def test_rise_is_the_mask_weighted_mean_probability(mlp):
    net, model, x = mlp
    options = {"masks": 40, "cells": 2, "keep": 0.5, "seed": 3, "batch_size": 8}
    result = Attributor(model, "rise", **options)(x, [1, 0])
    grids, shifts = perturbation.rise_grids(
        tf.constant(3, tf.int64), 40, 2, 0.5, [2, 2]
    )
    masks = perturbation.rise_masks(grids, shifts, 4, 4).numpy()  # (M, H, W)
    p = net.probs((x[None] * masks[:, None, ..., None]).reshape(-1, 4, 4, 2))
    p = p.reshape(40, len(x), 3)[..., [1, 0]]
    want = np.einsum("mnt,mhw->nthw", p, masks) / (40 * 0.5)
    np.testing.assert_allclose(result.maps["rise"], want, 1e-4, 1e-6)


def test_rise_masks_are_smooth_random_and_seeded():
    def masks(seed):
        grids, shifts = perturbation.rise_grids(
            tf.constant(seed, tf.int64), 2000, 4, 0.5, [4, 4]
        )
        return (
            grids.numpy(),
            shifts.numpy(),
            perturbation.rise_masks(grids, shifts, 16, 16).numpy(),
        )

    grids, shifts, m = masks(0)
    assert m.shape == (2000, 16, 16) and m.min() >= 0 and m.max() <= 1
    assert abs(grids.mean() - 0.5) < 0.02 and abs(m.mean() - 0.5) < 0.02
    assert set(np.unique(shifts)) == {0, 1, 2, 3}
    assert not np.isin(m, [0.0, 1.0]).all()  # bilinear, not blocks
    np.testing.assert_array_equal(m, masks(0)[2])
    assert not np.array_equal(m, masks(1)[2])


def test_batched_inputs_and_targets_equal_one_at_a_time(cam):
    _, model, x = cam
    methods = ("gradcam", "scorecam", "saliency", "integrated_gradients", "occlusion")
    options = {"input_range": (0, 1), "batch_size": 5}
    targets = np.array([[0, 2], [1, 0], [2, 1]])
    together = Attributor(model, methods, **options)(x, targets)
    alone = Attributor(model, methods, **options)
    for n in range(3):
        for t in range(2):
            one = alone(x[n : n + 1], targets[n : n + 1, t : t + 1])
            for m in methods:
                np.testing.assert_allclose(
                    together.maps[m][n, t], one.maps[m][0, 0], 1e-4, 1e-6, err_msg=m
                )


def _flat_and_nested():
    keras.utils.set_random_seed(7)
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="c1")(inp)
    h = keras.layers.Conv2D(5, 3, activation="relu", name="c2")(h)
    out = keras.layers.Dense(3, activation="softmax", name="probs")(
        keras.layers.GlobalAveragePooling2D()(h)
    )
    flat = keras.Model(inp, out, name="flat")
    b_in = keras.Input((8, 8, 3))
    b = keras.layers.Conv2D(4, 3, activation="relu", name="c1")(b_in)
    b = keras.layers.Conv2D(5, 3, activation="relu", name="c2")(b)
    backbone = keras.Model(b_in, b, name="backbone")
    nested = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            backbone,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax", name="probs"),
        ]
    )
    for name in ("c1", "c2"):
        backbone.get_layer(name).set_weights(flat.get_layer(name).get_weights())
    nested.get_layer("probs").set_weights(flat.get_layer("probs").get_weights())
    return flat, nested


def test_cams_of_a_nested_backbone_equal_the_flat_model():
    flat, nested = _flat_and_nested()
    x = np.random.default_rng(2).uniform(0, 1, (2, 8, 8, 3)).astype(np.float32)
    methods = ("gradcam", "gradcam++", "layercam", "scorecam")
    a, b = Attributor(flat, methods), Attributor(nested, methods)
    assert (a.layer, b.layer) == ("c2", "backbone/c2")
    ra, rb = a(x, [0, 1]), b(x, [0, 1])
    for m in methods:
        assert ra.maps[m].max() > 0, m
        np.testing.assert_allclose(ra.maps[m], rb.maps[m], 1e-4, 1e-6, err_msg=m)


def test_the_model_is_left_as_it_was(cam):
    _, model, x = cam
    predicted = model.predict(x, verbose=0)  # before the snapshot: it sets attributes
    before = snapshot(model)
    attributor = Attributor(model, METHODS, masks=16, samples=2, steps=4)
    attributor(x[:2], [0])
    assert_model_unchanged(model, before)
    for was, now in zip(before["weights"], model.get_weights()):
        np.testing.assert_array_equal(was, now)
    np.testing.assert_array_equal(model.predict(x, verbose=0), predicted)


def test_each_method_is_traced_once(cam):
    _, model, x = cam
    attributor = Attributor(model, METHODS, masks=16, samples=4, steps=4)
    first = attributor(x, [0, 1])
    second = attributor(x * 0.5, [1, 2])
    assert attributor.traces() == {m: 1 for m in METHODS}
    assert set(first.seconds) == set(METHODS) and first.completeness.shape == (3, 2)
    assert not np.allclose(first.maps["gradcam"], second.maps["gradcam"])


def test_targets_predicted_labelled_given(cam):
    net, model, x = cam
    attributor = Attributor(model, "gradcam")
    order = np.argsort(-net.logits(x), axis=1, kind="stable")
    found, source = attributor.targets(x, top_k=2)
    assert source == "predicted" and found.tolist() == order[:, :2].tolist()
    labels = np.array([2, 0, 1])
    assert attributor.targets(x, labels=labels)[0][:, 0].tolist() == [2, 0, 1]
    one_hot = np.eye(3)[labels]
    found, source = attributor.targets(x, labels=one_hot)
    assert found.tolist() == labels[:, None].tolist() and source == "label"
    assert attributor.targets(x, [1, 2])[0].tolist() == [[1, 2]] * 3
    by_labels = attribution(model, (x, labels), "gradcam")
    np.testing.assert_allclose(
        by_labels, attributor(x, labels[:, None]).maps["gradcam"]
    )
    result = attributor(x)  # predicted by default
    np.testing.assert_array_equal(result.targets, order[:, :1])


def test_a_sigmoid_unit_is_target_zero_and_its_logit_the_score():
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((4, 4, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid", name="p"),
        ]
    )
    x = np.random.default_rng(0).uniform(0, 1, (2, 4, 4, 2)).astype(np.float32)
    attributor = Attributor(model, "saliency")
    found, source = attributor.targets(x)
    assert found.tolist() == [[0], [0]] and source == "single_unit"
    result = attributor(x)
    kernel = model.get_layer("p").get_weights()[0].reshape(4, 4, 2)
    # d logit / dx is the kernel itself (the sigmoid undone).
    np.testing.assert_allclose(
        result.maps["saliency"][:, 0], np.abs(kernel).max(-1)[None].repeat(2, 0), 1e-5
    )
    np.testing.assert_allclose(
        result.probabilities[:, 0], model.predict(x, verbose=0)[:, 0], 1e-5
    )


def test_a_logits_output_is_explained_with_its_softmax_probability():
    # small_cnn ends in a linear Dense "logits" (trained from_logits=True): the
    # gradients differentiate the logit, the probability shown is its softmax,
    # and occlusion / the metrics measure that probability.
    model = small_cnn()
    x = np.random.default_rng(3).uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    result = Attributor(model, ("saliency",))(x, [[1, 3], [0, 2]])
    expected = softmax(model.predict(x, verbose=0))
    np.testing.assert_allclose(
        result.probabilities, np.take_along_axis(expected, result.targets, 1), 1e-5
    )


@pytest.mark.parametrize("count,chunk", [(33, 4), (32, 4), (7, 7), (9, 8), (5, 2)])
def test_chunked_sum_computes_each_copy_once(count, chunk):
    from tb_netviz.methods.attributions import batches

    sizes = []

    def body(idx):
        sizes.append(idx.shape[0])  # at trace time: the rows of each traced pass
        return tf.reduce_sum(tf.one_hot(idx, count), 0)

    seen = tf.function(
        lambda: batches.chunked_sum(body, count, chunk, tf.zeros([count]))
    )()
    np.testing.assert_array_equal(seen.numpy(), np.ones(count))  # each copy once
    full, rest = divmod(count, chunk)
    assert sizes == [chunk] + ([rest] if rest else [])  # no padded pass


def test_rows_per_pass_scale_with_the_input():
    from tb_netviz.methods.attributions.options import rows_per_pass

    assert rows_per_pass(None, (32, 32, 3)) == 2**20 // 3072 == 341
    assert rows_per_pass(None, (224, 224, 3)) == 32  # the floor of 32 rows
    assert rows_per_pass(None, (None, None, 3)) == 32
    assert rows_per_pass(7, (32, 32, 3)) == 7
