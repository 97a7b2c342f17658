"""The plugin through real event files, TensorBoard's WSGI app and a test client."""

from __future__ import annotations

import logging

import logs
import numpy as np
import pytest
import tensorflow as tf
from plugin_client import PREFIX, make_client

from tb_netviz.plugin import _frontend_dir, logdir_name


def _write_run(path: str, steps=(0, 1, 2), samples: int = 2) -> None:
    rng = np.random.default_rng(0)
    with logs.event_writer(path):
        for step in steps:
            acts = rng.normal(size=(samples, 6, 5, 3)).astype(np.float32)
            assert logs.activations_record("block/conv", acts, step)
            assert logs.activations_record("dense", acts[:, 0, 0, :], step)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("plugin_logs")
    _write_run(str(root / "a" / "netviz"))
    _write_run(str(root / "b" / "netviz"), steps=(5,), samples=1)
    return str(root)


@pytest.fixture(scope="module")
def client(logdir):
    return make_client(logdir)[0]


def test_runs_listing_is_exact(client):
    response = client.get(f"{PREFIX}/runs")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    body = response.json
    for run in body["runs"].values():
        for layers in run.values():
            for entry in layers.values():
                assert isinstance(entry.pop("max_wall_time"), float)
    assert body == {
        "runs": {
            "a/netviz": {
                "activations": {
                    "block/conv": {
                        "tag": "activations/block/conv",
                        "max_step": 2,
                        "samples": 2,
                    },
                    "dense": {"tag": "activations/dense", "max_step": 2, "samples": 2},
                }
            },
            "b/netviz": {
                "activations": {
                    "block/conv": {
                        "tag": "activations/block/conv",
                        "max_step": 5,
                        "samples": 1,
                    },
                    "dense": {"tag": "activations/dense", "max_step": 5, "samples": 1},
                }
            },
        }
    }


def test_steps_carry_the_step_json(client):
    response = client.get(
        f"{PREFIX}/steps", query_string={"run": "a/netviz", "tag": "activations/dense"}
    )
    assert response.status_code == 200
    assert response.content_type == "application/json"
    body = response.json
    assert (body["run"], body["tag"]) == ("a/netviz", "activations/dense")
    assert [s["step"] for s in body["steps"]] == [0, 1, 2]
    info = body["steps"][0]["info"]
    assert body["steps"][0]["samples"] == 2
    assert info["version"] == 2
    assert (info["kind"], info["layer"]) == ("activations", "dense")
    assert info["layout"] == {
        "rows": 1,
        "cols": 3,
        "tile_height": 1,
        "tile_width": 1,
        "pad": 0,
    }
    assert info["channels"] == [0, 1, 2]
    assert info["output_shape"] == [2, 3]
    assert np.array(info["ranges"]).shape == (2, 3, 2)


def test_image_is_the_png_grid(client):
    response = client.get(
        f"{PREFIX}/image",
        query_string={
            "run": "a/netviz",
            "tag": "activations/block/conv",
            "step": 1,
            "sample": 1,
        },
    )
    assert response.status_code == 200
    assert response.content_type == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    image = tf.io.decode_png(response.data).numpy()
    # 3 channels of 6x5 -> 2 columns, 2 rows, pad 1.
    assert image.shape == (13, 11, 1)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({}, 400, "'run' is required"),
        ({"run": "a/netviz"}, 400, "'tag' is required"),
        ({"run": "a/netviz", "tag": "activations/dense"}, 400, "'step' is required"),
        (
            {"run": "a/netviz", "tag": "activations/dense", "step": "-1", "sample": 0},
            400,
            "non-negative integer",
        ),
        (
            {"run": "a/netviz", "tag": "activations/dense", "step": "1e3", "sample": 0},
            400,
            "non-negative integer",
        ),
        (
            {"run": "zzz", "tag": "activations/dense", "step": 0, "sample": 0},
            404,
            "no NetViz data",
        ),
        (
            {"run": "a/netviz", "tag": "activations/nope", "step": 0, "sample": 0},
            404,
            "no NetViz data",
        ),
        (
            {"run": "a/netviz", "tag": "activations/dense", "step": 7, "sample": 0},
            404,
            "has no step 7",
        ),
        (
            {"run": "a/netviz", "tag": "activations/dense", "step": 0, "sample": 2},
            404,
            "sample 2 does not exist",
        ),
    ],
)
def test_image_errors_are_plain_4xx(client, query, status, message):
    response = client.get(f"{PREFIX}/image", query_string=query)
    assert response.status_code == status
    assert response.content_type == "text/plain; charset=utf-8"
    assert message in response.get_data(as_text=True)


def test_repeated_parameter_is_rejected(client):
    response = client.get(f"{PREFIX}/steps?run=a%2Fnetviz&run=b%2Fnetviz&tag=x")
    assert response.status_code == 400


def test_steps_unknown_tag_is_404(client):
    response = client.get(
        f"{PREFIX}/steps", query_string={"run": "a/netviz", "tag": "ascent/dense"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/static/../plugin.py",
        "/static/%2e%2e/plugin.py",
        "/static/..%2fplugin.py",
        "/static//etc/passwd",
        "/static/..\\plugin.py",
        "/static/nothere.js",
        "/static/",
        "/static/views/../app.js",
        "/static/views/%2e%2e/app.js",
        "/static/views\\view_units.js",
        "/static/views//view_units.js",
        "/static/./app.js",
        "/static/views/",
        "/static/views",
        "/static/view_units.js",
        "/static/shared/../../plugin.py",
    ],
)
def test_static_path_guard(client, path):
    response = client.get(PREFIX + path)
    assert response.status_code == 404
    assert response.content_type == "text/plain; charset=utf-8"


def test_frontend_files_are_served(client):
    response = client.get(f"{PREFIX}/index.js")
    assert response.status_code == 200
    assert response.content_type == "text/javascript; charset=utf-8"
    assert b"export" in response.data


@pytest.mark.parametrize(
    "name, ctype",
    [
        ("app.js", "text/javascript"),
        ("style.css", "text/css"),
        ("views/view_units.js", "text/javascript"),
        ("views/unit_page.js", "text/javascript"),
        ("shared/state.js", "text/javascript"),
    ],
)
def test_static_files_in_subfolders_are_served(client, name, ctype):
    response = client.get(f"{PREFIX}/static/{name}")
    assert response.status_code == 200
    assert response.content_type == f"{ctype}; charset=utf-8"
    assert response.data == (_frontend_dir() / name).read_bytes()


def test_plugin_listing_names_the_tab(client):
    listing = client.get("/data/plugins_listing").json["netviz"]
    assert listing["enabled"] is True
    assert listing["tab_name"] == "NetViz"
    assert listing["loading_mechanism"] == {
        "type": "IFRAME",
        "module_path": "/data/plugin/netviz/index.js",
    }


def test_sampling_keeps_every_step_by_default_and_obeys_an_explicit_hint(tmp_path):
    _write_run(str(tmp_path / "long" / "netviz"), steps=range(25), samples=1)
    query = {"run": "long/netviz", "tag": "activations/dense"}
    for hints in (None, {"netviz": 0}):  # NetViz's default (1000), then "all"
        client = make_client(str(tmp_path), hints)[0]
        steps = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
        assert [s["step"] for s in steps] == list(range(25))
    few = make_client(str(tmp_path), {"netviz": 10})[0]
    kept = few.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    assert len(kept) == 10 and kept[-1]["step"] == 24  # reservoir keeps the newest
    # Images and step JSON are sampled alike: every kept step has its image.
    for step in kept:
        image = few.get(
            f"{PREFIX}/image", query_string={**query, "step": step["step"], "sample": 0}
        )
        assert image.status_code == 200


def _write_raw(path: str, tag: str, content: bytes, value, blobs=True) -> None:
    with logs.event_writer(path):
        logs.raw(tag, value, 0, content, blobs)


def test_newer_version_and_bad_metadata_are_skipped_with_one_warning(tmp_path, caplog):
    _write_run(str(tmp_path / "good" / "netviz"), steps=(0,), samples=1)
    future = b'{"version": 99, "kind": "activations", "layer": "x"}'
    _write_raw(str(tmp_path / "future" / "netviz"), "activations/x", future, [b"{}"])
    _write_raw(str(tmp_path / "broken" / "netviz"), "activations/y", b"{not", [b"{}"])
    client = make_client(str(tmp_path))[0]
    with caplog.at_level(logging.WARNING, logger="tb_netviz.reader"):
        for _ in range(3):
            runs = client.get(f"{PREFIX}/runs").json["runs"]
    assert sorted(runs) == ["good/netviz"]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2
    assert any("newer than this reader" in w for w in warnings)
    assert any("unreadable NetViz metadata" in w for w in warnings)


@pytest.mark.parametrize("version", [1, 2])
def test_unreadable_step_json_is_reported_not_500(tmp_path, version):
    png = tf.io.encode_png(np.zeros((2, 2, 1), np.uint8)).numpy()
    if version == 1:
        content = b'{"version": 1, "kind": "activations", "layer": "x"}'
        _write_raw(str(tmp_path / "r"), "activations/x", content, [b"\xff\xfe", png])
    else:
        head = b'{"version": 2, "kind": "activations", "layer": "x", "series": '
        _write_raw(str(tmp_path / "r"), "activations/x", head + b'"images"}', [png])
        info = head + b'"info"}'
        _write_raw(str(tmp_path / "r2"), "activations.info/x", info, b"\xff\xfe", False)
    client = make_client(str(tmp_path))[0]
    run = "r" if version == 1 else "r2"
    steps = client.get(
        f"{PREFIX}/steps", query_string={"run": run, "tag": "activations/x"}
    ).json["steps"]
    assert steps[0]["info"] is None
    assert "unreadable step JSON" in steps[0]["error"]


@pytest.mark.parametrize(
    ("folders", "run"),
    [
        (("mymodel",), "."),  # events in the logdir itself
        (("mymodel", "netviz"), "."),  # `tensorboard --logdir logs/mymodel/netviz`
        (("mymodel",), "netviz"),  # the writer's <logdir>/netviz, served from <logdir>
    ],
)
def test_a_logdir_that_is_itself_a_run_is_named_by_its_folder(tmp_path, folders, run):
    logdir = tmp_path.joinpath(*folders)
    _write_run(str(logdir / run), steps=(0,), samples=1)
    client = make_client(str(logdir))[0]
    body = client.get(f"{PREFIX}/runs").json
    assert list(body["runs"]) == [run] and body["logdir_name"] == "mymodel"
    # Requests keep TensorBoard's run id.
    query = {"run": run, "tag": "activations/dense", "step": 0, "sample": 0}
    assert client.get(f"{PREFIX}/image", query_string=query).status_code == 200


@pytest.mark.parametrize(
    ("location", "name"),
    [
        ("gs://bucket/exp/netviz/", "exp"),
        ("gs://bucket", "bucket"),
        ("/logs/netviz", "logs"),
        ("/netviz", "netviz"),
        ("C:\\logs\\exp", "exp"),
        ("/", ""),
        ("", ""),
    ],
)
def test_logdir_name(location, name):
    assert logdir_name(location) == name


def test_a_relative_logdir_is_named_as_tensorboard_resolves_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path / ".")
    assert logdir_name(".") == tmp_path.name
    assert logdir_name("./") == tmp_path.name
