"""`pictures.activations`: decoding a tile gives back the layer's real output."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from models import data, nested_cnn, small_cnn

from tb_netviz import writer
from tb_netviz.methods import layer_activations
from tb_netviz.pictures import activations as pictures


def decode_tile(info: dict, image: np.ndarray, sample: int, k: int) -> np.ndarray:
    """Implements the README's decoding rule for tile k of one probe's grid."""
    layout = info["layout"]
    row, col = divmod(k, layout["cols"])
    top = row * (layout["tile_height"] + layout["pad"])
    left = col * (layout["tile_width"] + layout["pad"])
    q = image[top : top + layout["tile_height"], left : left + layout["tile_width"]]
    lo, hi = info["ranges"][sample][k]
    return lo + q.astype(np.float64) / info["qmax"] * (hi - lo)


@pytest.mark.parametrize(
    ("make_model", "layer"),
    [(small_cnn, "conv1"), (small_cnn, "conv2"), (nested_cnn, "backbone/block1_conv2")],
)
def test_decoded_tiles_match_the_layer_output(make_model, layer):
    x, _ = data(5)
    acts = layer_activations(make_model(), x, [layer])[layer]
    info, grids = pictures.record(acts)
    pngs = [tf.io.decode_png(writer.encode_png(g)).numpy()[..., 0] for g in grids]
    assert info["output_shape"] == list(acts.shape)
    assert info["channels"] == list(range(acts.shape[-1]))
    for sample in range(len(x)):
        for k, channel in enumerate(info["channels"]):
            real = acts[sample, :, :, channel]
            lo, hi = info["ranges"][sample][k]
            assert (lo, hi) == pytest.approx((real.min(), real.max()), rel=1e-6)
            decoded = decode_tile(info, pngs[sample], sample, k)
            # One quantization step of 8 bits, half of it after rounding.
            np.testing.assert_allclose(decoded, real, atol=(hi - lo) / 255 / 2 + 1e-6)


def test_stats_are_per_channel_over_probes_and_positions():
    acts = np.random.default_rng(0).normal(size=(3, 4, 4, 5)).astype(np.float32)
    info, _ = pictures.record(acts, max_channels=2)
    assert info["channels"] == [0, 1]
    assert info["channels_omitted"] == 3
    np.testing.assert_allclose(
        info["stats"]["mean"], acts[..., :2].mean((0, 1, 2)), rtol=1e-5
    )
    np.testing.assert_allclose(
        info["stats"]["frac_positive"], (acts[..., :2] > 0).mean((0, 1, 2))
    )


def test_dense_is_a_strip_of_one_pixel_tiles():
    acts = np.array([[1.0, -2.0, 3.0], [0.0, 0.0, 0.0]], np.float32)
    info, grids = pictures.record(acts)
    assert grids.shape == (2, 1, 3)
    assert info["layout"] == {
        "rows": 1,
        "cols": 3,
        "tile_height": 1,
        "tile_width": 1,
        "pad": 0,
    }
    assert info["ranges"][0] == [[1.0, 1.0], [-2.0, -2.0], [3.0, 3.0]]


def test_sequence_is_time_by_channel():
    acts = np.arange(2 * 5 * 3, dtype=np.float32).reshape(2, 5, 3)
    info, grids = pictures.record(acts)
    assert grids.shape == (2, 5, 3)
    for k in range(3):
        np.testing.assert_allclose(
            decode_tile(info, grids[1], 1, k)[:, 0], acts[1, :, k], atol=12 / 510 + 1e-6
        )


def test_big_layer_is_capped_and_says_what_was_left_out():
    acts = np.random.default_rng(0).normal(size=(2, 224, 224, 512)).astype(np.float32)
    info, grids = pictures.record(acts, max_channels=64, max_tile_size=64)
    assert info["channels_total"] == 512
    assert info["channels_omitted"] == 448
    assert info["downsample"] == 4
    assert info["layout"]["tile_height"] == 56
    assert grids.shape == (2, 8 * 57 - 1, 8 * 57 - 1)
    png = writer.encode_png(grids[0])
    assert len(png) < 2 * 2**20  # "a few MB at most", here well under


def test_nonfinite_values_are_flagged_and_kept_out_of_ranges():
    acts = np.ones((1, 3, 3, 2), np.float32)
    acts[0, 0, 0, 0] = np.nan
    acts[0, 1, 1, 0] = 5.0
    info, grids = pictures.record(acts)
    assert info["nonfinite"] is True
    assert info["nonfinite_tiles"] == [[0]]
    assert info["ranges"][0][0] == [1.0, 5.0]
    assert grids[0][0, 0] == 0


def _histograms(run_dir) -> dict[str, tuple[str, np.ndarray]]:
    """`{tag: (plugin name, tensor)}` of the event files under `run_dir`."""
    import glob

    found = {}
    for path in glob.glob(f"{run_dir}/events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                found[value.tag] = (plugin, tf.make_ndarray(value.tensor))
    return found


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(0).normal(0.0, 3.0, 5000),  # both signs
        np.maximum(np.random.default_rng(1).normal(0.0, 1.0, (8, 16, 16, 4)), 0.0),
        np.arange(40.0),  # values on the bucket edges
        np.full(7, 2.5),  # one distinct value
        np.zeros(0),  # nothing
    ],
)
def test_histogram_buckets_are_tensorboards(tmp_path, values):
    """What `tf.summary.histogram` writes for the same values, counts exactly,
    and written with its plugin so TensorBoard's dashboards read it."""
    run = tmp_path / "run"
    with tf.summary.create_file_writer(str(run)).as_default():
        tf.summary.histogram("theirs", values, step=3)
        assert writer.write_histogram("ours", pictures.histogram_buckets(values), 3)
    tf.summary.flush()
    found = _histograms(run)
    (their_plugin, theirs), (our_plugin, ours) = found["theirs"], found["ours"]
    assert our_plugin == their_plugin == "histograms"
    assert ours.dtype == theirs.dtype == np.float64 and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours[:, 2], theirs[:, 2])
    np.testing.assert_allclose(ours[:, :2], theirs[:, :2], rtol=1e-12, atol=1e-12)
    assert ours[:, 2].sum() == values.size
