"""The model map: every layer with class, shape, parameters, nesting and inputs."""

from __future__ import annotations

import keras
import logs
from models import nested_cnn, small_cnn
from plugin_client import PREFIX, make_client

from tb_netviz.loggers import ModelLogger
from tb_netviz.methods.common.model_map import model_map


def test_sequential_map_starts_at_its_input():
    layers = model_map(small_cnn())
    assert [e["path"] for e in layers][1:] == [
        "conv1",
        "pool",
        "conv2",
        "gap",
        "logits",
    ]
    first, conv1 = layers[0], layers[1]
    assert first["class"] == "InputLayer" and conv1["inbound"] == [first["path"]]
    assert conv1["output_shape"] == [None, 14, 14, 8]
    assert conv1["params"] == 3 * 3 * 3 * 8 + 8
    assert layers[-1]["inbound"] == ["gap"]
    # Only the classifier is the model's outputs (see test_default_layers).
    assert {e["path"]: e["outputs"] for e in layers if e["outputs"]} == {
        "logits": "4 units = the model's outputs"
    }


def test_nested_models_are_folded_under_their_parent():
    by_path = {e["path"]: e for e in model_map(nested_cnn())}
    backbone = by_path["backbone"]
    assert backbone["class"] == "Functional" and backbone["depth"] == 0
    assert backbone["params"] == sum(
        e["params"] for e in by_path.values() if e["parent"] == "backbone"
    )
    inner = by_path["backbone/block1_conv2"]
    assert (inner["parent"], inner["depth"]) == ("backbone", 1)
    assert inner["inbound"] == ["backbone/block1_conv1"]
    assert by_path["flat"]["inbound"] == ["backbone"]


def test_resnet50_map_is_logged_and_served(tmp_path):
    model = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3))
    with logs.event_writer(tmp_path / "r"):
        assert ModelLogger(model).log(0)
    client = make_client(str(tmp_path))[0]
    runs = client.get(f"{PREFIX}/runs").json["runs"]
    assert runs["r"]["model"]["graph"]["samples"] == 0
    query = {"run": "r", "tag": "model/graph"}
    (step,) = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    info = step["info"]
    assert info["name"] == model.name and info["layer_count"] == len(model.layers)
    assert info["params"] == model.count_params()
    add = next(e for e in info["layers"] if e["path"] == "conv2_block1_add")
    assert sorted(add["inbound"]) == ["conv2_block1_0_bn", "conv2_block1_3_bn"]
