"""Bad input to attribution: a clear error at construction, before anything runs,
that says what works instead."""

import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
from attribution_models import CamNet, region_model

from tb_netviz.methods import Attributor, Faithfulness, attribution
from tb_netviz.methods.attributions import METHODS


@pytest.fixture(scope="module")
def cnn():
    return CamNet().model()


def _image_head(inp, x, units=3, activation="softmax"):
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, keras.layers.Dense(units, activation=activation)(x))


def test_token_ids_are_refused_with_what_works_instead():
    inp = keras.Input((12,), dtype="int32", name="tokens")
    h = keras.layers.Embedding(50, 8)(inp)
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(h))
    with pytest.raises(
        ValueError, match=r"image inputs.*int32.*token ids.*activations"
    ):
        Attributor(keras.Model(inp, out))


def test_a_non_image_float_input_is_refused():
    inp = keras.Input((10,))
    model = keras.Model(inp, keras.layers.Dense(3, activation="softmax")(inp))
    with pytest.raises(
        ValueError, match=r"image inputs \(batch, H, W, C\).*\(None, 10\)"
    ):
        Attributor(model, "saliency")


def test_two_inputs_are_refused():
    a, b = keras.Input((8, 8, 1)), keras.Input((8, 8, 1))
    x = keras.layers.Concatenate()([a, b])
    model = keras.Model([a, b], keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    with pytest.raises(ValueError, match="one image input; .* has 2"):
        Attributor(model, "saliency")


def test_several_outputs_say_how_to_pick_one():
    inp = keras.Input((8, 8, 1))
    h = keras.layers.Flatten()(inp)
    model = keras.Model(inp, [keras.layers.Dense(2)(h), keras.layers.Dense(3)(h)])
    with pytest.raises(ValueError, match=r"has 2 outputs.*model\.outputs\[i\]"):
        Attributor(model, "saliency")


@pytest.mark.parametrize("kind", ["per_position", "embedding"])
def test_outputs_without_classes_point_to_activations(kind):
    inp = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(4, 3, padding="same")(inp)
    if kind == "embedding":
        h = keras.layers.UnitNormalization()(keras.layers.Flatten()(h))
    with pytest.raises(
        ValueError, match=r"(not a class output|embedding).*activations"
    ):
        Attributor(keras.Model(inp, h), "saliency")


@pytest.mark.parametrize("how", ["loss", "activation"])
def test_a_many_output_regressor_says_what_works(how):
    inp = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(4, 3)(inp)
    model = _image_head(inp, h, 3, "linear" if how == "loss" else "tanh")
    if how == "loss":
        model.compile(loss="mse")
    with pytest.raises(ValueError, match=r"many-output regressor.*y\[:, i:i\+1\]"):
        Attributor(model, "saliency")


def test_a_one_output_regressor_works():
    model = region_model()
    model.compile(loss="mse")
    x = np.ones((1, 8, 8, 1), np.float32)
    assert attribution(model, x, "saliency").shape == (1, 1, 8, 8)


def test_a_cam_layer_without_spatial_structure_lists_the_spatial_ones(cnn):
    with pytest.raises(
        ValueError,
        match=r"'probs' has output shape \(None, 3\).*Spatial layers: conv, mix",
    ):
        Attributor(cnn, "gradcam", layer="probs")
    with pytest.raises(ValueError, match="no layer 'nope'"):
        Attributor(cnn, "gradcam", layer="nope")


def test_cams_of_a_model_without_spatial_layers_point_to_gradients():
    inp = keras.Input((4, 4, 2))
    h = keras.layers.Dense(5, activation="relu")(keras.layers.Flatten()(inp))
    model = keras.Model(inp, keras.layers.Dense(3)(h))
    with pytest.raises(ValueError, match="Spatial layers: none: use saliency or IG"):
        Attributor(model, ("saliency", "gradcam"))
    assert Attributor(model, "saliency").layer is None


def test_an_unknown_method_lists_the_methods(cnn):
    listed = re.escape(str(METHODS))
    with pytest.raises(ValueError, match=re.escape("['gradcam+']") + ".*" + listed):
        Attributor(cnn, ("saliency", "gradcam+"))
    with pytest.raises(ValueError, match="one name"):
        attribution(cnn, np.zeros((1, 8, 8, 2)), ["gradcam", "saliency"])


def test_an_unknown_option_is_a_type_error_naming_it(cnn):
    with pytest.raises(TypeError, match=r"\['n_samples'\].*samples"):
        Attributor(cnn, "smoothgrad", n_samples=8)
    with pytest.raises(TypeError, match=r"\['step'\]"):
        Faithfulness(cnn, step=4)


@pytest.mark.parametrize(
    "option",
    [
        {"samples": 0},
        {"steps": 2.5},
        {"steps": 1},
        {"keep": 1.5},
        {"noise": -1},
        {"baseline": "white"},
        {"fill": "black"},
        {"top_channels": 0},
        {"batch_size": True},
        {"input_range": (1, 0)},
    ],
)
def test_bad_option_values(cnn, option):
    with pytest.raises(ValueError, match=next(iter(option))):
        Attributor(cnn, "saliency", **option)


def test_bad_calls_say_what_fits(cnn):
    attributor = Attributor(cnn, "saliency")
    x = np.zeros((2, 8, 8, 2), np.float32)
    with pytest.raises(ValueError, match=r"\(N, 8, 8, 2\).*\(2, 8, 8, 3\)"):
        attributor(np.zeros((2, 8, 8, 3)), 0)
    with pytest.raises(ValueError, match=r"targets \[3\] out of range.*3 classes"):
        attributor(x, [0, 3])
    with pytest.raises(ValueError, match="one per input"):
        attributor(x, np.zeros((3, 1), int))
    with pytest.raises(ValueError, match="top_k"):
        attributor.targets(x, top_k=0)
    with pytest.raises(ValueError, match="baseline of shape"):
        Attributor(cnn, "integrated_gradients", baseline=np.zeros((3, 3, 2)))(x, 0)
    with pytest.raises(ValueError, match="occlusion needs"):
        Attributor(cnn, "occlusion", patch=9)


def test_bad_faithfulness_arguments(cnn):
    with pytest.raises(ValueError, match=r"'aopc'.*deletion"):
        Faithfulness(cnn, ("deletion", "aopc"))
    with pytest.raises(ValueError, match="share"):
        Faithfulness(cnn, share=1.0)
    with pytest.raises(ValueError, match="maps must be"):
        Faithfulness(cnn)(np.zeros((2, 8, 8, 2)), np.zeros((2, 1, 4, 4)), [[0], [1]])
