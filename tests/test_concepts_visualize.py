"""methods/concepts/visualize.py: the picture of a concept direction shows
the planted part the concept stands for (its colour), and the objective is
the concept's least-squares coefficient."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from concept_models import PARTS, crop_parts, parts_cnn, parts_data

from tb_netviz.methods.concepts import extract_concepts
from tb_netviz.methods.concepts.visualize import ConceptVisualizer, coefficient_vectors

COLOUR = {"red square": 0, "green ring": 1, "blue cross": 2}  # the part's channel


def test_coefficient_vectors_give_back_the_coefficients():
    rng = np.random.default_rng(0)
    w = rng.random((4, 10))  # k=4 concepts in 10 channels
    u = rng.random((50, 4))
    rows = coefficient_vectors(w)
    np.testing.assert_allclose((u @ w) @ rows.T, u, atol=1e-5)


@pytest.fixture(scope="module")
def pictured():
    x, y, _ = parts_data(2000, 0)
    model = parts_cnn()
    model.fit(x, y, epochs=3, batch_size=64, verbose=0)
    hx, hy, labels = parts_data(1000, 1)
    found = extract_concepts(model, "conv2", hx, labels=hy, exemplars=20)
    k, channels = found.directions.shape
    vis = ConceptVisualizer(model, "conv2", k, channels, hx[:256], (0.0, 1.0))
    return (
        found,
        crop_parts(labels, found.indices, found.boxes),
        vis,
        vis(found.directions),
    )


def test_each_coloured_concept_is_pictured_in_its_part_colour(pictured):
    found, shown, vis, result = pictured
    assert vis.preset == "bounded" and result.images.shape == (len(shown), 24, 24, 3)
    checked = 0
    for c, row in enumerate(shown):
        part = np.bincount(row, minlength=len(PARTS) + 1).argmax()
        if part == 0 or (row == part).mean() < 0.8 or PARTS[part - 1] not in COLOUR:
            continue  # not a pure coloured part
        mean = result.images[c].mean(axis=(0, 1))
        assert mean.argmax() == COLOUR[PARTS[part - 1]], (c, PARTS[part - 1], mean)
        checked += 1
    assert checked >= 3


def test_each_picture_raises_its_concept_and_the_variable_is_reassigned(pictured):
    found, _, vis, result = pictured
    assert (result.objective > result.start_objective).all()
    # Another bank: the same trace, other pictures.
    again = vis(found.directions[::-1].copy(), steps=8)
    assert again.images.shape == result.images.shape
    with pytest.raises(ValueError, match="directions must be"):
        vis(found.directions[:2])
