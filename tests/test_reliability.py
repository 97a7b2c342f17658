"""Broken logs, interrupted training, NaNs, huge layers, remote paths, bad config."""

from __future__ import annotations

import glob
import os
import shutil

import keras
import logs
import numpy as np
import pytest
import tensorflow as tf
from logs import read_records
from models import compiled, data, small_cnn
from plugin_client import PREFIX, make_client
from tensorboard import context
from tensorboard.backend.event_processing import data_provider as dp
from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
from tensorboard.data import provider

from tb_netviz import NetVizCallback
from tb_netviz.loggers import ActivationsLogger
from tb_netviz.methods.common import layers as layers_lib


def _fit_run(log_dir: str, epochs: int = 2) -> None:
    x, y = data()
    cb = NetVizCallback(
        log_dir,
        probe=x[:2],
        layers=["conv1", "conv2"],
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    compiled(small_cnn()).fit(x, y, epochs=epochs, callbacks=[cb], verbose=0)


def test_truncated_and_garbage_event_files_do_not_hide_good_runs(tmp_path):
    _fit_run(str(tmp_path / "good"))
    _fit_run(str(tmp_path / "cut"))
    (event_file,) = glob.glob(str(tmp_path / "cut" / "netviz" / "events.*"))
    with open(event_file, "rb") as f:
        data_bytes = f.read()
    with open(event_file, "wb") as f:
        f.write(data_bytes[: len(data_bytes) * 2 // 3])
    garbage = tmp_path / "good" / "netviz" / "events.out.tfevents.1.garbage"
    garbage.write_bytes(np.random.default_rng(0).bytes(5000))
    client = make_client(str(tmp_path))[0]
    runs = client.get(f"{PREFIX}/runs").json["runs"]
    assert runs["good/netviz"]["activations"]["conv2"]["max_step"] == 1
    for run in runs:
        for layer, entry in runs[run]["activations"].items():
            query = {"run": run, "tag": entry["tag"]}
            steps = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
            for step in steps:
                assert step["info"]["layer"] == layer
                image = client.get(
                    f"{PREFIX}/image",
                    query_string={**query, "step": step["step"], "sample": 0},
                )
                assert image.status_code == 200


def test_empty_logdir_and_run_without_netviz_data(tmp_path):
    assert make_client(str(tmp_path))[0].get(f"{PREFIX}/runs").json == {"runs": {}}
    x, y = data()
    tb = keras.callbacks.TensorBoard(str(tmp_path / "scalars_only"))
    compiled(small_cnn()).fit(x, y, epochs=1, callbacks=[tb], verbose=0)
    assert make_client(str(tmp_path))[0].get(f"{PREFIX}/runs").json == {"runs": {}}


def test_step_with_zero_probe_inputs(tmp_path):
    with logs.event_writer(tmp_path / "r"):
        assert logs.activations_record("conv1", np.zeros((0, 14, 14, 8)), 0)
    client = make_client(str(tmp_path))[0]
    query = {"run": "r", "tag": "activations/conv1"}
    (step,) = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    assert step["samples"] == 0 and step["info"]["samples"] == 0
    image = client.get(
        f"{PREFIX}/image", query_string={**query, "step": 0, "sample": 0}
    )
    assert image.status_code == 404
    assert "has no step 0" in image.get_data(as_text=True)


class _StopAt(keras.callbacks.Callback):
    def __init__(self, epoch: int, batch: int, error: BaseException):
        super().__init__()
        self.at, self.error = (epoch, batch), error
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise self.error


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_interrupted_fit_leaves_every_written_step_readable(tmp_path, error):
    x, y = data(64)
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:2],
        layers=["conv1"],
        update_freq=2,
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    stop = _StopAt(1, 1, error)
    with pytest.raises(type(error)):
        compiled(small_cnn()).fit(
            x, y, epochs=3, batch_size=16, callbacks=[cb, stop], verbose=0
        )
    # Batches 2 and 4 in epoch 0, batch 6 in epoch 1, then the interruption.
    assert read_records(f"{tmp_path}/netviz") == {
        "activations/conv1": [2, 4, 6],
        "model/graph": [2],
        "probe/input": [2],
    }
    client = make_client(str(tmp_path))[0]
    steps = client.get(
        f"{PREFIX}/steps", query_string={"run": "netviz", "tag": "activations/conv1"}
    ).json["steps"]
    assert [s["info"]["samples"] for s in steps] == [2, 2, 2]


def test_nonfinite_activations_are_written_flagged_and_warned(tmp_path):
    x, y = data()
    inp = keras.Input((16, 16, 3))
    h = keras.layers.Conv2D(4, 3, name="linear_conv")(inp)
    out = keras.layers.Dense(4)(keras.layers.GlobalAveragePooling2D()(h))
    model = compiled(keras.Model(inp, out))
    probe = x[:2].copy()
    probe[0, 5, 5, 0] = np.nan  # a broken probe pixel: NaN in, NaN out
    cb = NetVizCallback(
        str(tmp_path),
        probe=probe,
        layers=["linear_conv"],
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    with pytest.warns(
        RuntimeWarning, match="non-finite values .* layer 'linear_conv' at step 0"
    ):
        history = model.fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    assert len(history.history["loss"]) == 1
    client = make_client(str(tmp_path))[0]
    query = {"run": "netviz", "tag": "activations/linear_conv"}
    (step,) = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    assert step["info"]["nonfinite"] is True
    image = client.get(
        f"{PREFIX}/image", query_string={**query, "step": 0, "sample": 0}
    )
    assert image.status_code == 200


def test_huge_layer_stays_within_the_caps(tmp_path):
    inp = keras.Input((224, 224, 3))
    model = keras.Model(
        inp, keras.layers.Conv2D(512, 3, padding="same", name="wide")(inp)
    )
    n = 4  # 4 x 224 x 224 x 512 activations: 400 MB of float32
    probe = np.random.default_rng(0).uniform(size=(n, 224, 224, 3)).astype(np.float32)
    with logs.event_writer(tmp_path / "r"):
        assert ActivationsLogger(model, probe, ["wide"]).log(0)
    client = make_client(str(tmp_path))[0]
    query = {"run": "r", "tag": "activations/wide"}
    (step,) = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    assert step["info"]["channels_omitted"] == 448
    sizes = [
        len(
            client.get(
                f"{PREFIX}/image", query_string={**query, "step": 0, "sample": i}
            ).data
        )
        for i in range(n)
    ]
    assert max(sizes) < 2**20  # under 1 MB per probe picture
    (event_file,) = glob.glob(str(tmp_path / "r" / "events.*"))
    assert os.path.getsize(event_file) < n * 2**20


def test_ram_filesystem_logdir_round_trip():
    log_dir = "ram://netviz_test/run1"
    _fit_run(log_dir)
    multiplexer = pem.EventMultiplexer(tensor_size_guidance={"netviz": 0})
    multiplexer.AddRunsFromDirectory("ram://netviz_test")
    multiplexer.Reload()
    data_provider = dp.MultiplexerDataProvider(multiplexer, "ram://netviz_test")
    ctx = context.RequestContext()
    listing = data_provider.list_blob_sequences(
        ctx, experiment_id="", plugin_name="netviz"
    )
    assert {run: sorted(tags) for run, tags in listing.items()} == {
        "run1/netviz": ["activations/conv1", "activations/conv2", "probe/input"]
    }
    values = data_provider.read_blob_sequences(
        ctx,
        experiment_id="",
        plugin_name="netviz",
        downsample=100,
        run_tag_filter=provider.RunTagFilter(tags=["activations/conv2"]),
    )
    steps = values["run1/netviz"]["activations/conv2"]
    assert [d.step for d in steps] == [0, 1]
    png = data_provider.read_blob(ctx, blob_key=steps[1].values[1].blob_key)
    assert png.startswith(b"\x89PNG")
    tf.io.gfile.rmtree("ram://netviz_test")


def test_callback_touches_log_paths_only_through_gfile(tmp_path, monkeypatch):
    import builtins

    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        assert str(tmp_path) not in str(file), f"plain open() on a log path: {file}"
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "makedirs", lambda *a, **k: pytest.fail("os.makedirs"))
    _fit_run(str(tmp_path / "run"), epochs=1)
    monkeypatch.undo()
    assert sorted(read_records(str(tmp_path / "run" / "netviz"))) == [
        "activations/conv1",
        "activations/conv2",
        "model/graph",
        "probe/input",
    ]


def test_nested_path_that_does_not_exist(tmp_path):
    from models import nested_cnn

    x, y = data()
    model = nested_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:2],
        layers=["backbone/nope"],
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    with pytest.raises(
        ValueError,
        match="no layer 'backbone/nope'.*Layer paths: scale, backbone, backbone/block1_conv1",
    ):
        model.fit(x, y % 3, epochs=1, callbacks=[cb], verbose=0)


def test_model_never_built_says_how_to_build_it():
    model = keras.Sequential([keras.layers.Dense(3, name="d")])
    with pytest.raises(ValueError, match="never built.*keras.Input"):
        ActivationsLogger(model, np.zeros((1, 4)), ["d"])


def test_non_tensorflow_backend_is_named(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(
        RuntimeError,
        match="needs the TensorFlow Keras backend.*KERAS_BACKEND=tensorflow",
    ):
        layers_lib.feature_model(small_cnn(), ["conv1"])


def test_no_stray_files_after_many_fits(tmp_path):
    _fit_run(str(tmp_path / "a"), epochs=1)
    shutil.rmtree(tmp_path / "a")
    _fit_run(str(tmp_path / "a"), epochs=1)
    assert os.listdir(tmp_path / "a") == ["netviz"]
