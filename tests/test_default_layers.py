"""Default layers on real architectures: stem, middle stage, last feature map."""

from __future__ import annotations

import keras
import pytest

from tb_netviz import config
from tb_netviz.methods.common import class_scores, default_layers

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


def all_conv_classifier(after_scores=()) -> keras.Model:
    """conv - pool - conv - 1x1 class conv (7) - [after_scores] - GAP - softmax."""
    return keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(8, 3, activation="relu", name="c1"),
            keras.layers.MaxPooling2D(name="pool"),
            keras.layers.Conv2D(16, 3, activation="relu", name="c2"),
            keras.layers.Conv2D(7, 1, name="classes"),
            *after_scores,
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Softmax(name="probs"),
        ]
    )


@pytest.mark.parametrize(
    "after_scores",
    [
        (),
        (keras.layers.ReLU(name="classes_relu"),),  # SqueezeNet's head
        (keras.layers.BatchNormalization(name="bn"), keras.layers.ReLU(name="r")),
    ],
    ids=["plain", "relu", "bn-relu"],
)
def test_all_conv_classifier_shows_the_features_not_the_class_scores(after_scores):
    model = all_conv_classifier(after_scores)
    chosen = default_layers.choose(model)
    assert [c.path for c in chosen] == ["c1", "pool", "c2"]
    assert chosen[-1].reason == (
        "the last feature map before the class convolution classes"
    )
    notes = class_scores.notes(model)
    assert notes["classes"] == "7 channels = the model's outputs"
    assert notes["gap"] == notes["probs"] == "7 units = the model's outputs"
    assert "c2" not in notes and "pool" not in notes
    for layer in after_scores:
        assert notes[layer.name] == "7 channels = the model's outputs"


def test_only_the_head_of_an_ordinary_classifier_is_the_outputs():
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(4, 3, activation="relu", name="c1"),  # 4 = classes
            keras.layers.Conv2D(4, 3, activation="relu", name="c2"),
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(4, name="logits"),
        ]
    )
    assert class_scores.notes(model) == {"logits": "4 units = the model's outputs"}
    assert [c.path for c in default_layers.choose(model)] == ["c1", "c2"]
    # Keras' MobileNet pools first, then its class convolution: labelled, not picked.
    mobilenet = keras.applications.MobileNet(weights=None, input_shape=(64, 64, 3))
    notes = class_scores.notes(mobilenet)
    assert notes["conv_preds"] == "1000 channels = the model's outputs"
    assert "conv_pw_13_relu" not in notes


def test_class_scores_are_labelled_where_layers_are_printed(capsys):
    model = all_conv_classifier()
    config.choose_layers(model, ["c2", "classes"], "NetVizCallback: layers=[...]")
    assert capsys.readouterr().out == (
        "NetVizCallback: layer classes: 7 channels = the model's outputs (class scores)\n"
    )
    bare = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(3, 3, name="scores"),
            keras.layers.GlobalMaxPooling2D(name="gmp"),
        ]
    )
    assert config.choose_layers(bare, None, "tb-netviz: --layers not given") == [
        "scores"
    ]
    out = capsys.readouterr().out
    # Nothing comes before the class convolution: it is shown, and labelled.
    assert (
        "showing scores (the last feature map before GlobalMaxPooling2D; "
        "3 channels = the model's outputs)\n"
    ) in out


def test_a_class_convolution_inside_a_nested_backbone():
    inner_in = keras.Input((12, 12, 3))
    h = keras.layers.Conv2D(6, 3, activation="relu", name="c1")(inner_in)
    h = keras.layers.Conv2D(3, 1, name="scores")(h)
    backbone = keras.Model(inner_in, h, name="backbone")
    inp = keras.Input((12, 12, 3))
    x = keras.layers.GlobalAveragePooling2D(name="gap")(backbone(inp))
    model = keras.Model(inp, keras.layers.Softmax(name="probs")(x))
    assert default_layers.choose(model)[-1] == default_layers.Choice(
        "backbone/c1",
        "the last feature map before the class convolution backbone/scores",
    )
    assert sorted(class_scores.notes(model)) == ["backbone/scores", "gap", "probs"]
