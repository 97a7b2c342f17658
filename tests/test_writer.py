"""`writer`: writes what it is given, as the two series of format version 2."""

from __future__ import annotations

import logs
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from tb_netviz import metadata, writer


def test_a_record_is_images_then_step_json(tmp_path):
    pngs = [writer.encode_png(np.full((3, 2), v, np.uint8)) for v in (0, 255)]
    with logs.event_writer(tmp_path):
        assert writer.write_record("ascent", "a/b", 7, {"x": float("nan")}, pngs)
        assert writer.write_record("probe", "input", 7, {})  # no images: JSON only
    acc = event_accumulator.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert sorted(acc.Tags()["tensors"]) == [
        "ascent.info/a/b",
        "ascent/a/b",
        "probe.info/input",
    ]
    (images,) = acc.Tensors("ascent/a/b")
    decoded = [
        tf.io.decode_png(p).numpy() for p in tf.make_ndarray(images.tensor_proto)
    ]
    assert [d.shape for d in decoded] == [(3, 2, 1)] * 2 and decoded[1].min() == 255
    (info,) = acc.Tensors("ascent.info/a/b")
    assert (images.step, info.step) == (7, 7)
    assert metadata.decode_step_info(tf.make_ndarray(info.tensor_proto).item()) == {
        "version": 2,
        "kind": "ascent",
        "layer": "a/b",
        "samples": 2,
        "x": None,  # non-finite numbers are written as null
    }


def test_without_a_default_writer_nothing_is_written():
    assert writer.write_record("activations", "c", 0, {}, []) is False


@pytest.mark.parametrize(
    "shape", [(5, 7), (5, 7, 1), (3, 4, 2), (6, 2, 3), (1, 9, 4), (0, 3)]
)
def test_png_round_trips_through_tensorflow_and_browsers_decoder(shape):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    png = writer.encode_png(image)
    if shape[0] == 0:  # an empty picture is still a valid header (never written)
        assert png.startswith(b"\x89PNG")
        return
    decoded = tf.io.decode_png(png).numpy()
    np.testing.assert_array_equal(decoded.reshape(image.shape), image)
