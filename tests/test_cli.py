"""`tb-netviz`: look inside a saved model without training; serve the logs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from logs import read_records
from models import small_cnn
from plugin_client import PREFIX, make_client
from tb_process import free_port, get

from tb_netviz import cli


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small CNN saved as .keras, and a folder of PNG/JPEG images of other sizes."""
    root = tmp_path_factory.mktemp("cli")
    model_path = str(root / "model.keras")
    small_cnn().save(model_path)
    images = root / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i, size in enumerate([(16, 16), (20, 24), (16, 16)]):
        pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        encode = tf.io.encode_png if i != 1 else tf.io.encode_jpeg
        name = f"img{i}.png" if i != 1 else f"img{i}.jpg"
        tf.io.write_file(str(images / name), encode(pixels))
    tf.io.write_file(
        str(root / "gray.png"), tf.io.encode_png(np.zeros((16, 16, 1), np.uint8))
    )
    np.save(root / "probe.npy", rng.uniform(size=(2, 16, 16, 3)).astype(np.float32))
    (root / "garbage.keras").write_bytes(b"not a zip file")
    return root


def test_log_writes_every_kind_at_one_step(saved, tmp_path, capsys):
    logdir = str(tmp_path / "run")
    args = ["log", str(saved / "model.keras"), "--probe", str(saved / "images")]
    code = cli.main([*args, "--logdir", logdir, "--ascent", "--deconv", "--step", "7"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "img1.jpg is 24x20, resized to the model's 16x16" in out
    assert "--layers not given, showing conv1 (the stem's first non-linearity)" in out
    records = read_records(f"{logdir}/netviz")
    assert records == {
        tag: [7]
        for tag in [
            "model/graph",
            "probe/input",
            "activations/conv1",
            "activations/pool",
            "activations/conv2",
            "ascent/conv1",
            "ascent/pool",
            "ascent/conv2",
            "deconvnet/conv1",
            "deconvnet/pool",
            "deconvnet/conv2",
            "guided_backprop/conv1",
            "guided_backprop/pool",
            "guided_backprop/conv2",
            "units/conv1",
            "units/pool",
            "units/conv2",
        ]
    }
    assert (
        "tb-netviz: probe: 3 images of 16x16 pixels, 3 channels; PNG/JPEG values "
        "0..255 mapped linearly onto the input range 0..1 (the default)\n" in out
    )


def test_npy_probe_and_chosen_layers(saved, tmp_path):
    logdir = str(tmp_path / "npy")
    args = ["log", str(saved / "model.keras"), "--probe", str(saved / "probe.npy")]
    assert cli.main([*args, "--logdir", logdir, "--layers", "conv2", "logits"]) == 0
    assert sorted(read_records(f"{logdir}/netviz")) == [
        "activations/conv2",
        "activations/logits",
        "model/graph",
        "probe/input",
        "units/conv2",
        "units/logits",
    ]


def test_accentuations_of_the_probe(saved, tmp_path):
    logdir = str(tmp_path / "accent")
    args = ["log", str(saved / "model.keras"), "--probe", str(saved / "probe.npy")]
    extra = ["--layers", "conv2", "--accentuation"]
    assert cli.main([*args, "--logdir", logdir, *extra]) == 0
    assert sorted(read_records(f"{logdir}/netviz")) == [
        "accentuation/conv2",
        "activations/conv2",
        "model/graph",
        "probe/input",
        "units/conv2",
    ]


def test_sanity_of_a_saved_model_is_served(saved, tmp_path):
    logdir = tmp_path / "sane"
    args = ["log", str(saved / "model.keras"), "--probe", str(saved / "probe.npy")]
    assert (
        cli.main([*args, "--logdir", str(logdir), "--layers", "conv2", "--sanity"]) == 0
    )
    assert read_records(f"{logdir}/netviz")["sanity/conv2"] == [0]
    client = make_client(str(tmp_path))[0]
    query = {"run": "sane/netviz", "tag": "sanity/conv2"}
    step = client.get(f"{PREFIX}/steps", query_string=query).json["steps"][0]
    assert list(step["info"]["methods"]) == ["deconvnet", "guided_backprop", "gradient"]
    assert step["samples"] > 0


def test_examples_give_exemplars_and_unit_health(saved, tmp_path):
    logdir = str(tmp_path / "ex")
    args = ["log", str(saved / "model.keras"), "--probe", str(saved / "probe.npy")]
    extra = ["--exemplars", str(saved / "images"), "--layers", "conv1"]
    assert cli.main([*args, "--logdir", logdir, *extra]) == 0
    assert sorted(read_records(f"{logdir}/netviz")) == [
        "activations/conv1",
        "exemplars/conv1",
        "model/graph",
        "probe/input",
        "units/conv1",
    ]


@pytest.mark.parametrize(
    ("model", "probe", "extra", "message"),
    [
        ("missing.keras", "probe.npy", [], "model file .* does not exist"),
        ("garbage.keras", "probe.npy", [], "is not a Keras model that Keras can load"),
        ("images", "probe.npy", [], "is a folder .*model.save"),
        ("model.keras", "nope.png", [], "probe file .* does not exist"),
        (
            "model.keras",
            "probe.npy",
            ["--exemplars", "no.npy"],
            "exemplars file .* not exist",
        ),
        ("model.keras", "gray.png", [], "has 1 colour channel.* takes 3; convert it"),
        (
            "model.keras",
            "probe.npy",
            ["--layers", "conv9"],
            "no layer 'conv9'.*Closest",
        ),
        ("model.keras", "probe.npy", ["--deconv", "--layers", "logits"], "no spatial"),
    ],
)
def test_failures_exit_1_with_a_clear_message(
    saved, tmp_path, capsys, model, probe, extra, message
):
    args = [
        "log",
        str(saved / model),
        "--probe",
        str(saved / probe),
        "--logdir",
        str(tmp_path),
    ]
    assert cli.main([*args, *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tb-netviz: error: ")
    assert re.search(message, err), err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["log", "model.keras", "--logdir", "x"])  # no --probe
    assert stop.value.code == 2
    assert "--probe" in capsys.readouterr().err


def test_console_script_help_and_serve(saved, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    bindir = os.path.dirname(sys.executable)
    help_text = subprocess.run(
        [os.path.join(bindir, "tb-netviz"), "log", "--help"],
        capture_output=True,
        text=True,
    )
    assert help_text.returncode == 0 and "tb-netviz log model.keras" in help_text.stdout
    logdir = tmp_path / "logs"
    args = ["log", str(saved / "model.keras"), "--probe", str(saved / "probe.npy")]
    assert cli.main([*args, "--logdir", str(logdir / "mine")]) == 0
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tb_netviz", "serve", str(logdir), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        runs = {}
        while time.monotonic() < deadline and not runs:
            try:
                status, _, body = get(
                    f"http://127.0.0.1:{port}/data/plugin/netviz/runs", 2
                )
                runs = json.loads(body)["runs"] if status == 200 else {}
            except OSError:
                pass
            time.sleep(0.5)
        assert sorted(runs) == ["mine/netviz"]
        assert sorted(runs["mine/netviz"]) == ["activations", "model", "probe", "units"]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_saved_model_gets_sanity_and_the_checks_of_its_examples(
    saved, tmp_path, capsys
):
    """The trust signals of `fit` on a saved model: `--sanity` records and, with
    `--exemplars`, every feature visualization's checks against real examples."""
    logdir = tmp_path / "trusted"
    args = ["log", str(saved / "model.keras"), "--probe", str(saved / "probe.npy")]
    extra = ["--layers", "conv2", "--ascent", "--sanity"]
    extra += ["--exemplars", str(saved / "images")]
    assert cli.main([*args, "--logdir", str(logdir), *extra]) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"tb-netviz: probe: 2 inputs of 16x16 pixels, 3 channels; values "
        r"0\.\d+\.\.0\.\d+ used as they are; input range 0\.\.1 "
        r"\(inferred from the values\)\n",
        out,
    ), out
    assert (
        "tb-netviz: exemplars: 3 images of 16x16 pixels, 3 channels; PNG/JPEG values "
        "0..255 mapped linearly onto the input range 0..1 (inferred from the probe's "
        "values)\n" in out
    )
    assert sorted(read_records(f"{logdir}/netviz")) == [
        "activations/conv2",
        "ascent/conv2",
        "exemplars/conv2",
        "model/graph",
        "probe/input",
        "sanity/conv2",
        "units/conv2",
    ]
    client = make_client(str(tmp_path))[0]

    def info(tag):
        query = {"run": "trusted/netviz", "tag": tag}
        return client.get(f"{PREFIX}/steps", query_string=query).json["steps"][0][
            "info"
        ]

    assert info("sanity/conv2")["methods"]
    ascent = info("ascent/conv2")
    checks, channels = ascent["checks"], ascent["channels"]
    # Each channel is checked against its best real example (the Checks block).
    assert len(checks["exemplar_objective"]) == len(channels) > 0
    assert all(
        isinstance(v, float) for v in checks["exemplar_objective"] if v is not None
    )
    assert any(v is not None for v in checks["exemplar_objective"])
    assert len(checks["processing_similarity"]) == len(channels)
