"""A GPU must not be wasted (issue 20, part 4): the heavy kinds' traced
functions run on the device with no host round trip inside them, and the
feature visualization's step loop syncs with the host per chunk, not per step.

Checked on the CPU (CI has no GPU), on what decides it on any device:

- no traced function of a kind contains an op that calls back into Python
  (`PyFunc`, `EagerPyFunc`, `PyFuncStateless`: what `tf.py_function`,
  `tf.numpy_function` and a `.numpy()` inside the loop would need), nested
  while/cond bodies included;
- the number of device-to-host reads (`EagerTensor.numpy`) of one feature
  visualization does not grow with its steps.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import tensorflow as tf
from models import data, small_cnn
from tensorflow.python.framework import ops

from tb_netviz.methods import Attributor, Deconvolver, FeatureVisualizer, top_examples

HOST_OPS = {"PyFunc", "EagerPyFunc", "PyFuncStateless"}


@pytest.fixture
def functions(monkeypatch):
    """Every `tf.function` NetViz creates while the test runs."""
    made = []
    original = tf.function

    def recording(func=None, **kwargs):
        if func is None:  # @tf.function(...) as a decorator factory
            return lambda f: _keep(made, original(f, **kwargs))
        return _keep(made, original(func, **kwargs))

    monkeypatch.setattr(tf, "function", recording)
    return made


def _keep(made: list, fn):
    made.append(fn)
    return fn


def _op_types(fn) -> set[str]:
    types = set()
    for concrete in fn._list_all_concrete_functions():
        graph = concrete.graph.as_graph_def()
        types |= {n.op for n in graph.node}
        for f in graph.library.function:  # while / cond bodies, gradients
            types |= {n.op for n in f.node_def}
    return types


def _assert_on_device(functions, least: int = 1):
    traced = [f for f in functions if f._list_all_concrete_functions()]
    assert len(traced) >= least
    for fn in traced:
        assert not _op_types(fn) & HOST_OPS, fn


def test_every_heavy_kind_runs_without_calling_back_into_python(functions):
    model = small_cnn()
    x, _ = data(8)
    FeatureVisualizer(model, "conv2")([0, 1], steps=8, budget_s=60.0)
    Deconvolver(model, "conv2")(x[:2], channels=[0])
    top_examples(model, "conv2", x, channels=None, k=2)
    Attributor(model, ("gradcam", "saliency", "integrated_gradients"))(x[:2])
    _assert_on_device(functions, least=4)


class _Reads:
    """Counts `EagerTensor.numpy()` calls: each is a device-to-host copy."""

    def __init__(self, monkeypatch):
        self.count = 0
        original = ops._EagerTensorBase.numpy

        def numpy(tensor):
            self.count += 1
            return original(tensor)

        monkeypatch.setattr(ops._EagerTensorBase, "numpy", numpy)


def test_the_ascent_loop_reads_back_per_chunk_not_per_step(monkeypatch):
    model = small_cnn()
    reads = {}
    visualizer = FeatureVisualizer(model, "conv2")
    visualizer([0, 1], steps=4, budget_s=60.0)  # traces
    for steps in (16, 128):
        with monkeypatch.context() as m:
            counter = _Reads(m)
            result = visualizer([0, 1], steps=steps, budget_s=60.0)
        assert np.isfinite(np.asarray(result.images)).all()
        reads[steps] = counter.count
    # 8x the steps: the same handful of reads (the chunks halve what is
    # left of the budget, so their number grows like log(steps) at most).
    assert reads[128] <= reads[16] + 4, reads
