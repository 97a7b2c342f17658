"""The model map in the panel: the layer tree (filter, shapes, data marks,
nested models folded) and the map view (blocks that open their layer), on a
ResNet50 (`weights=None`, 64×64 inputs) logged with the loggers in a custom
loop, a small model with a nested one, and a run without a model map."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium is not at /usr/bin/chromium", allow_module_level=True)

from browser_util import Panel, TensorBoard, activation_event, wait_ready, write_events

pytest_plugins = ["browser_util"]

RESNET_LAYERS = [
    "conv1_relu",
    "conv2_block1_out",
    "conv3_block4_out",
    "conv5_block3_out",
]


def log_run(model, probe, layers, run_dir: Path) -> None:
    """The model map, the probe and activations of `layers` at step 0."""
    import tensorflow as tf

    from tb_netviz.loggers import ActivationsLogger, ModelLogger, ProbeLogger

    loggers = [
        ModelLogger(model),
        ProbeLogger(model, probe),
        ActivationsLogger(model, probe, layers),
    ]
    writer = tf.summary.create_file_writer(str(run_dir))
    with writer.as_default():
        for logger in loggers:
            assert logger.log(0), logger.failures
    writer.close()


def make_model_logdir(root: Path) -> Path:
    """Runs `resnet50` (175 layers), `nested` (a Sequential inside a functional
    model) and `old` (activations only, no model map)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    resnet = keras.applications.ResNet50(
        weights=None, input_shape=(64, 64, 3), classes=10
    )
    probe = rng.uniform(0, 1, (2, 64, 64, 3)).astype("float32")
    log_run(resnet, probe, RESNET_LAYERS, root / "resnet50" / "netviz")

    backbone = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(4, 3, activation="relu", name="inner_conv"),
            keras.layers.MaxPooling2D(name="inner_pool"),
        ],
        name="backbone",
    )
    inputs = keras.Input((16, 16, 3), name="image")
    x = backbone(inputs)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="head_conv")(x)
    outputs = keras.layers.Dense(2, name="logits")(keras.layers.Flatten()(x))
    nested = keras.Model(inputs, outputs, name="nested_model")
    small = rng.uniform(0, 1, (2, 16, 16, 3)).astype("float32")
    log_run(
        nested, small, ["backbone/inner_conv", "head_conv"], root / "nested" / "netviz"
    )

    x = np.maximum(rng.normal(size=(2, 8, 8, 4)), 0).astype(np.float32)
    write_events(root / "old" / "netviz", [activation_event("conv1", x, 0)])
    return root


@pytest.fixture(scope="module")
def model_panel(tmp_path_factory, browser):
    root = tmp_path_factory.mktemp("model_map") / "logs"
    root.mkdir()
    make_model_logdir(root)
    with TensorBoard(root, load_fast=False) as tb:
        tb.runs = tb.wait_for_runs(3)
        p = Panel(browser, tb.url)
        yield p
        p.close()


@pytest.fixture
def mp(model_panel):
    yield model_panel
    problems, model_panel.problems = model_panel.problems, []
    assert not problems, problems


def tree_rows(frame) -> list[dict]:
    return frame.eval_on_selector_all(
        ".nv-tree .nv-tree-row",
        """rows => rows.map(r => ({path: r.dataset.path, data: r.classList.contains('nv-has-data'),
            text: r.textContent, expanded: r.getAttribute('aria-expanded')}))""",
    )


def test_filter_the_tree_of_resnet50_and_open_a_layer(mp):
    mp.only("resnet50/netviz")
    frame = mp.frame
    assert frame.is_visible(".nv-tree-box")
    summary = frame.text_content(".nv-tree-summary")
    assert "resnet50 · 177 layers" in summary and "4 with data here" in summary
    rows = tree_rows(frame)
    assert len(rows) == 177
    assert [r["path"] for r in rows if r["data"]] == RESNET_LAYERS
    frame.fill(".nv-tree-filter", "conv3_block4_o")
    rows = tree_rows(frame)
    assert [r["path"] for r in rows] == ["conv3_block4_out"]
    assert rows[0]["text"].endswith("8×8×512")  # the output shape
    assert "Activation · output 8×8×512" in frame.get_attribute(
        ".nv-tree-row[data-path=conv3_block4_out]", "title"
    )
    mp.act(lambda f: f.click(".nv-tree-row[data-path=conv3_block4_out]"))
    assert mp.layer() == "conv3_block4_out"
    assert frame.text_content(".nv-view-head h2") == "Activations · conv3_block4_out"
    assert frame.is_visible(".nv-tree-row.nv-chosen[data-path=conv3_block4_out]")
    # A filter on class and shape; rows without data are not selectable.
    frame.fill(".nv-tree-filter", "Conv2D 2×2×2048")
    rows = tree_rows(frame)
    assert rows and all("2×2×2048" in r["text"] and not r["data"] for r in rows)
    first = f".nv-tree-row[data-path={rows[0]['path']}]"
    assert frame.get_attribute(first, "aria-disabled") == "true"
    mp.act(lambda f: f.click(first, force=True))
    assert mp.layer() == "conv3_block4_out"
    frame.fill(".nv-tree-filter", "")


def test_map_view_renders_resnet50_and_a_block_opens_its_layer(mp):
    mp.only("resnet50/netviz")
    mp.act(lambda f: f.click("button[data-view=model]"))
    frame = mp.frame
    assert frame.get_attribute(".nv-map", "data-blocks") == "177"
    assert "177 layers" in frame.text_content(".nv-view-head")
    with_data = frame.eval_on_selector_all(
        ".nv-block.nv-has-data", "bs => bs.map(b => b.dataset.path)"
    )
    assert with_data == RESNET_LAYERS
    # Blocks say class, name and shape; edges are drawn.
    block = frame.text_content(".nv-block[data-path=conv1_conv]")
    assert "Conv2D" in block and "conv1_conv" in block and "32×32×64" in block
    assert len(frame.get_attribute(".nv-edge", "d")) > 1000
    # Blocks do not overlap.
    boxes = frame.eval_on_selector_all(
        ".nv-block", "bs => bs.map(b => [b.offsetLeft, b.offsetTop])"
    )
    assert len(set(map(tuple, boxes))) == 177
    mp.act(lambda f: f.click(".nv-block[data-path=conv2_block1_out]"))
    assert frame.get_attribute(".nv-view", "data-view") == "activations"
    assert mp.layer() == "conv2_block1_out"
    assert "p.netviz.layer=conv2_block1_out" in mp.host_hash()


def test_nested_model_folded_in_tree_and_map(mp):
    mp.only("nested/netviz")
    frame = mp.frame
    rows = tree_rows(frame)
    # The layer shown (head_conv, the commonest) is outside: backbone stays folded.
    paths = [r["path"] for r in rows]
    if mp.layer() == "head_conv":
        assert "backbone/inner_conv" not in paths
        backbone = next(r for r in rows if r["path"] == "backbone")
        assert backbone["expanded"] == "false"
        frame.click(".nv-tree-row[data-path=backbone] .nv-tree-toggle")
        paths = [r["path"] for r in tree_rows(frame)]
    assert (
        paths[paths.index("backbone") + 1 : paths.index("backbone") + 4]
        == [
            "backbone/input_layer",
            "backbone/inner_conv",
            "backbone/inner_pool",
        ]
        or "backbone/inner_conv" in paths
    )
    mp.act(lambda f: f.click(".nv-tree-row[data-path='backbone/inner_conv']"))
    assert mp.layer() == "backbone/inner_conv"
    # The map shows the nested model as one block that opens its own map.
    mp.act(lambda f: f.click("button[data-view=model]"))
    assert frame.is_visible(".nv-block.nv-container[data-path=backbone]")
    assert not frame.query_selector(".nv-block[data-path='backbone/inner_conv']")
    mp.act(lambda f: f.click(".nv-block[data-path=backbone]"))
    assert frame.get_attribute(".nv-view", "data-scope") == "backbone"
    mp.act(lambda f: f.click(".nv-block[data-path='backbone/inner_conv']"))
    assert frame.get_attribute(".nv-view", "data-view") == "activations"
    assert mp.layer() == "backbone/inner_conv"


def test_runs_without_a_model_map_keep_the_plain_list(mp):
    mp.only("old/netviz")
    frame = mp.frame
    assert not frame.is_visible(".nv-tree-box")
    assert mp.layer() == "conv1"
    assert frame.is_disabled("button[data-view=model]") is False  # another run has one
    mp.act(lambda f: f.click("button[data-view=model]"))
    assert "No model data" in frame.text_content(".nv-main")
    mp.act(lambda f: f.click("button[data-view=activations]"))
    wait_ready(frame)
