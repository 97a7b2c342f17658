"""Concepts: NMF of a layer's patches recovers planted parts, the importance
ranks a class's own parts first, matching keeps identities, seeds agree.

The model is trained here (a few seconds) on images made of planted parts
(`concept_models`), so every crop's ground truth is known.
"""

from __future__ import annotations

import itertools
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf
from concept_models import CLASS_PARTS, PARTS, crop_parts, parts_cnn, parts_data
from models import assert_model_unchanged, nested_cnn, small_cnn, snapshot

from tb_netviz.methods.concepts import (
    STABLE,
    ConceptExtractor,
    extract_concepts,
    hungarian,
    match,
    nmf,
    nmf_many,
    project,
)

LAYER = "conv2"  # the middle layer: 12x12 positions, receptive field 8x8
TOP = 20
PARTS_IDS = sorted({p for ps in CLASS_PARTS.values() for p in ps})


@pytest.fixture(scope="module")
def trained():
    """`(model after 3 epochs, its weights after 2, held-out (x, y, labels))`."""
    x, y, _ = parts_data(2000, 0)
    model = parts_cnn()
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    earlier = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    return model, earlier, parts_data(1000, 1)


@pytest.fixture(scope="module")
def concepts(trained):
    model, _, (x, y, _) = trained
    before = snapshot(model)
    found = extract_concepts(model, LAYER, x, labels=y, probes=x[:8], exemplars=TOP)
    assert_model_unchanged(model, before)
    return found


def _shown(found, labels) -> np.ndarray:
    """The part each concept's top crops show: int64 `(k, TOP)`."""
    return crop_parts(labels, found.indices, found.boxes)


def _part_of(found, labels) -> np.ndarray:
    """Each concept's part: the one >= 80 % of its top crops show, else 0."""
    shown = _shown(found, labels)
    major = np.array(
        [np.bincount(row, minlength=len(PARTS) + 1).argmax() for row in shown]
    )
    pure = (shown == major[:, None]).mean(axis=1) >= 0.8
    return np.where(pure & (major > 0), major, 0)


def test_the_concepts_recover_the_planted_parts(trained, concepts):
    labels = trained[2][2]
    k = len(concepts.directions)
    assert concepts.indices.shape == (k, TOP) and concepts.boxes.shape == (k, TOP, 4)
    shown = _shown(concepts, labels)
    best = {p: float((shown == p).mean(axis=1).max()) for p in PARTS_IDS}
    assert min(best.values()) >= 0.8, best
    assert concepts.explained > 0.9 and concepts.explained_examples > 0.9


def test_the_bank_is_non_negative_unit_and_ordered(concepts):
    w = concepts.directions
    assert w.shape == (8, 32) and (w >= 0).all()
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 1, rtol=1e-5)
    assert np.all(np.diff(concepts.share) <= 1e-6)
    np.testing.assert_allclose(concepts.share.sum(), 1, rtol=1e-5)
    assert (np.diff(concepts.values, axis=1) <= 0).all()  # exemplars best first


def test_importance_ranks_a_class_own_parts_first(trained, concepts):
    _, y, labels = trained[2]
    imp = concepts.importance
    assert imp.shape == (8, 3) and concepts.targets_source == "label"
    np.testing.assert_array_equal(concepts.class_counts, np.bincount(y))
    # A part is the sum of its concepts (k = 8 splits the 3 parts).
    part = _part_of(concepts, labels)
    per_part = {p: imp[part == p].sum(axis=0) for p in PARTS_IDS}
    for c, own in CLASS_PARTS.items():
        others = [p for p in PARTS_IDS if p not in own]
        low = min(per_part[p][c] for p in own)
        assert low > 0 and low > max(per_part[p][c] for p in others), (c, per_part)


def test_heatmaps_peak_on_the_part(trained, concepts):
    x, _, labels = trained[2]
    maps = concepts.heatmaps
    assert maps.shape == (8, 8, 12, 12) and (maps >= 0).all()
    hits = total = 0
    for concept, part in enumerate(_part_of(concepts, labels)):
        for n in range(8):
            if part and (labels[n] == part).any():
                peak = np.unravel_index(maps[n, concept].argmax(), (12, 12))
                box = concepts.field.boxes(np.array(peak))
                hits += (
                    crop_parts(labels, np.array([[n]]), box[None, None])[0, 0] == part
                )
                total += 1
    assert total >= 20 and hits >= 0.9 * total, (hits, total)
    up = ConceptExtractor(trained[0], LAYER, importance=False).heatmaps(
        x[:2], concepts.directions, upsample=True
    )
    assert up.shape == (2, 8, 24, 24) and (up >= 0).all()


def test_two_seeds_agree_or_say_which_are_unstable(trained, concepts):
    model, _, (x, y, labels) = trained
    other = extract_concepts(model, LAYER, x, labels=y, exemplars=TOP, seed=1)
    m = match(concepts.directions, other.directions, threshold=0.0)
    flagged = other.unstable | concepts.unstable[m.partners]
    assert ((m.cosines >= 0.9) | flagged).all(), (m.cosines, flagged)
    assert other.stability.shape == (8,) and STABLE == 0.9
    # Every part has a concept that both seeds find (cosine >= 0.9).
    mine, theirs = _part_of(concepts, labels), _part_of(other, labels)
    for part in PARTS_IDS:
        same = (theirs == part) & (mine[m.partners] == part) & (m.cosines >= 0.9)
        assert same.any(), (part, theirs, mine[m.partners], m.cosines)


def test_as_many_concepts_as_parts_are_the_parts_and_stable(trained):
    model, _, (x, y, labels) = trained
    a, b = (
        extract_concepts(model, LAYER, x, k=3, exemplars=TOP, seed=s, importance=False)
        for s in (0, 1)
    )
    assert sorted(_part_of(a, labels)) == PARTS_IDS
    m = match(a.directions, b.directions)
    assert (m.cosines >= 0.99).all() and not a.unstable.any(), (m.cosines, a.stability)
    np.testing.assert_array_equal(_part_of(b, labels), _part_of(a, labels)[m.partners])


def test_matching_keeps_identities_across_two_training_steps(trained, concepts):
    model, earlier, (x, y, labels) = trained
    before = keras.models.clone_model(model)
    before.set_weights(earlier)
    early = extract_concepts(before, LAYER, x, labels=y, exemplars=TOP)
    m = match(early.directions, concepts.directions, previous_ids=np.arange(10, 18))
    assert (~m.new).sum() >= 6, m.cosines
    np.testing.assert_array_equal(m.ids[~m.new], 10 + m.partners[~m.new])
    part_early, part_late = _part_of(early, labels), _part_of(concepts, labels)
    kept = ~m.new & (part_late > 0)
    np.testing.assert_array_equal(part_early[m.partners[kept]], part_late[kept])
    assert set(part_late[kept]) == set(PARTS_IDS)


def test_matching_a_permuted_bank_returns_the_permuted_ids(concepts):
    w = concepts.directions
    perm = np.random.default_rng(0).permutation(len(w))
    noisy = w[perm] + 0.01 * np.random.default_rng(1).random(w.shape)
    m = match(w, noisy, previous_ids=np.arange(100, 108))
    np.testing.assert_array_equal(m.ids, 100 + perm)
    np.testing.assert_array_equal(m.partners, perm)
    assert not m.new.any() and m.gone.size == 0 and m.next_id == 108
    # A concept of another layer is new; the one it replaced is gone.
    other = np.zeros_like(w)
    other[:, 0] = 1.0
    changed = np.concatenate([w[:7], other[:1]])
    if w[7, 0] < 0.5:
        m = match(w, changed)
        np.testing.assert_array_equal(m.ids[:7], np.arange(7))
        assert m.new.tolist() == [False] * 7 + [True]
        assert m.ids[7] == 8 and m.gone.tolist() == [7] and m.next_id == 9


def test_hungarian_equals_brute_force():
    rng = np.random.default_rng(0)
    for n, m in [(1, 1), (4, 4), (5, 5), (3, 6), (6, 3)]:
        for _ in range(5):
            s = rng.random((n, m))
            rows, cols = hungarian(s)
            assert len(rows) == min(n, m) and len(set(cols)) == len(cols)
            small, big = (s, False) if n <= m else (s.T, True)
            best = max(
                sum(small[i, p[i]] for i in range(len(small)))
                for p in itertools.permutations(range(small.shape[1]), len(small))
            )
            np.testing.assert_allclose(s[rows, cols].sum(), best)


def test_nmf_recovers_a_planted_factorization():
    rng = np.random.default_rng(0)
    u = rng.exponential(1, (2000, 5)) * (rng.random((2000, 5)) < 0.3)
    w = rng.exponential(1, (5, 40)) * (rng.random((5, 40)) < 0.3)
    a = u @ w
    fit = nmf(a, 5)
    assert fit.explained > 0.999 and (fit.coefficients >= 0).all()
    unit = w / np.linalg.norm(w, axis=1, keepdims=True)
    assert (fit.directions @ unit.T).max(axis=1).min() > 0.99
    err = np.sum((a - fit.coefficients @ fit.directions) ** 2) / np.sum(a**2)
    np.testing.assert_allclose(fit.explained, 1 - err, atol=1e-5)
    again = nmf(a, 5)
    np.testing.assert_array_equal(fit.directions, again.directions)


def test_fits_run_together_equal_each_fit_alone():
    rng = np.random.default_rng(1)
    a = rng.exponential(1, (600, 4)) @ rng.exponential(1, (4, 24))
    b = rng.exponential(1, (500, 4)) @ rng.exponential(1, (4, 24))
    together = nmf_many([a, np.zeros((50, 24)), b], 4, [3, 4, 5])
    alone = [nmf(a, 4, seed=3), nmf(np.zeros((50, 24)), 4, seed=4), nmf(b, 4, seed=5)]
    for got, want in zip(together, alone, strict=True):
        np.testing.assert_array_equal(got.directions, want.directions)
        np.testing.assert_array_equal(got.coefficients, want.coefficients)
        assert (got.explained, got.iterations) == (want.explained, want.iterations)
    with pytest.raises(ValueError, match="non-negative"):
        nmf_many([a, -b], 4, [0, 1])


def test_projection_is_non_negative_least_squares():
    rng = np.random.default_rng(1)
    w = rng.random((6, 20)).astype(np.float32)
    a = rng.random((300, 20)).astype(np.float32) - 0.2
    u = project(a, w, sweeps=200)
    grad = (u @ w - a) @ w.T  # KKT: 0 where u > 0, >= 0 where u == 0
    assert (u >= 0).all()
    scale = np.abs(a @ w.T).max()
    assert np.abs(grad[u > 1e-4]).max() < 1e-3 * scale
    assert grad[u == 0].min() > -1e-3 * scale


def _nnls_brute_force(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """min ||a_r - u W||^2 over u >= 0 for each row, by trying every support."""
    k = len(w)
    best = np.zeros((len(a), k))
    for r, row in enumerate(a):
        low = np.inf
        for support in itertools.product([0, 1], repeat=k):
            s = np.flatnonzero(support)
            u = np.zeros(k)
            if len(s):
                u[s] = np.linalg.lstsq(w[s].T, row, rcond=None)[0]
            if (u >= 0).all() and np.sum((row - u @ w) ** 2) < low - 1e-12:
                low, best[r] = np.sum((row - u @ w) ** 2), u
    return best


def test_projection_equals_brute_force_nnls():
    rng = np.random.default_rng(2)
    a = rng.random((40, 9)) * (rng.random((40, 9)) < 0.6) - 0.1
    # Dense positive directions overlap (cond(W W^T) ~ 40): many sweeps; sparse
    # ones, as concepts come out (cond 2 here, 5-12 at the demo's conv2): the default.
    for density, sweeps in ((1.0, 300), (0.4, None)):
        w = rng.random((4, 9)) * (rng.random((4, 9)) < density) + 1e-3
        w /= np.linalg.norm(w, axis=1, keepdims=True)
        exact = _nnls_brute_force(a.astype(np.float64), w)
        assert (exact == 0).any() and (exact > 0).any()  # both kinds of support
        got = project(a, w) if sweeps is None else project(a, w, sweeps=sweeps)
        np.testing.assert_allclose(got, exact, atol=1e-4)


def test_a_hals_sweep_is_the_coordinate_update_and_keeps_a_dead_part():
    from tb_netviz.methods.concepts.factorize import sweep

    rng = np.random.default_rng(3)
    x, y = rng.random((50, 3)), rng.random((3, 7))
    y[1] = 0  # a dead part: g_11 = 0
    a = rng.random((50, 7))
    b, g = a @ y.T, y @ y.T
    want = x.copy()
    for j in range(3):  # Cichocki & Phan's update, one column at a time
        if g[j, j] > 0:
            step = (b[:, j] - want @ g[:, j]) / g[j, j]
            want[:, j] = np.maximum(want[:, j] + step, 0)
    # The sweep works on rows: x, b transposed, (parts, rows).
    got = sweep(tf.constant(x.T), tf.constant(b.T), tf.constant(g)).numpy().T
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got[:, 1], x[:, 1])


def test_determinism_and_datasets_read_the_same():
    model = small_cnn()
    x = np.random.default_rng(0).random((200, 16, 16, 3)).astype(np.float32)
    a = extract_concepts(model, "conv2", x, seed=3)
    b = extract_concepts(model, "conv2", x, seed=3, batch_size=32)
    data = tf.data.Dataset.from_tensor_slices(x).batch(50)
    c = extract_concepts(model, "conv2", data, seed=3)
    for other in (b, c):
        np.testing.assert_allclose(other.directions, a.directions, atol=1e-5)
        np.testing.assert_array_equal(other.indices, a.indices)
    assert a.importance.shape == (8, 4) and a.targets_source == "predicted"
    assert a.class_counts.sum() == 200


def test_batches_projected_together_equal_each_batch_alone(trained, monkeypatch):
    from tb_netviz.methods.concepts import scoring

    model, _, (x, y, _) = trained
    together = extract_concepts(model, LAYER, x[:300], labels=y[:300], batch_size=32)
    monkeypatch.setattr(scoring, "REDUCE_BYTES", 1)  # one batch a call
    alone = extract_concepts(model, LAYER, x[:300], labels=y[:300], batch_size=32)
    np.testing.assert_array_equal(alone.indices, together.indices)
    np.testing.assert_allclose(alone.importance, together.importance, atol=1e-5)
    assert alone.explained_examples == pytest.approx(
        together.explained_examples, abs=1e-6
    )


def test_the_model_is_unchanged_also_after_an_error():
    model = small_cnn()
    x = np.random.default_rng(0).random((64, 16, 16, 3)).astype(np.float32)
    before = snapshot(model)
    extract_concepts(model, "conv1", x, probes=x[:2], upsample=True)
    with pytest.raises(ValueError):
        extract_concepts(model, "logits", x)
    assert_model_unchanged(model, before)


def test_an_unknown_layer_lists_the_layers():
    with pytest.raises(ValueError, match=r"no layer 'conv9'.*conv1.*conv2"):
        ConceptExtractor(small_cnn(), "conv9")


def test_a_negative_layer_names_it_and_lists_non_negative_layers():
    x = np.random.default_rng(0).random((32, 16, 16, 3)).astype(np.float32)
    extractor = ConceptExtractor(nested_cnn(), "backbone/block1_conv2", k=4)
    with pytest.raises(
        ValueError,
        match=r"'backbone/block1_conv2'.*min -.*non-negative layers: "
        r"backbone/block1_conv1, probs\)",
    ):
        extractor(x)


def test_too_few_examples_and_bad_arguments():
    model = small_cnn()
    x = np.random.default_rng(0).random((5, 16, 16, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=r"at least 8 examples.*got 5"):
        extract_concepts(model, "conv2", x)
    with pytest.raises(ValueError, match=r"k=20 concepts exceed .*16 channels"):
        ConceptExtractor(model, "conv2", k=20)
    with pytest.raises(ValueError, match=r"patches must be an integer >= 8"):
        ConceptExtractor(model, "conv2", patches=4)
    with pytest.raises(ValueError, match=r"labels must be 5 class indices in 0..3"):
        extract_concepts(model, "conv2", x, k=2, labels=[0, 1, 2, 3, 4])
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="c")(inp)
    emb = keras.Model(inp, keras.layers.MaxPooling2D(name="p")(h))
    with pytest.raises(ValueError, match=r"importance=False"):
        ConceptExtractor(emb, "c")
    ConceptExtractor(emb, "c", importance=False)


def test_the_first_bank_is_all_new():
    found = match(np.zeros((0, 4)), np.eye(3, 4))
    assert found.ids.tolist() == [0, 1, 2] and found.new.all()
    assert found.gone.tolist() == [] and found.next_id == 3
