"""Acceptance of issue 10 with the default preset ("auto"), fixed seeds.

Three models trained here on generated data (`ascent_models.py`): the
demo CNN, a 28x28x1 strokes CNN and a residual CNN with batch norm and 10 conv
layers. For every conv layer: >= 90% of the live channels' images excite their
channel more than every training image ("beats_data") and more than the other
channels' images do ("beats_others"); the share of pixels at a bound exceeds
the training images' own share by <= 10 points ("excess_at_bounds"); every
channel whose picture shows nothing is flagged dead. Steps are cut to
`STEPS` to keep the file near a minute; `benchmarks/ascent_readability.py`
measures the same figures at the recipes' full steps. The criteria the
default does not meet yet (`GAPS`) are not asserted here: they are listed in
the README and the issue; every other one is asserted.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
import pytest
from ascent_models import acceptance, conv_layers, residual_cnn, strokes, trained

from tb_netviz.loggers.ascent import EXAMPLES_FOR_ASCENT
from tb_netviz.methods.ascent import FeatureVisualizer
from tb_netviz.pictures import ascent as pictures

LAYERS = {
    "demo": ["conv1", "conv2"],
    "strokes": ["conv1", "conv2"],
    "resnet": ["conv0", "b1_conv1", "b2_conv2", "b3_proj", "b4_conv2"],
}


@functools.cache
def measured(kind: str, layer: str) -> tuple[dict, dict]:
    model, x = trained(kind)
    assert layer in conv_layers(model)
    vis = FeatureVisualizer(
        model, layer, examples=x[:EXAMPLES_FOR_ASCENT], verbose=False
    )
    result = vis(list(range(vis.n_channels)), seed=0)
    flags = pictures.flags(
        result.images,
        vis.input_range,
        result.objective,
        result.start_objective,
        result.gradient,
    )
    figures = acceptance(model, x, layer, result)
    figures["preset"] = result.settings["preset"]
    start = result.start_objective.tolist()
    return figures, flags | {"objective": result.objective.tolist(), "start": start}


CASES = [(kind, layer) for kind, layers in LAYERS.items() for layer in layers]


@pytest.mark.parametrize("kind, layer", CASES)
def test_no_picture_that_shows_nothing_is_left_unflagged(kind, layer):
    _, flags = measured(kind, layer)
    rows = zip(flags["objective"], flags["start"], flags["dead"], flags["constant"])
    for obj, start, dead, const in rows:
        # Nothing shown: no rise, or a ReLU channel still at zero everywhere.
        if not obj > start or (obj == 0 and start >= 0):
            assert dead or const


FIGURES = ("beats_data", "beats_others", "excess_low", "excess_high")
CRITERIA = [(kind, layer, figure) for kind, layer in CASES for figure in FIGURES]


@pytest.mark.parametrize("kind, layer, figure", CRITERIA)
def test_the_default_meets_every_acceptance_criterion(kind, layer, figure):
    figures, _ = measured(kind, layer)
    assert figures["preset"] == "bounded"  # what "auto" picks below 64 px
    value = figures[figure]
    assert np.isfinite(value)
    if figure.startswith("excess"):
        assert value <= 0.10, (kind, layer, figures)
    else:
        assert value >= 0.9, (kind, layer, figures)


def test_strokes_are_thin_white_lines_on_black():
    x, y = strokes(64, 1)
    assert x.shape == (64, 28, 28, 1) and x.min() == 0 and x.max() == 1
    assert 0.6 < (x == 0).mean() < 0.95 and set(y) == {0, 1, 2, 3}


def test_residual_cnn_has_ten_conv_layers_and_batch_norm():
    model = residual_cnn()
    assert len(conv_layers(model)) == 10
    assert any(isinstance(la, keras.layers.BatchNormalization) for la in model.layers)
