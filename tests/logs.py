"""The one log writer of the tests: real event files through `tf.summary`."""

from __future__ import annotations

import contextlib

import numpy as np
import tensorflow as tf
from tensorboard.compat.proto import summary_pb2

from tb_netviz import metadata, writer
from tb_netviz.pictures import activations


@contextlib.contextmanager
def event_writer(run_dir: str):
    """A `tf.summary` file writer for `run_dir`, the default inside the block."""
    w = tf.summary.create_file_writer(str(run_dir))
    with w.as_default():
        yield w
    w.close()


def activations_record(layer: str, acts: np.ndarray, step: int, **caps) -> bool:
    """Writes `acts` `(N, ...)` as an activations record (default writer)."""
    info, grids = activations.record(acts, **caps)
    return writer.write_record(
        "activations", layer, step, info, [writer.encode_png(g) for g in grids]
    )


def raw(tag: str, value, step: int, content: bytes, blobs: bool = True) -> None:
    """Writes any value under any tag and plugin content (hand-made, maybe broken).

    Args:
      tag, value, step: as `tf.summary.write`.
      content: the raw `plugin_data.content`.
      blobs: blob-sequence data class if True, else tensor.
    """
    md = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=metadata.PLUGIN_NAME, content=content
        ),
        data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE
        if blobs
        else summary_pb2.DATA_CLASS_TENSOR,
    )
    tf.summary.write(tag, tf.constant(value), step=step, metadata=md)


def read_records(run_dir: str) -> dict[str, list[int]]:
    """`{record tag: [steps]}` of one run directory, read from its event files.

    Checks the version-2 pairing on the way: every tag is a record's step-JSON
    series (`<kind>.info/<layer>`) or its images (`<kind>/<layer>`), and an
    images series has exactly the steps of its step JSON.
    """
    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(
        str(run_dir), size_guidance={event_accumulator.TENSORS: 0}
    )
    acc.Reload()
    steps = {
        tag: [e.step for e in acc.Tensors(tag)]
        for tag in acc.Tags()["tensors"]
        if acc.SummaryMetadata(tag).plugin_data.plugin_name == metadata.PLUGIN_NAME
    }
    records = {}
    for tag, found in steps.items():
        kind, _, layer = tag.partition("/")
        if kind.endswith(".info"):
            records[metadata.make_tag(kind[: -len(".info")], layer)] = found
    for tag, found in steps.items():
        if not tag.partition("/")[0].endswith(".info"):
            assert tag in records, f"images {tag!r} without step JSON"
            assert found == records[tag], (
                f"{tag}: images at {found}, JSON at {records[tag]}"
            )
    return records


def attribution_record(layer: str, step: int, inputs: np.ndarray, maps, **kw) -> bool:
    """Writes an attribution record (default writer) made by the real encoder.

    Args:
      layer: the output layer the maps explain.
      step: the step.
      inputs: float `(N, H, W, C)`, the probe inputs.
      maps: `{method: float (N, T, H, W)}`.
      **kw: the other arguments of `pictures.attribution.record` (`targets`,
        `probabilities`, `faithfulness`, `input_range`, `signed`, `facts`,
        `completeness`).
    """
    from tb_netviz.pictures import attribution

    info, rows = attribution.record(inputs, maps, **kw)
    return writer.write_record(
        "attribution", layer, step, info, [writer.encode_png(r) for r in rows]
    )
