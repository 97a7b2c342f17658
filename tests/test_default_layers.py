"""Default layers on real architectures: stem, middle stage, last feature map."""

from __future__ import annotations

import keras
import pytest

from tb_netviz.methods.common import default_layers

ZOO = {
    "VGG16": ["block1_conv1", "block3_pool", "block5_pool"],
    "ResNet50": ["conv1_relu", "conv4_block1_out", "conv5_block3_out"],
    "MobileNetV2": ["Conv1_relu", "block_8_add", "out_relu"],
    "EfficientNetB0": ["stem_activation", "block4c_add", "top_activation"],
    "DenseNet121": ["conv1_relu", "conv4_block11_concat", "relu"],
    "MobileNet": ["conv1_relu", "conv_pw_6_relu", "conv_pw_13_relu"],
}


@pytest.mark.parametrize("name", sorted(ZOO))
def test_keras_applications(name):
    model = getattr(keras.applications, name)(weights=None, input_shape=(64, 64, 3))
    chosen = default_layers.choose(model)
    assert [c.path for c in chosen] == ZOO[name]
    assert "first non-linearity" in chosen[0].reason
    assert "middle of the network" in chosen[1].reason
    assert "before GlobalAveragePooling2D" in chosen[2].reason or name == "VGG16"
    head = {t._keras_history[0].name for t in model.outputs}
    assert not head & {c.path for c in chosen}  # never the classifier


def test_nested_backbone_is_found_by_path():
    base = keras.applications.ResNet50(
        weights=None, input_shape=(64, 64, 3), include_top=False
    )
    inp = keras.Input((64, 64, 3))
    out = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(base(inp)))
    chosen = default_layers.choose(keras.Model(inp, out))
    assert [c.path for c in chosen] == [
        "resnet50/conv1_relu",
        "resnet50/conv4_block1_out",
        "resnet50/conv5_block3_out",
    ]


def test_stem_without_nonlinearity_is_the_first_conv():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(2, 3, name="c1"),
            keras.layers.Conv2D(2, 3, name="c2"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(2, name="out"),
        ]
    )
    chosen = default_layers.choose(model)
    assert [c.path for c in chosen] == ["c1", "c2"]
    assert chosen[0].reason.startswith("the first convolution")


def test_mlp_gets_its_hidden_dense_layers_and_nothing_is_an_error():
    mlp = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3, name="h1"),
            keras.layers.Dense(2, name="h2"),
            keras.layers.Dense(1, name="out"),
        ]
    )
    assert [c.path for c in default_layers.choose(mlp)] == ["h1", "h2"]
    bare = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, name="out")])
    with pytest.raises(ValueError, match="no spatial or hidden dense layer.*out"):
        default_layers.choose(bare)


def test_regularization_layer_is_the_first_nonlinearity_before_the_layer():
    model = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3))
    reg = default_layers.regularization_layer
    assert reg(model, "conv4_block1_out") == "conv1_relu"
    assert reg(model, "conv1_relu") is None  # nothing non-linear before it
    assert reg(model, "conv1_conv") is None
