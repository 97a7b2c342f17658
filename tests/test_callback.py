"""NetVizCallback with real `model.fit`, read back from the event files."""

from __future__ import annotations

import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from logs import read_records
from models import compiled, data, nested_cnn, small_cnn
from tensorboard.backend.event_processing import event_accumulator

from tb_netviz import NetVizCallback, metadata
from tb_netviz.loggers import Activations, Ascent, Deconv


def test_fit_two_epochs_writes_exactly_the_chosen_tags(tmp_path):
    x, y = data()
    model = compiled(small_cnn())
    log_dir = str(tmp_path / "run")
    cb = NetVizCallback(
        log_dir,
        probe=x[:4],
        layers=["conv1", "conv2", "logits"],
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    model.fit(x, y, epochs=2, batch_size=16, callbacks=[cb], verbose=0)
    assert read_records(f"{log_dir}/netviz") == {
        "activations/conv1": [0, 1],
        "activations/conv2": [0, 1],
        "activations/logits": [0, 1],
        "model/graph": [0],
        "probe/input": [0],
    }
    files = sorted(
        os.path.relpath(f, log_dir)
        for f in glob.glob(f"{log_dir}/**/*", recursive=True)
        if os.path.isfile(f)
    )
    assert len(files) == 1 and files[0].startswith("netviz/events.out.tfevents")
    assert cb.failures == []
    assert cb.hook_seconds > 0


def test_shares_log_dir_with_keras_tensorboard(tmp_path):
    x, y = data()
    log_dir = str(tmp_path / "run")
    callbacks = [
        keras.callbacks.TensorBoard(log_dir, write_graph=False),
        NetVizCallback(
            log_dir,
            probe=x[:2],
            layers=["conv1"],
            ascent=None,
            deconv=None,
            units=None,
            sanity=None,
        ),
    ]
    compiled(small_cnn()).fit(x, y, epochs=2, callbacks=callbacks, verbose=0)
    assert sorted(os.listdir(log_dir)) == ["netviz", "train"]
    assert read_records(f"{log_dir}/netviz") == {
        "activations/conv1": [0, 1],
        "model/graph": [0],
        "probe/input": [0],
    }
    assert "activations/conv1" not in read_records(f"{log_dir}/train")


def test_update_freq_in_batches_uses_the_batch_count_as_step(tmp_path):
    x, y = data(64)
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:2],
        layers=["conv2"],
        update_freq=3,
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    compiled(small_cnn()).fit(x, y, epochs=2, batch_size=16, callbacks=[cb], verbose=0)
    assert read_records(f"{tmp_path}/netviz") == {
        "activations/conv2": [3, 6],
        "model/graph": [3],
        "probe/input": [3],
    }


def test_activations_freq_every_second_epoch(tmp_path):
    x, y = data()
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:2],
        layers=["conv1"],
        activations=Activations(freq=2),
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    compiled(small_cnn()).fit(x, y, epochs=4, callbacks=[cb], verbose=0)
    assert read_records(f"{tmp_path}/netviz") == {
        "activations/conv1": [1, 3],
        "model/graph": [1],
        "probe/input": [1],
    }


def test_default_layers_are_printed_with_their_reason(tmp_path, capsys):
    x, y = data()
    cb = NetVizCallback(
        str(tmp_path), probe=x[:2], ascent=None, deconv=None, units=None, sanity=None
    )
    compiled(small_cnn()).fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    assert cb.layers == ["conv1", "pool", "conv2"]
    printed = capsys.readouterr().out
    assert "showing conv1 (the stem's first non-linearity); pool (" in printed
    assert "conv2 (the last feature map before GlobalAveragePooling2D)" in printed


def test_nested_model_layers_by_path(tmp_path):
    x, y = data()
    model = nested_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    layers = ["backbone/block1_conv1", "probs"]
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:3],
        layers=layers,
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    model.fit(x, y % 3, epochs=1, callbacks=[cb], verbose=0)
    assert set(read_records(f"{tmp_path}/netviz")) == {
        "activations/backbone/block1_conv1",
        "activations/probs",
        "model/graph",
        "probe/input",
    }


def test_unknown_layer_fails_before_the_first_batch_and_names_close_layers(tmp_path):
    x, y = data()
    model = compiled(small_cnn())
    weights = [w.copy() for w in model.get_weights()]
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:2],
        layers=["conv3"],
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    with pytest.raises(
        ValueError,
        match=r"no layer 'conv3'\. Closest: conv2, conv1\. Layer paths: conv1, pool",
    ):
        model.fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # no batch ran


@pytest.mark.parametrize(
    ("probe", "message"),
    [
        (
            np.zeros((4, 28, 28)),
            r"probe has shape \(4, 28, 28\) but model 'small_cnn' "
            r"expects inputs of shape \(None, 16, 16, 3\)",
        ),
        (np.zeros((100, 16, 16, 3)), "probe has 100 inputs; pass between 1 and 64"),
        (np.array([["a"] * 3] * 2), "probe has dtype <U1"),
    ],
)
def test_probe_that_does_not_fit_says_expected_and_given(tmp_path, probe, message):
    x, y = data()
    cb = NetVizCallback(
        str(tmp_path),
        probe=probe,
        layers=["conv1"],
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    with pytest.raises(ValueError, match=message):
        compiled(small_cnn()).fit(x, y, epochs=1, callbacks=[cb], verbose=0)


def test_probe_from_a_dataset_batch_and_whole_dataset(tmp_path):
    x, y = data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    cb = NetVizCallback(
        str(tmp_path),
        probe=next(iter(ds)),
        layers=["conv1"],
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    compiled(small_cnn()).fit(ds, epochs=1, callbacks=[cb], verbose=0)
    assert read_records(f"{tmp_path}/netviz") == {
        "activations/conv1": [0],
        "model/graph": [0],
        "probe/input": [0],
    }
    with pytest.raises(ValueError, match="whole tf.data.Dataset; pass one small batch"):
        NetVizCallback(
            str(tmp_path), probe=ds, ascent=None, deconv=None, units=None, sanity=None
        )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Activations(freq=0),
            r"Activations\(freq=...\) must be an integer >= 1",
        ),
        (lambda: Ascent(freq=-2), r"Ascent\(freq=...\) must be an integer >= 1"),
        (lambda: Deconv(freq=1.5), r"Deconv\(freq=...\) must be an integer >= 1"),
        (lambda: {"update_freq": 0}, "update_freq must be an integer >= 1"),
        (lambda: {"update_freq": "batch"}, "update_freq must be an integer >= 1"),
    ],
)
def test_bad_frequencies(make, message):
    with pytest.raises(ValueError, match=message):
        kwargs = make()
        NetVizCallback("/tmp/x", probe=np.zeros((1, 16, 16, 3)), **kwargs)


def test_a_logger_setting_is_checked_before_the_first_batch(tmp_path):
    x, y = data()
    cb = NetVizCallback(
        str(tmp_path), probe=x[:2], activations=Activations(max_channels=0)
    )
    model = compiled(small_cnn())
    with pytest.raises(ValueError, match="max_channels must be an integer >= 1"):
        model.fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    assert model.optimizer.iterations.numpy() == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"ascent_freq": 5},
            r"unexpected keyword ascent_freq=.*ascent=Ascent\(freq=...\)",
        ),
        (
            {"examples": 1},
            r"unexpected keyword examples=; each kind is a spec.*exemplars=Exemplars",
        ),
        ({"ascent": Deconv()}, r"ascent= takes Ascent\(...\) or None, got Deconv"),
    ],
)
def test_a_misplaced_or_misspelled_kind_is_a_type_error(kwargs, message):
    with pytest.raises(TypeError, match=message):
        NetVizCallback("/tmp/x", probe=np.zeros((1, 16, 16, 3)), **kwargs)


def test_a_misspelled_setting_names_the_spec_and_its_fields():
    with pytest.raises(
        TypeError,
        match="Ascent has no setting top_k; its settings are freq, layers, channels",
    ):
        Ascent(top_k=3)


def test_the_signature_names_no_kind():
    import inspect

    params = inspect.signature(NetVizCallback.__init__).parameters
    assert len(params) - 1 <= 12  # self
    # `probe` is the probe batch (the probe kind logs it as it is).
    assert not set(params) & set(metadata.GROUPS) - {"probe"}


def test_runtime_failure_warns_records_and_training_goes_on(tmp_path, monkeypatch):
    from tb_netviz import writer

    def broken(kind, layer, *args):
        if layer == "conv1":
            raise RuntimeError("disk full")
        return original(kind, layer, *args)

    original = writer.write_record
    monkeypatch.setattr(writer, "write_record", broken)
    x, y = data()
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:2],
        layers=["conv1", "conv2"],
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    with pytest.warns(
        RuntimeWarning, match="could not log activations of layer 'conv1'"
    ):
        history = compiled(small_cnn()).fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    assert len(history.history["loss"]) == 2
    assert [f[:3] for f in cb.failures] == [
        (0, "activations", "conv1"),
        (1, "activations", "conv1"),
    ]
    assert "disk full" in cb.failures[0][3]
    assert read_records(f"{tmp_path}/netviz") == {
        "activations/conv2": [0, 1],
        "model/graph": [0],
        "probe/input": [0],
    }


def test_written_values_follow_the_log_format(tmp_path):
    x, y = data()
    cb = NetVizCallback(
        str(tmp_path),
        probe=x[:3],
        layers=["conv2"],
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    compiled(small_cnn()).fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    acc = event_accumulator.EventAccumulator(f"{tmp_path}/netviz")
    acc.Reload()
    for tag, series in (
        ("activations/conv2", "images"),
        ("activations.info/conv2", "info"),
    ):
        md = acc.SummaryMetadata(tag)
        # The info series promises compact step JSON (the reader's fast listing).
        promise = {"step_json": "compact"} if series == "info" else {}
        assert metadata.parse_plugin_content(md.plugin_data.content) == {
            "version": 2,
            "kind": "activations",
            "layer": "conv2",
            "series": series,
            **promise,
        }
    images = tf.make_ndarray(acc.Tensors("activations/conv2")[0].tensor_proto)
    assert images.shape == (3,)
    assert all(v.startswith(b"\x89PNG") for v in images)
    info_value = tf.make_ndarray(acc.Tensors("activations.info/conv2")[0].tensor_proto)
    assert info_value.shape == ()
    info = metadata.decode_step_info(info_value.item())
    assert info["samples"] == 3 and info["channels"] == list(range(16))
    assert info["seconds"] > 0
