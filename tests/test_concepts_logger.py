"""The `concepts` kind's backend: a custom loop logs two steps of a small
model trained here, read back through the plugin (exact tags, ids kept
across steps, JSON keys and shapes, PNG layouts, scalars), configuration
errors at construction, failures that let training go on.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import logs
import numpy as np
import pytest
import tensorflow as tf
from concept_models import parts_cnn, parts_data
from logs import read_records
from models import nested_cnn, small_cnn
from plugin_client import PREFIX, make_client
from tensorboard.backend.event_processing import event_accumulator

from tb_netviz import metadata
from tb_netviz.loggers.concepts import Concepts, ConceptsLogger
from tb_netviz.loggers.spec import Context
from tb_netviz.methods.concepts import ConceptExtractor
from tb_netviz.pictures import concepts as pictures

LAYERS = ["conv2", "conv3"]
K, TOP, PROBES, FV_STEPS = 3, 4, 3, 24
KEYS = {
    "version", "kind", "layer", "samples", "method", "k", "directions_shape",
    "share", "ids", "new", "gone", "cosines", "importance", "stability",
    "unstable", "exemplars", "input_range", "explained", "explained_examples",
    "class_counts", "targets_source", "class_names", "examples", "patches",
    "iterations", "threshold", "field", "settings", "crops", "heatmaps",
    "fv", "images", "nonfinite", "seconds",
}  # fmt: skip


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """Two steps logged by a custom loop: `(log_dir, logger)`."""
    tmp = tmp_path_factory.mktemp("concepts")
    x, y, _ = parts_data(600, 0)
    model = parts_cnn()
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    hx, hy, _ = parts_data(200, 1)
    logger = ConceptsLogger(
        model, hx[:PROBES], hx, LAYERS, k=K, patches=1024, labels=hy,
        class_names=["a", "b", "c"], exemplars=TOP, fv_steps=FV_STEPS,
    )  # fmt: skip
    with logs.event_writer(tmp / "netviz"):
        assert logger.log(0)
        model.fit(x[:128], y[:128], epochs=1, batch_size=64, verbose=0)
        assert logger.log(1)
    assert logger.failures == []
    return tmp, logger


def steps_of(log_dir, tag):
    client = make_client(str(log_dir))[0]
    query = {"run": "netviz", "tag": tag}
    return client.get(f"{PREFIX}/steps", query_string=query).json["steps"]


def image(log_dir, tag, step, sample) -> np.ndarray:
    client = make_client(str(log_dir))[0]
    query = {"run": "netviz", "tag": tag, "step": step, "sample": sample}
    response = client.get(f"{PREFIX}/image", query_string=query)
    assert response.status_code == 200 and response.mimetype == "image/png"
    return tf.io.decode_png(response.data).numpy()


def shape_of(layout) -> tuple[int, int]:
    pad = layout["pad"]
    return (
        layout["rows"] * (layout["tile_height"] + pad) - pad,
        layout["cols"] * (layout["tile_width"] + pad) - pad,
    )


def test_two_steps_are_read_back_with_their_tags_and_keys(logged):
    log_dir, _ = logged
    assert read_records(log_dir / "netviz") == {
        "concepts/conv2": [0, 1],
        "concepts/conv3": [0, 1],
    }
    for layer in LAYERS:
        steps = steps_of(log_dir, f"concepts/{layer}")
        assert [s["step"] for s in steps] == [0, 1]
        for s in steps:
            info = s["info"]
            assert set(info) == KEYS
            assert info["kind"] == "concepts" and info["layer"] == layer
            assert info["k"] == K and info["directions_shape"] == [K, 32]
            assert info["samples"] == 3 and info["images"] == {
                "crops": 0,
                "heatmaps": 1,
                "fv": 2,
            }
            fv = info["fv"]
            assert fv["steps"] == fv["steps_done"] == FV_STEPS
            assert fv["preset"] == "bounded" and not fv["budget_exhausted"]
            assert len(fv["objective"]) == len(fv["flags"]["noise"]) == K
            assert sum(info["share"]) == pytest.approx(1, abs=1e-5)
            assert np.asarray(info["importance"]).shape == (K, 3)
            assert len(info["stability"]) == len(info["unstable"]) == K
            assert all(isinstance(u, bool) for u in info["unstable"])
            assert np.asarray(info["exemplars"]["indices"]).shape == (K, TOP)
            assert np.asarray(info["exemplars"]["boxes"]).shape == (K, TOP, 4)
            assert np.asarray(info["heatmaps"]["scales"]).shape == (PROBES, K, 2)
            assert info["targets_source"] == "label" and info["examples"] == 200
            assert info["class_names"] == ["a", "b", "c"]
            assert info["settings"]["k"] == K and 0 < info["explained"] <= 1


def test_ids_persist_from_the_first_step_to_the_second(logged):
    log_dir, logger = logged
    for layer in LAYERS:
        first, second = (s["info"] for s in steps_of(log_dir, f"concepts/{layer}"))
        assert first["ids"] == [0, 1, 2] and first["new"] == [0, 1, 2]
        assert first["gone"] == [] and first["cosines"] == [0, 0, 0]
        # A few batches of training later the bank is the same concepts.
        assert sorted(second["ids"]) == [0, 1, 2]
        assert second["new"] == [] and second["gone"] == []
        assert min(second["cosines"]) >= second["threshold"]
        assert logger.banks[layer][1].tolist() == second["ids"]


def test_the_images_decode_to_the_stated_layouts(logged):
    log_dir, _ = logged
    tag = "concepts/conv2"
    info = steps_of(log_dir, tag)[1]["info"]
    crops = info["crops"]["layout"]
    assert (crops["rows"], crops["cols"]) == (K, TOP)
    assert max(crops["tile_height"], crops["tile_width"]) <= 64
    grid = image(log_dir, tag, 1, info["images"]["crops"])
    assert grid.shape == (*shape_of(crops), 3)
    heat = info["heatmaps"]["layout"]
    assert (heat["rows"], heat["cols"]) == (PROBES, 1 + K)
    assert (heat["tile_height"], heat["tile_width"]) == (24, 24)
    grid = image(log_dir, tag, 1, info["images"]["heatmaps"])
    assert grid.shape == (*shape_of(heat), 3)
    # A heatmap tile is grey spanning its own [lo, hi]: 0 and 255 both occur.
    pad, th, tw = heat["pad"], heat["tile_height"], heat["tile_width"]
    for c in range(K):
        if not info["heatmaps"]["blank"][0][c]:
            x0 = (1 + c) * (tw + pad)
            tile = grid[:th, x0 : x0 + tw]
            assert (tile[..., 0] == tile[..., 1]).all()
            assert tile.min() == 0 and tile.max() == 255
    fv = info["fv"]["layout"]
    assert (fv["rows"], fv["cols"], fv["tile_height"]) == (1, K, 24)
    grid = image(log_dir, tag, 1, info["images"]["fv"])
    assert grid.shape == (*shape_of(fv), 3) and grid.std() > 0


def test_the_scalars_are_each_concepts_importance_and_share(logged):
    log_dir, _ = logged
    acc = event_accumulator.EventAccumulator(
        str(log_dir / "netviz"), size_guidance={event_accumulator.TENSORS: 0}
    )
    acc.Reload()
    tags = {t for t in acc.Tags()["tensors"] if t.startswith("netviz/concepts/")}
    want = {
        metadata.scalar_tag("concepts", layer, f"concept{i}", what)
        for layer in LAYERS
        for i in range(K)
        for what in ("share", "0", "1", "2")
    }
    assert tags == want
    for tag in want:
        assert acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars"
        assert [e.step for e in acc.Tensors(tag)] == [0, 1]


def test_an_unknown_layer_lists_the_layers():
    x = np.random.default_rng(0).random((16, 16, 16, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=r"no layer 'conv9'.*conv1.*conv2"):
        ConceptsLogger(small_cnn(), x[:2], x, ["conv9"])


def test_a_negative_layer_is_refused_at_construction():
    x = np.random.default_rng(0).random((16, 16, 16, 3)).astype(np.float32)
    with pytest.raises(
        ValueError,
        match=r"'backbone/block1_conv2'.*min -.*non-negative layers: "
        r"backbone/block1_conv1, probs\)",
    ):
        ConceptsLogger(nested_cnn(), x[:2], x, ["backbone/block1_conv2"], k=4)


def test_the_spec_builds_from_its_data_and_a_failure_is_a_warning(
    tmp_path, monkeypatch
):
    x = np.random.default_rng(0).random((16, 16, 16, 3)).astype(np.float32)
    with pytest.raises(TypeError, match="Concepts has no setting kk"):
        Concepts(x, kk=3)
    context = Context(small_cnn(), x[:2], None, ("conv2",), (0.0, 1.0), {})
    logger = Concepts(x, k=2, patches=64).build(context)
    assert isinstance(logger, ConceptsLogger) and logger.layers == ["conv2"]

    def broken(self, *args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(ConceptExtractor, "__call__", broken)
    with (
        logs.event_writer(tmp_path / "netviz"),
        pytest.warns(RuntimeWarning, match="could not log concepts"),
    ):
        assert not logger.log(4)
    assert [(f.kind, f.step, f.layer) for f in logger.failures] == [
        ("concepts", 4, "conv2")
    ]
    assert logger.banks == {}


def test_non_finite_numbers_are_null():
    assert pictures.finite([1.0, np.nan, np.inf]) == [1.0, None, None]
    assert pictures.finite([[0.5, -np.inf]]) == [[0.5, None]]


def test_a_fit_logs_concepts_with_ids_kept_over_epochs(tmp_path):
    from models import compiled, data

    from tb_netviz import NetVizCallback

    x, y = data(64)
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:3],
        layers=["conv2"],
        overhead_budget=None,
        ascent=None,
        deconv=None,
        sanity=None,
        concepts=Concepts(x, freq=1, k=3),
    )
    compiled(small_cnn()).fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    assert cb.failures == []
    assert read_records(f"{tmp_path}/netviz")["concepts/conv2"] == [0, 1]
    first, second = (s["info"] for s in steps_of(tmp_path, "concepts/conv2"))
    assert sorted(first["ids"]) == [0, 1, 2] and sorted(first["new"]) == [0, 1, 2]
    kept = set(first["ids"]) & set(second["ids"])
    assert kept == set(first["ids"]) - set(second["gone"])


def test_the_cli_factorizes_the_exemplars_data(tmp_path, capsys):
    from models import data

    from tb_netviz import cli

    path = tmp_path / "model.keras"
    small_cnn().save(path)
    np.save(tmp_path / "probe.npy", data(3)[0])
    np.save(tmp_path / "val.npy", data(40, seed=1)[0])
    base = ["log", str(path), "--probe", str(tmp_path / "probe.npy")]
    assert cli.main([*base, "--logdir", str(tmp_path / "a"), "--concepts"]) == 1
    assert "give them with --exemplars" in capsys.readouterr().err
    assert cli.main([
        *base, "--logdir", str(tmp_path / "b"), "--layers", "conv2",
        "--exemplars", str(tmp_path / "val.npy"), "--concepts",
    ]) == 0  # fmt: skip
    assert read_records(tmp_path / "b" / "netviz")["concepts/conv2"] == [0]
